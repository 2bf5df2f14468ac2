/**
 * Middlewares on the real local Swarm, in the production layout (`swarmgate install`, hitless
 * delivery):
 * - forwardAuth: the auth service is a Swarm service (NGINX answering like Authelia's AuthRequest
 *   endpoint), reached on its task address over the overlay network like a backend;
 * - rateLimit with 2 proxy replicas published through the routing mesh: each replica counts on its
 *   own, and `scope: Cluster` gives each replica average / 2 (and burst / 2), so a client whose connections the mesh
 *   spreads over both replicas gets the cluster-wide average (docs/reference/middleware.md).
 * Needs the images (make images). Run under the Swarm lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, middleware, route } from '../helpers/specs';
import { backendRemoval, createBackend, docker, isProgrammed, removeWhenReleased, until } from '../helpers/swarm';

const PREFIX = `mw2i${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const APP = `${PREFIX}-app`;
const AUTH = `${PREFIX}-auth`;
const SSO = `${PREFIX}-sso`;
const LIMITED = `${PREFIX}-rl`;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let ssoPort = 0;

const AUTH_LOCATIONS = [
  'location = /verify {',
  '  if ($cookie_session = "alice") { add_header Remote-User alice; return 200; }',
  '  add_header Location "http://login.test/?rd=$http_x_original_url" always;',
  '  return 401;',
  '}',
].join(' ');

beforeAll(async () => {
  const [a, as, b, bs] = await freePorts(4);
  if (a === undefined || as === undefined || b === undefined || bs === undefined) throw new Error('no free ports');
  ssoPort = a;
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  createBackend(APP, NET, 1, 'location / { return 200 "app user=$http_remote_user\\n"; }');
  createBackend(AUTH, NET, 1, AUTH_LOCATIONS);
  await applyObject(port, middleware(`${PREFIX}-login`, { forwardAuth: { service: AUTH, port: 80, path: '/verify', responseHeaders: ['Remote-User'] } }));
  await applyObject(port, middleware(`${PREFIX}-limit`, { rateLimit: { average: 20, burst: 10, scope: 'Cluster' } }));
  await applyObject(port, cluster(SSO, { proxy: { replicas: 1, publish: { mode: 'host', http: a, https: as } } }));
  await applyObject(port, cluster(LIMITED, { proxy: { replicas: 2, publish: { mode: 'ingress', http: b, https: bs } } }));
  await applyObject(port, route(`${PREFIX}-wiki`, { serviceCluster: SSO, hosts: ['wiki.localhost'], middlewares: [`${PREFIX}-login`], rules: [{ backends: [{ service: APP, port: 80 }] }] }));
  await applyObject(port, route(`${PREFIX}-api`, { serviceCluster: LIMITED, hosts: ['api.localhost'], middlewares: [`${PREFIX}-limit`], rules: [{ backends: [{ service: APP, port: 80 }] }] }));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
}, 180_000);

afterAll(async () => {
  for (const r of [`${PREFIX}-wiki`, `${PREFIX}-api`]) await deleteObject(port, 'Route', r).catch(() => undefined);
  for (const c of [SSO, LIMITED]) await deleteObject(port, 'ServiceCluster', c).catch(() => undefined);
  for (const m of [`${PREFIX}-login`, `${PREFIX}-limit`]) await deleteObject(port, 'Middleware', m).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  await removeWhenReleased(backendRemoval([APP, AUTH], NET));
}, 180_000);

describe('forwardAuth on a real Swarm', () => {
  it('asks the auth service, a Swarm service, and copies its user to the app', async () => {
    await until('route programmed', () => isProgrammed(port, 'Route', `${PREFIX}-wiki`), 120_000);
    const alice = await until('alice let in', async () => {
      const r = await send({ port: ssoPort, host: 'wiki.localhost', path: '/', headers: { cookie: 'session=alice', 'remote-user': 'admin' } }).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    }, 60_000, 250);
    expect(alice.body.trim()).toBe('app user=alice');
    const anonymous = await send({ port: ssoPort, host: 'wiki.localhost', path: '/doc' });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.location).toBe('http://login.test/?rd=http://wiki.localhost/doc');
  });

  it('answers 502 marked forward-auth while the auth service has no task, and lets alice in again after', async () => {
    docker('service', 'scale', '--detach', `${AUTH}=0`);
    const down = await until('auth failure seen', async () => {
      const r = await send({ port: ssoPort, host: 'wiki.localhost', path: '/', headers: { cookie: 'session=alice' } }).catch(() => undefined);
      return r?.status === 502 ? r : undefined;
    }, 90_000, 500);
    expect(down.headers['x-swarmgate-error']).toBe('forward-auth');
    docker('service', 'scale', '--detach', `${AUTH}=1`);
    await until('alice let in again', async () => {
      const r = await send({ port: ssoPort, host: 'wiki.localhost', path: '/', headers: { cookie: 'session=alice' } }).catch(() => undefined);
      return r?.status === 200 ? true : undefined;
    }, 90_000, 500);
  });
});

/**
 * Offers 60 requests/s for 3 s to the proxy inside one proxy task (`docker exec`, node of the
 * image), a new connection each, and prints how many got 200 and 429. The routing mesh cannot be
 * reached on this test machine's loopback, so each replica is measured on its own.
 */
const OFFER = `
const http = require('node:http');
const offered = 180, statuses = [];
const started = Date.now();
let pending = offered;
for (let i = 0; i < offered; i++) {
  setTimeout(() => {
    const req = http.request({ host: '127.0.0.1', port: 80, path: '/', headers: { host: 'api.localhost' }, agent: false }, (res) => { res.resume(); res.on('end', () => { statuses.push(res.statusCode); if (--pending === 0) done(); }); });
    req.on('error', () => { statuses.push(0); if (--pending === 0) done(); });
    req.end();
  }, Math.max(0, started + (i * 1000) / 60 - Date.now()));
}
function done() { process.stdout.write(JSON.stringify({ ok: statuses.filter((s) => s === 200).length, limited: statuses.filter((s) => s === 429).length })); }
`;

describe('rateLimit with 2 proxy replicas on a real Swarm', () => {
  it('scope Cluster: each replica counts on its own and admits average / 2 (and burst / 2)', async () => {
    await until('route programmed', () => isProgrammed(port, 'Route', `${PREFIX}-api`), 120_000);
    const containers = await until('2 proxy tasks running', async () => {
      const ids = docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=sg-proxy-${LIMITED}`).split('\n').filter((l) => l.trim() !== '');
      return ids.length === 2 ? ids : undefined;
    }, 120_000, 1000);
    // Both serve the route (their agent has applied the config).
    await until('both replicas serve', async () => {
      const answers = containers.map((c) => docker('exec', c, 'node', '-e', "require('node:http').get({host:'127.0.0.1',port:80,headers:{host:'api.localhost'}},(r)=>process.stdout.write(String(r.statusCode))).on('error',()=>process.stdout.write('0'))").trim());
      return answers.every((a) => a === '200') ? true : undefined;
    }, 120_000, 1000);
    await new Promise((r) => setTimeout(r, 2000));
    const counts = containers.map((c) => JSON.parse(docker('exec', c, 'node', '-e', OFFER)) as { ok: number; limited: number });
    console.log(`rate limit average 20/s burst 10 scope Cluster, 2 replicas, 60 requests/s for 3 s to each: ${counts.map((c) => `${c.ok} admitted, ${c.limited} refused`).join('; ')}`);
    for (const c of counts) {
      expect(c.ok + c.limited).toBe(180);
      // Each replica: 10/s for 3 s plus its burst of 5 = 35, ±10 %.
      expect(c.ok).toBeGreaterThanOrEqual(31);
      expect(c.ok).toBeLessThanOrEqual(39);
    }
  });
});
