/**
 * Middleware policies with real traffic through a real NGINX and a real HAProxy running the rendered
 * configuration of the same specs. Loopback servers stand in for Swarm tasks; loopback source
 * addresses (127.0.0.1, 127.0.0.2, …) stand in for different clients.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { writeWorkerReadable } from '../helpers/worker-readable';
import { send, type RequestSpec } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { startPolicyProxy, type PolicyProxy, type ProxyKind } from '../helpers/policy-proxies';
import { middleware, route, snapshot, task } from '../helpers/specs';

const KINDS: readonly ProxyKind[] = ['nginx', 'haproxy'];
const proxies = new Map<ProxyKind, PolicyProxy>();
const backends: Backend[] = [];

const echo = (body: string): EchoReply => JSON.parse(body) as EchoReply;
/** Every character either proxy's configuration treats specially. */
const MAINTENANCE = 'Back at 10:00 $HOME "x" %[src] \\ #{;}';
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * Users in the three hash formats NGINX reads (bcrypt, SHA-512 crypt, Apache MD5), as the Docker
 * secret holds them; passwords are `<user>-pw`. Made with Python's crypt and `openssl passwd -apr1`.
 */
const HTPASSWD = [
  'alice:$2b$05$fKjnwT0T2VS0rnHlnKqmKONPjAw2qJdjVX1nICK4VT3xLqXSOiZzO',
  'bob:$6$FBeBEWuBrJ.ihR06$E7k8pdVO3e27cP542rL//auA1p7IHZAf.Ev00TyeuYn0TycsIiNjjnhHufUB6sIWaKBttYIvkVZILELDBK.H8.',
  'carol:$apr1$sgtest$zAyNKDqSS45W/7moS4C1y.',
  '',
].join('\n');

beforeAll(async () => {
  const [appPort = 0] = await freePorts(1);
  backends.push(await startEcho('app', 'app@127.0.0.50', '127.0.0.50', appPort));
  // What /run/secrets holds in a proxy task: the users secret, readable by NGINX's workers' group only (root:nogroup 0440).
  const secretsDir = mkdtempSync(join(tmpdir(), 'sg-secrets-'));
  chmodSync(secretsDir, 0o755);
  writeWorkerReadable(join(secretsDir, 'staff-users'), HTPASSWD);
  const middlewares = [
    middleware('small-bodies', { requestBody: { maxSize: '64k' } }),
    middleware('gzip-json', { compression: { types: ['application/json'] } }),
    middleware('down', { maintenance: { retryAfter: '2m', message: MAINTENANCE } }),
    middleware('web-cors', { cors: { allowOrigins: ['https://app.example.com', 'https://*.example.org'], allowMethods: ['GET', 'PUT'], allowHeaders: ['Content-Type'], exposeHeaders: ['X-Total'], allowCredentials: true, maxAge: '10m' } }),
    middleware('staff-login', { basicAuth: { secret: 'staff-users', realm: 'Staff area', userHeader: 'X-Remote-User' } }),
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
    route('body', { hosts: ['body.test'], middlewares: ['small-bodies', 'gzip-json'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('down', { hosts: ['down.test'], middlewares: ['down'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('cors', { hosts: ['cors.test'], middlewares: ['web-cors'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('private', {
      hosts: ['private.test'],
      middlewares: ['staff-login'],
      rules: [{ backends: [{ service: 'app', port: appPort }], requestHeaders: { set: [{ name: 'X-Remote-User', value: 'from-edit' }] } }],
    }),
    route('typo', { hosts: ['typo.test'], middlewares: ['ofice-only'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
  ];
  const snap = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks: [task('app', '127.0.0.50')], networks: [{ name: 'app' }], secrets: [{ name: 'staff-users' }] });
  for (const kind of KINDS) proxies.set(kind, await startPolicyProxy(kind, routes, middlewares, snap, { defaults: { middlewares: ['no-bad-client'] }, secretsDir }));
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

describe('nginx: basicAuth', () => {
  const get = (headers: Record<string, string>) => send({ port: proxies.get('nginx')?.http ?? 0, host: 'private.test', path: '/doc', headers });

  it('asks for a login with the realm, and refuses a wrong password or an unknown user', async () => {
    const none = await get({});
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="Staff area"');
    expect((await get({ authorization: basic('alice', 'wrong') })).status).toBe(401);
    expect((await get({ authorization: basic('mallory', 'mallory-pw') })).status).toBe(401);
  });

  it.each([
    ['alice', 'bcrypt'],
    ['bob', 'SHA-512 crypt'],
    ['carol', 'Apache MD5'],
  ])('lets %s in (%s) and tells the backend who it is, whatever the client or an edit says', async (user) => {
    const r = await get({ authorization: basic(user, `${user}-pw`), 'x-remote-user': 'admin' });
    expect(r.status).toBe(200);
    expect(echo(r.body).headers['x-remote-user']).toBe(user);
  });

  it('still applies the cluster default address check before the login', async () => {
    const r = await send({ port: proxies.get('nginx')?.http ?? 0, host: 'private.test', localAddress: '127.0.0.3', headers: { authorization: basic('alice', 'alice-pw') } });
    expect(r.status).toBe(403);
  });
});

describe('haproxy: basicAuth', () => {
  it('is not supported: the route is Accepted=False UnsupportedValue and not served', async () => {
    const accepted = proxies.get('haproxy')?.result.conditions['Route/private']?.find((c) => c.type === 'Accepted');
    expect(accepted).toMatchObject({ status: 'False', reason: 'UnsupportedValue', message: expect.stringMatching(/middleware "staff-login": basicAuth is not supported by HAProxy/) });
    expect((await send({ port: proxies.get('haproxy')?.http ?? 0, host: 'private.test', headers: { authorization: basic('alice', 'alice-pw') } })).status).toBe(503);
  });
});

describe.each(KINDS)('%s: cors', (kind) => {
  const get = (headers: Record<string, string>, method = 'GET') => send({ port: proxies.get(kind)?.http ?? 0, host: 'cors.test', path: '/items', method, headers });
  const preflight = (origin: string) => get({ origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' }, 'OPTIONS');

  it('answers a preflight from an allowed origin itself, with the allowed methods, headers and max age', async () => {
    const r = await preflight('https://app.example.com');
    expect(r.status).toBe(204);
    expect(r.body).toBe('');
    expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(r.headers['access-control-allow-methods']).toBe('GET, PUT');
    expect(r.headers['access-control-allow-headers']).toBe('Content-Type');
    expect(r.headers['access-control-max-age']).toBe('600');
    expect(r.headers['access-control-allow-credentials']).toBe('true');
  });

  it('answers a preflight from another origin without allowing it', async () => {
    const r = await preflight('https://evil.test');
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('adds the CORS headers to the answer of an allowed origin (wildcard subdomains too), and only to those', async () => {
    for (const origin of ['https://app.example.com', 'https://a.example.org', 'https://a.b.example.org']) {
      const r = await get({ origin });
      expect(r.status).toBe(200);
      expect(echo(r.body).service).toBe('app');
      expect(r.headers['access-control-allow-origin']).toBe(origin);
      expect(r.headers['access-control-expose-headers']).toBe('X-Total');
      expect(r.headers['vary']).toMatch(/Origin/);
    }
    for (const origin of ['https://example.org', 'http://app.example.com', 'https://app.example.com.evil.test', 'https://a.example.org:444', 'https://x.example.org.evil.test']) {
      const r = await get({ origin });
      expect(r.status).toBe(200);
      expect(r.headers['access-control-allow-origin'], origin).toBeUndefined();
    }
  });

  it('passes an OPTIONS request that is not a preflight on to the backend', async () => {
    const r = await get({ origin: 'https://app.example.com' }, 'OPTIONS');
    expect(r.status).toBe(200);
    expect(echo(r.body).method).toBe('OPTIONS');
  });
});

describe.each(KINDS)('%s: maintenance', (kind) => {
  it('answers 503 with Retry-After and the message, byte for byte, while the route stays programmed', async () => {
    const r = await send({ port: proxies.get(kind)?.http ?? 0, host: 'down.test', path: '/anything' });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('120');
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.body).toBe(`${MAINTENANCE}\n`);
    expect(proxies.get(kind)?.result.clusters.flatMap((c) => c.routes.map((x) => x.name))).toContain('down');
  });
});

describe.each(KINDS)('%s: requestBody and compression', (kind) => {
  const post = (size: number) => send({ port: proxies.get(kind)?.http ?? 0, host: 'body.test', method: 'POST', body: 'x'.repeat(size), headers: { 'content-type': 'text/plain' } });

  it('refuses a body above maxSize with 413 and passes one below it', async () => {
    expect((await post(70 * 1024)).status).toBe(413);
    const ok = await post(60 * 1024);
    expect(ok.status).toBe(200);
  });

  it('gzips a listed media type for a client that accepts it, and only then', async () => {
    const gz = await send({ port: proxies.get(kind)?.http ?? 0, host: 'body.test', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    const plain = await send({ port: proxies.get(kind)?.http ?? 0, host: 'body.test' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(echo(plain.body).service).toBe('app');
  });
});
