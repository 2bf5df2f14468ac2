/**
 * Middlewares on the real local Swarm, in the production layout (`swarmgate install`, hitless
 * delivery):
 * - forwardAuth: the auth service is a Swarm service (NGINX answering like Authelia's AuthRequest
 *   endpoint), reached on its task address over the overlay network like a backend;
 * (A rate limit with 2 proxy replicas is tested on the two-node swarm, test/multinode/rate-limit.test.ts:
 * two replicas on one node need the routing mesh, which this machine's kernel cannot provide.)
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
  const [a, as] = await freePorts(2);
  if (a === undefined || as === undefined) throw new Error('no free ports');
  ssoPort = a;
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  createBackend(APP, NET, 1, 'location / { return 200 "app user=$http_remote_user\\n"; }');
  createBackend(AUTH, NET, 1, AUTH_LOCATIONS);
  await applyObject(port, middleware(`${PREFIX}-login`, { forwardAuth: { service: AUTH, port: 80, path: '/verify', responseHeaders: ['Remote-User'] } }));
  await applyObject(port, cluster(SSO, { proxy: { replicas: 1, publish: { mode: 'host', http: a, https: as } } }));
  await applyObject(port, route(`${PREFIX}-wiki`, { serviceCluster: SSO, hosts: ['wiki.localhost'], middlewares: [`${PREFIX}-login`], rules: [{ backends: [{ service: APP, port: 80 }] }] }));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
}, 180_000);

afterAll(async () => {
  for (const r of [`${PREFIX}-wiki`]) await deleteObject(port, 'Route', r).catch(() => undefined);
  for (const c of [SSO]) await deleteObject(port, 'ServiceCluster', c).catch(() => undefined);
  for (const m of [`${PREFIX}-login`]) await deleteObject(port, 'Middleware', m).catch(() => undefined);
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
