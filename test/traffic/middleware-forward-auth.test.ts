/**
 * forwardAuth with real traffic through a real NGINX on the rendered configuration: a small Node
 * auth service (test/helpers/auth-service.ts) stands in for Authelia; loopback servers stand in for
 * the Swarm tasks of the app and of the auth service. HAProxy refuses forwardAuth (UnsupportedValue).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthService, LOGIN, type AuthService } from '../helpers/auth-service';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { startPolicyProxy, type PolicyProxy } from '../helpers/policy-proxies';
import { middleware, route, snapshot, task } from '../helpers/specs';

const APP_IP = '127.0.0.60';
const AUTH_IP = '127.0.0.61';
const DOWN_IP = '127.0.0.62';
let proxy: PolicyProxy;
let auth: AuthService;
const backends: Backend[] = [];
const echo = (body: string): EchoReply => JSON.parse(body) as EchoReply;

const MIDDLEWARES = (authPort: number, downPort: number) => [
  middleware('sso', { forwardAuth: { service: 'auth', port: authPort, path: '/api/verify', responseHeaders: ['Remote-User', 'Remote-Groups'], timeout: '1s' } }),
  middleware('sso-down', { forwardAuth: { service: 'auth-down', port: downPort } }),
  // The same auth service given by URL (outside the swarm): the path in the URL, or in path.
  middleware('sso-url', { forwardAuth: { url: `http://${AUTH_IP}:${authPort}/api/verify`, responseHeaders: ['Remote-User'], timeout: '1s' } }),
  middleware('sso-url-path', { forwardAuth: { url: `http://${AUTH_IP}:${authPort}`, path: '/api/verify' } }),
  middleware('sso-url-down', { forwardAuth: { url: `http://${DOWN_IP}:${downPort}/api/verify`, timeout: '1s' } }),
];

beforeAll(async () => {
  const [appPort = 0, authPort = 0, downPort = 0] = await freePorts(3);
  backends.push(await startEcho('app', 'app@' + APP_IP, APP_IP, appPort));
  auth = await startAuthService(AUTH_IP, authPort);
  const routes = [
    route('portal', { hosts: ['portal.test'], middlewares: ['sso'], rules: [{ backends: [{ service: 'app', port: appPort }], requestHeaders: { set: [{ name: 'Remote-User', value: 'from-edit' }] } }] }),
    route('down', { hosts: ['down.test'], middlewares: ['sso-down'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('by-url', { hosts: ['url.test'], middlewares: ['sso-url'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('by-url-path', { hosts: ['url-path.test'], middlewares: ['sso-url-path'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('by-url-down', { hosts: ['url-down.test'], middlewares: ['sso-url-down'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
  ];
  // auth-down has a running task whose address nobody listens on: the ask fails to connect.
  const snap = snapshot({
    services: [{ name: 'app', networks: ['app'] }, { name: 'auth', networks: ['app'] }, { name: 'auth-down', networks: ['app'] }],
    tasks: [task('app', APP_IP), task('auth', AUTH_IP), task('auth-down', DOWN_IP)],
    networks: [{ name: 'app' }],
  });
  proxy = await startPolicyProxy('nginx', routes, MIDDLEWARES(authPort, downPort), snap);
}, 30_000);

afterAll(async () => {
  await proxy.stop();
  await auth.close();
  await Promise.all(backends.map((b) => b.close()));
});

const get = (cookie?: string, extra: Record<string, string> = {}, host = 'portal.test') =>
  send({ port: proxy.http, host, path: '/docs/page?x=1', headers: { ...(cookie !== undefined ? { cookie: `session=${cookie}` } : {}), ...extra } });

describe('nginx: forwardAuth', () => {
  it('lets a request the auth service allows through, with its chosen headers copied and no client value', async () => {
    const r = await get('alice', { 'remote-user': 'admin', 'remote-groups': 'root' });
    expect(r.status).toBe(200);
    const seen = echo(r.body);
    expect(seen.service).toBe('app');
    expect(seen.headers['remote-user']).toBe('alice');
    expect(seen.headers['remote-groups']).toBe('admins,dev');
    expect(seen.headers['remote-secret']).toBeUndefined();
  });

  it('tells the auth service the original method, URI, host and scheme, without the body', async () => {
    const before = auth.asks.length;
    const r = await send({ port: proxy.http, host: 'portal.test', path: '/docs/page?x=1', method: 'POST', body: 'payload', headers: { cookie: 'session=alice', 'content-type': 'text/plain' } });
    expect(r.status).toBe(200);
    const ask = auth.asks[before];
    expect(ask?.url).toBe('/api/verify');
    // NGINX asks with GET (a subrequest); the original method is in X-Forwarded-Method.
    expect(ask?.method).toBe('GET');
    expect(ask?.headers).toMatchObject({ 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/docs/page?x=1', 'x-forwarded-host': 'portal.test', 'x-forwarded-proto': 'http', 'x-original-url': 'http://portal.test/docs/page?x=1' });
    expect(ask?.headers['content-length']).toBeUndefined();
    expect(echo(r.body).method).toBe('POST');
  });

  it('gives a client without a session the auth service 401 Location as a redirect to the login (Authelia AuthRequest)', async () => {
    const r = await get();
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe(`${LOGIN}?rd=${encodeURIComponent('http://portal.test/docs/page?x=1')}`);
  });

  it('passes a 3xx of the auth service on as a redirect to its login (Authelia ForwardAuth, oauth2-proxy)', async () => {
    const r = await get('redirect');
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe(`${LOGIN}?rd=${encodeURIComponent('http://portal.test/docs/page?x=1')}`);
  });

  it('answers 401 with the auth service WWW-Authenticate when it gives no Location, and 403 for a denied client', async () => {
    const unauthorised = await get(undefined, { 'x-no-redirect': '1' });
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers['www-authenticate']).toBe('Bearer realm="test"');
    expect((await get('mallory')).status).toBe(403);
  });

  it('cannot be asked directly by a client (the auth location is internal)', async () => {
    const portal = proxy.config.slice(proxy.config.indexOf('server_name "portal.test"'));
    const path = /auth_request "([^"]+)"/.exec(portal)?.[1] ?? '';
    expect(path).toMatch(/^\/!sg-auth\//);
    const r = await send({ port: proxy.http, host: 'portal.test', path: path.replace('!', '%21'), headers: { cookie: 'session=alice' } });
    expect(r.status).toBe(404);
    const raw = await send({ port: proxy.http, host: 'portal.test', path, headers: { cookie: 'session=alice' } });
    expect(raw.status).toBe(404);
  });

  it('answers an auth service failure (no answer, 5xx, timeout) with 502 and X-Swarmgate-Error, never reaching the app', async () => {
    const down = await get('alice', {}, 'down.test');
    expect(down.status).toBe(502);
    expect(down.headers['x-swarmgate-error']).toBe('forward-auth');
    expect(down.body).toMatch(/^swarmgate: the authentication service failed \(/);
    const broken = await get('broken');
    expect(broken.status).toBe(502);
    expect(broken.headers['x-swarmgate-error']).toBe('forward-auth');
    const started = Date.now();
    const slow = await get('slow');
    expect(slow.status).toBe(502);
    expect(slow.headers['x-swarmgate-error']).toBe('forward-auth');
    // The 1s timeout, not the auth service's 3s.
    expect(Date.now() - started).toBeLessThan(2900);
  });
});

describe('nginx: forwardAuth by URL (an auth service outside the swarm)', () => {
  const ask = (host: string, cookie?: string) => send({ port: proxy.http, host, path: '/docs/page?x=1', headers: cookie !== undefined ? { cookie: `session=${cookie}` } : {} });

  it('asks the URL: allow with the copied header, redirect to the login, deny', async () => {
    const before = auth.asks.length;
    const ok = await ask('url.test', 'alice');
    expect(ok.status).toBe(200);
    expect(echo(ok.body).headers['remote-user']).toBe('alice');
    expect(auth.asks[before]?.url).toBe('/api/verify');
    expect(auth.asks[before]?.headers['x-forwarded-host']).toBe('url.test');
    const login = await ask('url.test');
    expect(login.status).toBe(302);
    expect(login.headers.location).toBe(`${LOGIN}?rd=${encodeURIComponent('http://url.test/docs/page?x=1')}`);
    expect((await ask('url.test', 'mallory')).status).toBe(403);
  });

  it('takes the path from path when the URL has none', async () => {
    const before = auth.asks.length;
    expect((await ask('url-path.test', 'alice')).status).toBe(200);
    expect(auth.asks[before]?.url).toBe('/api/verify');
  });

  it('answers an unreachable URL with 502 and X-Swarmgate-Error', async () => {
    const r = await ask('url-down.test', 'alice');
    expect(r.status).toBe(502);
    expect(r.headers['x-swarmgate-error']).toBe('forward-auth');
  });

  it('renders the ask through a variable (resolved when asked), not an upstream block', () => {
    expect(proxy.config).toMatch(/proxy_pass \$sg_acl_auth_[0-9a-f_]+_url;/);
    expect(proxy.result.conditions['Route/by-url']?.find((c) => c.type === 'ResolvedRefs')?.status).toBe('True');
  });
});
