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
let limitedPort = 0;

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
  limitedPort = b;
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

describe('rateLimit with 2 proxy replicas on a real Swarm', () => {
  it('scope Cluster: each replica admits average / 2, so new connections spread by the mesh get the average', async () => {
    await until('route programmed', () => isProgrammed(port, 'Route', `${PREFIX}-api`), 120_000);
    await until('both replicas serve', async () => {
      const r = await send({ port: limitedPort, host: 'api.localhost', path: '/' }).catch(() => undefined);
      return r?.status === 200 ? true : undefined;
    }, 90_000, 500);
    await new Promise((r) => setTimeout(r, 2000));
    // One client offering 60 requests/s for 3 s, a new connection each (the mesh balances connections).
    const seconds = 3;
    const offered = 60 * seconds;
    const started = Date.now();
    const statuses: number[] = [];
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < offered; i++) {
      const due = started + (i * 1000) / 60;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      inFlight.push(send({ port: limitedPort, host: 'api.localhost', path: '/' }).then((r) => void statuses.push(r.status), () => void statuses.push(0)));
    }
    await Promise.all(inFlight);
    const admitted = statuses.filter((s) => s === 200).length;
    const refused = statuses.filter((s) => s === 429).length;
    console.log(`rate limit, 2 replicas, scope Cluster, average 20/s burst 10: ${admitted} admitted, ${refused} refused of ${offered} in ${seconds} s`);
    expect(admitted + refused).toBe(offered);
    // Each replica: 10/s for 3 s plus its burst of 5 (20 / 2 and 10 / 2): 2 × 35 = 70, ±10 %.
    expect(admitted).toBeGreaterThanOrEqual(63);
    expect(admitted).toBeLessThanOrEqual(77);
  });
});
