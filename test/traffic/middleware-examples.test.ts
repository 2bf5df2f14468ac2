/**
 * The Middleware examples as shipped, with real traffic through a real NGINX: the example's specs are
 * loaded from examples/, only the Swarm is replaced (a loopback "task" for the service on a free port
 * instead of 8080, which a published Swarm port may hold, and the users secret as a file where the
 * proxy task would mount it).
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpecs } from '../../src/desired/load-specs';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { writeWorkerReadable } from '../helpers/worker-readable';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { startPolicyProxy, type PolicyProxy } from '../helpers/policy-proxies';
import type { DnsLabel } from '../../src/domain/brands';
import type { RouteObject } from '../../src/domain/object';
import { snapshot, task } from '../helpers/specs';

/** alice / alice-pw (bcrypt). */
const USERS = 'alice:$2b$05$fKjnwT0T2VS0rnHlnKqmKONPjAw2qJdjVX1nICK4VT3xLqXSOiZzO\n';
/** The example's routes with the backends' port moved to `port` (the loopback task's). */
const onPort = (routes: readonly RouteObject[], port: number): RouteObject[] =>
  routes.map((r) => ({ ...r, spec: { ...r.spec, rules: r.spec.rules.map((rule) => (rule.backends === undefined ? rule : { ...rule, backends: rule.backends.map((b) => ({ ...b, port: port as typeof b.port })) })) } }));
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('examples/basic-auth', () => {
  let proxy: PolicyProxy;
  let backend: Backend;
  beforeAll(async () => {
    const { desired, issues } = loadSpecs(['examples/basic-auth']);
    expect(issues).toEqual([]);
    const [appPort = 0] = await freePorts(1);
    backend = await startEcho('dashboard', 'dashboard@127.0.0.60', '127.0.0.60', appPort);
    const secretsDir = mkdtempSync(join(tmpdir(), 'sg-secrets-'));
    chmodSync(secretsDir, 0o755);
    writeWorkerReadable(join(secretsDir, 'staff-users-v1'), USERS);
    const snap = snapshot({ services: [{ name: 'dashboard', networks: ['app'] }], tasks: [task('dashboard', '127.0.0.60')], networks: [{ name: 'app' }], secrets: [{ name: 'staff-users-v1' }] });
    proxy = await startPolicyProxy('nginx', onPort(desired.routes.map((r) => r.object), appPort), (desired.middlewares ?? []).map((m) => m.object), snap, { secretsDir });
  }, 30_000);
  afterAll(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('asks for the staff login on the dashboard and passes the user on', async () => {
    const get = (path: string, headers: Record<string, string> = {}) => send({ port: proxy.http, host: 'dashboard.example.com', path, headers });
    expect((await get('/')).status).toBe(401);
    const ok = await get('/', { authorization: basic('alice', 'alice-pw'), 'x-remote-user': 'root' });
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.body) as EchoReply).headers['x-remote-user']).toBe('alice');
    expect((await get('/healthz')).status).toBe(200);
  });
});

describe('examples/cors', () => {
  let proxy: PolicyProxy;
  let backend: Backend;
  beforeAll(async () => {
    const { desired, issues } = loadSpecs(['examples/cors']);
    expect(issues).toEqual([]);
    const [appPort = 0] = await freePorts(1);
    backend = await startEcho('spa-api', 'spa-api@127.0.0.61', '127.0.0.61', appPort);
    const snap = snapshot({ services: [{ name: 'spa-api', networks: ['app'] }], tasks: [task('spa-api', '127.0.0.61')], networks: [{ name: 'app' }] });
    proxy = await startPolicyProxy('nginx', onPort(desired.routes.map((r) => r.object), appPort), (desired.middlewares ?? []).map((m) => m.object), snap);
  }, 30_000);
  afterAll(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it("answers the app's preflight and lets a preview deployment read the API with cookies", async () => {
    const pre = await send({ port: proxy.http, host: 'spa-api.example.com', path: '/orders', method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'DELETE' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-methods']).toBe('GET, POST, PUT, DELETE');
    expect(pre.headers['access-control-allow-credentials']).toBe('true');
    const r = await send({ port: proxy.http, host: 'spa-api.example.com', path: '/orders', headers: { origin: 'https://pr-42.preview.example.com' } });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('https://pr-42.preview.example.com');
    expect(r.headers['access-control-expose-headers']).toBe('X-Total-Count');
  });
});

describe('examples/ip-allow-rate-limit', () => {
  let proxy: PolicyProxy;
  let backend: Backend;
  beforeAll(async () => {
    const { desired, issues } = loadSpecs(['examples/ip-allow-rate-limit']);
    expect(issues).toEqual([]);
    const [appPort = 0] = await freePorts(1);
    backend = await startEcho('wiki', 'wiki@127.0.0.62', '127.0.0.62', appPort);
    const snap = snapshot({ services: [{ name: 'wiki', networks: ['app'] }], tasks: [task('wiki', '127.0.0.62')], networks: [{ name: 'app' }] });
    // The harness serves one cluster, `default`: the example's routes move there with its cluster's defaults.
    const defaults = desired.clusters.find((c) => c.object.metadata.name === 'intranet')?.object.spec.defaults.middlewares;
    expect(defaults).toEqual(['no-scanners']);
    const routes = onPort(desired.routes.map((r) => r.object), appPort).map((r) => ({ ...r, spec: { ...r.spec, serviceCluster: 'default' as DnsLabel } }));
    proxy = await startPolicyProxy('nginx', routes, (desired.middlewares ?? []).map((m) => m.object), snap, { defaults: { middlewares: defaults } });
  }, 30_000);
  afterAll(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('keeps /admin to the office networks (a loopback client is not in them)', async () => {
    expect((await send({ port: proxy.http, host: 'wiki.example.com', path: '/admin', localAddress: '127.0.0.1' })).status).toBe(403);
  });

  it('limits each client to 10/s with a burst of 20 (fair-use), answering 429 with Retry-After', async () => {
    const t0 = Date.now();
    const statuses: number[] = [];
    const limited: (string | string[] | undefined)[] = [];
    for (let i = 0; i < 60; i++) {
      const r = await send({ port: proxy.http, host: 'wiki.example.com', path: '/page', localAddress: '127.0.0.5' });
      statuses.push(r.status);
      if (r.status === 429) limited.push(r.headers['retry-after']);
    }
    const seconds = (Date.now() - t0) / 1000;
    const ok = statuses.filter((s) => s === 200).length;
    expect(ok + limited.length).toBe(60);
    // The bucket: 20 at once plus 10 per second of the run (and the first request).
    expect(ok).toBeGreaterThanOrEqual(21);
    expect(ok).toBeLessThanOrEqual(21 + Math.ceil(10 * seconds));
    expect(limited.length).toBeGreaterThan(0);
    expect(new Set(limited)).toEqual(new Set(['1']));
    // Another client has its own count.
    expect((await send({ port: proxy.http, host: 'wiki.example.com', path: '/page', localAddress: '127.0.0.6' })).status).toBe(200);
  });
});
