/**
 * Middleware policies with real traffic through a real NGINX and a real HAProxy running the rendered
 * configuration of the same specs. Loopback servers stand in for Swarm tasks; loopback source
 * addresses (127.0.0.1, 127.0.0.2, …) stand in for different clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { send, type RequestSpec } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { startPolicyProxy, type PolicyProxy, type ProxyKind } from '../helpers/policy-proxies';
import { middleware, route, snapshot, task } from '../helpers/specs';

const KINDS: readonly ProxyKind[] = ['nginx', 'haproxy'];
const proxies = new Map<ProxyKind, PolicyProxy>();
const backends: Backend[] = [];

const echo = (body: string): EchoReply => JSON.parse(body) as EchoReply;

beforeAll(async () => {
  const [appPort = 0] = await freePorts(1);
  backends.push(await startEcho('app', 'app@127.0.0.50', '127.0.0.50', appPort));
  const middlewares = [
    middleware('no-bad-client', { ipDeny: ['127.0.0.3'] }),
    middleware('office-only', { ipAllow: ['127.0.0.0/30', '::1'] }),
    middleware('admin-only', { ipAllow: ['127.0.0.1'] }),
  ];
  const routes = [
    route('open', { hosts: ['open.test'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('office', {
      hosts: ['office.test'],
      middlewares: ['office-only'],
      rules: [
        { backends: [{ service: 'app', port: appPort }] },
        { match: { pathPrefix: '/admin' }, middlewares: ['admin-only'], backends: [{ service: 'app', port: appPort }] },
        { match: { path: '/old' }, redirect: { path: '/new' } },
      ],
    }),
    route('typo', { hosts: ['typo.test'], middlewares: ['ofice-only'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
  ];
  const snap = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks: [task('app', '127.0.0.50')], networks: [{ name: 'app' }] });
  for (const kind of KINDS) proxies.set(kind, await startPolicyProxy(kind, routes, middlewares, snap, { defaults: { middlewares: ['no-bad-client'] } }));
}, 30_000);

afterAll(async () => {
  await Promise.all([...proxies.values()].map((p) => p.stop()));
  await Promise.all(backends.map((b) => b.close()));
});

describe.each(KINDS)('%s: client address lists (ipAllow / ipDeny)', (kind) => {
  const get = (spec: Omit<RequestSpec, 'port'>) => send({ port: proxies.get(kind)?.http ?? 0, ...spec });

  it('applies the cluster default deny list to every route, by the client address', async () => {
    expect((await get({ host: 'open.test', localAddress: '127.0.0.1' })).status).toBe(200);
    expect((await get({ host: 'open.test', localAddress: '127.0.0.2' })).status).toBe(200);
    expect((await get({ host: 'open.test', localAddress: '127.0.0.3' })).status).toBe(403);
  });

  it("lets only the route's allowed clients through, and the deny list still applies to them", async () => {
    const ok = await get({ host: 'office.test', path: '/x', localAddress: '127.0.0.2' });
    expect(ok.status).toBe(200);
    expect(echo(ok.body).url).toBe('/x');
    expect((await get({ host: 'office.test', localAddress: '127.0.0.4' })).status).toBe(403);
    // In office-only (127.0.0.0/30) but denied by the cluster default.
    expect((await get({ host: 'office.test', localAddress: '127.0.0.3' })).status).toBe(403);
  });

  it("requires every allow list: the route's and the rule's", async () => {
    expect((await get({ host: 'office.test', path: '/admin/users', localAddress: '127.0.0.1' })).status).toBe(200);
    expect((await get({ host: 'office.test', path: '/admin/users', localAddress: '127.0.0.2' })).status).toBe(403);
  });

  it('checks addresses before a redirect rule answers', async () => {
    const allowed = await get({ host: 'office.test', path: '/old', localAddress: '127.0.0.2' });
    expect(allowed.status).toBe(302);
    expect(allowed.headers.location).toMatch(/\/new$/);
    expect((await get({ host: 'office.test', path: '/old', localAddress: '127.0.0.5' })).status).toBe(403);
  });

  it('leaves a route naming a missing middleware out (never served without its policy)', async () => {
    const r = await get({ host: 'typo.test', localAddress: '127.0.0.1' });
    expect(r.status).toBe(503);
    const conds = proxies.get(kind)?.result.conditions['Route/typo'] ?? [];
    expect(conds.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'MiddlewareNotFound' });
  });
});
