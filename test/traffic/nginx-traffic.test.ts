/**
 * Real traffic through a real NGINX running the rendered configuration. Loopback servers stand
 * in for Swarm tasks (127.0.0.x "task IPs"), so routing, weights, rewrites, header canaries,
 * header edits, TLS termination, SNI passthrough and stickiness are checked end to end
 * without a Docker engine.
 */
import { chmodSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import { renderNginx } from '../../src/render/nginx/render';
import { startEcho, startEchoTls, type Backend, type EchoReply } from '../helpers/echo-backends';
import { makeWorkerReadable } from '../helpers/worker-readable';
import { send } from '../helpers/http-client';
import { cookieAffinityCases, prefixRoutingCases, tlsCases } from '../helpers/shared-traffic-cases';
import { freePorts, startNginx, type RunningNginx } from '../helpers/nginx-process';
import { desired, route, snapshot, task } from '../helpers/specs';
import { selfSigned } from '../helpers/tls-material';

let nginx: RunningNginx;
const backends: Backend[] = [];
let http = 0;
let https = 0;
let status = 0;
const ports = { http: () => http, https: () => https };

const echo = (body: string): EchoReply => JSON.parse(body) as EchoReply;

beforeAll(async () => {
  const [pHttp, pHttps, pTls, pPt, pStatus, pApi, pWeb, pV1, pV2, pSticky, pSecure, pPass, pUnavailable] = await freePorts(13);
  if (pPass === undefined) throw new Error('no ports');
  http = pHttp ?? 0;
  https = pHttps ?? 0;
  status = pStatus ?? 0;
  const secrets = mkdtempSync(join(tmpdir(), 'sg-secrets-'));
  const proxyCert = selfSigned('secure.test');
  copyFileSync(proxyCert.certPath, join(secrets, 'secure.crt'));
  copyFileSync(proxyCert.keyPath, join(secrets, 'secure.key'));
  // As Swarm mounts worker secrets (model.workerSecrets): NGINX's workers load this pair at each handshake (ADR 0028).
  chmodSync(secrets, 0o755);
  for (const f of ['secure.crt', 'secure.key']) makeWorkerReadable(join(secrets, f));
  const backendCert = selfSigned('pt.test');

  const start = (service: string, ip: string, port: number | undefined): Promise<Backend> => startEcho(service, `${service}@${ip}`, ip, port ?? 0);
  backends.push(
    await start('api', '127.0.0.2', pApi),
    await start('api', '127.0.0.3', pApi),
    await start('api-canary', '127.0.0.4', pApi),
    await start('web', '127.0.0.5', pWeb),
    ...(await Promise.all([1, 2, 3, 4, 5].map((i) => start('v1', `127.0.1.${i}`, pV1)))),
    await start('v2', '127.0.1.10', pV2),
    await start('sticky', '127.0.2.1', pSticky),
    await start('sticky', '127.0.2.2', pSticky),
    await start('sticky', '127.0.2.3', pSticky),
    await start('secure', '127.0.3.1', pSecure),
    await startEchoTls('pt', 'pt@127.0.4.1', '127.0.4.1', pPass, backendCert.cert, backendCert.key),
  );

  const routes = [
    route('web', {
      hosts: ['web.test'],
      rules: [
        { match: { pathPrefix: '/api' }, rewrite: { stripPrefix: true }, backends: [{ service: 'api', port: pApi }] },
        { match: { pathPrefix: '/api', headers: [{ name: 'X-Canary', value: 'always' }] }, backends: [{ service: 'api-canary', port: pApi }] },
        { match: { pathPrefix: '/api', cookies: [{ name: 'canary', value: 'always' }] }, backends: [{ service: 'api-canary', port: pApi }] },
        { match: { pathPrefix: '/api', methods: ['DELETE'] }, redirect: { path: '/denied', code: 307 } },
        { match: { path: '/old' }, redirect: { to: 'https://new.test/landing', code: 301 } },
        { match: { pathPrefix: '/v1' }, rewrite: { replacePrefix: '/v2' }, backends: [{ service: 'web', port: pWeb }] },
        {
          backends: [{ service: 'web', port: pWeb }],
          requestHeaders: { set: [{ name: 'X-Env', value: 'a$b"c\\d;{e}' }], add: [{ name: 'X-Tag', value: 'sg' }], remove: ['X-Remove'] },
          responseHeaders: { set: [{ name: 'X-Served-By', value: 'swarmgate $1' }], remove: ['X-Remove-Me'] },
        },
      ],
    }),
    route('split', {
      hosts: ['split.test'],
      rules: [{ backends: [{ service: 'v1', port: pV1, weight: 90 }, { service: 'v2', port: pV2, weight: 10 }] }],
    }),
    route('sticky', {
      hosts: ['sticky.test'],
      rules: [{ backends: [{ service: 'sticky', port: pSticky }], sessionAffinity: { cookie: { name: 'sg_pin', ttl: '10m' } } }],
    }),
    route('secure', {
      hosts: ['secure.test'],
      tls: { mode: 'Terminate', certificate: { certSecret: 'secure.crt', keySecret: 'secure.key' }, redirectHTTP: true },
      rules: [{ backends: [{ service: 'secure', port: pSecure }] }],
    }),
    route('pt', { hosts: ['pt.test'], tls: { mode: 'Passthrough' }, rules: [{ backends: [{ service: 'pt', port: pPass }] }] }),
    // Tasks whose containers are gone (nothing listens on these addresses): the proxy must say 503.
    route('gone', { hosts: ['gone.test'], rules: [{ backends: [{ service: 'gone', port: pApi }] }] }),
  ];
  const snap = snapshot({
    services: ['api', 'api-canary', 'web', 'v1', 'v2', 'sticky', 'secure', 'pt', 'gone'].map((name) => ({ name, networks: ['app'] })),
    tasks: [
      task('api', '127.0.0.2'),
      task('api', '127.0.0.3'),
      task('api', '127.0.0.9', 'app', 'running', 'shutdown'), // draining: must get no traffic
      task('api-canary', '127.0.0.4'),
      task('web', '127.0.0.5'),
      ...[1, 2, 3, 4, 5].map((i) => task('v1', `127.0.1.${i}`)),
      task('v2', '127.0.1.10'),
      task('sticky', '127.0.2.1'),
      task('sticky', '127.0.2.2'),
      task('sticky', '127.0.2.3'),
      task('secure', '127.0.3.1'),
      task('pt', '127.0.4.1'),
      task('gone', '127.0.5.1'),
      task('gone', '127.0.5.2'),
    ],
    networks: [{ name: 'app' }],
    secrets: [{ name: 'secure.crt' }, { name: 'secure.key' }],
  });
  const result = buildModel(desired(routes), snap);
  const model = result.clusters.find((c) => c.cluster === 'default');
  if (model === undefined) throw new Error('no default cluster');
  // The https publish port decides the redirect target's port.
  const withPort = { ...model, spec: { ...model.spec, proxy: { ...model.spec.proxy, publish: { ...model.spec.proxy.publish, https: https as typeof model.spec.proxy.publish.https } } } };
  const dir = mkdtempSync(join(tmpdir(), 'sg-nginx-'));
  const config = renderNginx(withPort, {
    secretsDir: secrets,
    pidPath: join(dir, 'nginx.pid'),
    accessLogPath: join(dir, 'access.log'),
    httpPort: http,
    httpsPort: https,
    tlsInternalPort: pTls ?? 0,
    passthroughInternalPort: pPt ?? 0,
    statusPort: status,
    unavailablePort: pUnavailable ?? 0,
  });
  nginx = await startNginx(config, http, dir);
}, 30_000);

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(backends.map((b) => b.close()));
});

describe('host and path routing', () => {
  prefixRoutingCases(ports);

  it('never sends traffic to a task whose desired state is shutdown', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add(echo((await send({ port: http, host: 'web.test', path: '/api/x' })).body).task);
    expect([...seen].sort()).toEqual(['api@127.0.0.2', 'api@127.0.0.3']);
  });

  it('answers 503 for an unknown host and keeps stub_status off public hosts', async () => {
    expect((await send({ port: http, host: 'nobody.test' })).status).toBe(503);
    const pub = await send({ port: http, host: 'web.test', path: '/nginx_status' });
    expect(pub.body).not.toContain('Active connections');
    const internal = await send({ port: status, host: 'localhost', path: '/nginx_status' });
    expect(internal.body).toContain('Active connections');
  });
});

describe('unreachable tasks', () => {
  it('answers 503 from the backup, not 502, when no task of the backend can be reached', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await send({ port: http, host: 'gone.test', path: '/' });
      expect(r.status).toBe(503);
      expect(r.body).toBe('no task of this backend is reachable\n');
    }
  });
});

describe('header and method matches', () => {
  it('sends X-Canary: always to the canary without rewriting', async () => {
    const r = await send({ port: http, host: 'web.test', path: '/api/items', headers: { 'X-Canary': 'always' } });
    expect(echo(r.body)).toMatchObject({ service: 'api-canary', url: '/api/items' });
  });

  it('does not treat other header values as a match', async () => {
    const r = await send({ port: http, host: 'web.test', path: '/api/items', headers: { 'X-Canary': 'always-not' } });
    expect(echo(r.body).service).toBe('api');
  });

  it('sends a canary=always cookie to the canary, and no other cookie value', async () => {
    expect(echo((await send({ port: http, host: 'web.test', path: '/api/items', headers: { cookie: 'a=1; canary=always' } })).body).service).toBe('api-canary');
    expect(echo((await send({ port: http, host: 'web.test', path: '/api/items', headers: { cookie: 'canary=always2; xcanary=always' } })).body).service).toBe('api');
  });

  it('matches cookie names case-sensitively, like HAProxy (docs/reference/route.md: rules[].match.cookies)', async () => {
    const service = async (cookie: string) => echo((await send({ port: http, host: 'web.test', path: '/api/items', headers: { cookie } })).body).service;
    expect(await service('Canary=always')).toBe('api');
    expect(await service('CANARY=always')).toBe('api');
    expect(await service('canary=Always')).toBe('api');
    // Any occurrence of the exact pair matches (HAProxy's req.cook ACL tests every occurrence).
    expect(await service('Canary=x; canary=always')).toBe('api-canary');
    expect(await service('canary=x; canary=always')).toBe('api-canary');
  });

  it('routes by method', async () => {
    const r = await send({ port: http, host: 'web.test', path: '/api/items', method: 'DELETE' });
    expect(r.status).toBe(307);
    expect(r.headers.location).toBe('http://web.test/denied');
  });

  it('redirects an exact path to a full URL', async () => {
    const r = await send({ port: http, host: 'web.test', path: '/old' });
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('https://new.test/landing');
  });
});

describe('header edits', () => {
  it('sets, adds and removes request headers with special characters kept literally', async () => {
    const r = await send({ port: http, host: 'web.test', path: '/', headers: { 'X-Remove': 'secret', 'X-Tag': 'client' } });
    const e = echo(r.body);
    expect(e.headers['x-env']).toBe('a$b"c\\d;{e}');
    expect(e.headers['x-tag']).toBe('client, sg');
    expect(e.headers['x-remove']).toBeUndefined();
    expect(e.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(r.headers['x-served-by']).toBe('swarmgate $1');
    expect(r.headers['x-remove-me']).toBeUndefined();
  });

  it('adds a request header that the client did not send', async () => {
    const e = echo((await send({ port: http, host: 'web.test', path: '/' })).body);
    expect(e.headers['x-tag']).toBe('sg');
  });
});

describe('weights', () => {
  it('splits 90/10 by declared weight although v1 has 5 tasks and v2 one', async () => {
    let v2 = 0;
    const n = 1000;
    for (let i = 0; i < n; i += 10) {
      const replies = await Promise.all(Array.from({ length: 10 }, () => send({ port: http, host: 'split.test' })));
      v2 += replies.filter((r) => echo(r.body).service === 'v2').length;
    }
    // Binomial sd at n=1000, p=0.1 is 0.95 points; ±4 points is > 4 sd.
    expect(v2 / n).toBeGreaterThan(0.06);
    expect(v2 / n).toBeLessThan(0.14);
  });
});

cookieAffinityCases(ports, 'mints a cookie and keeps a client on one task', [/^sg_pin=[0-9a-f]{32}; Path=\/; Max-Age=600; HttpOnly/]);
tlsCases(ports);
