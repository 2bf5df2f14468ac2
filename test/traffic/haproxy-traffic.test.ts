/**
 * Real traffic through a real HAProxy (2.6, `haproxy -db`) running the rendered configuration.
 * Loopback servers stand in for Swarm tasks (127.0.x.y "task IPs"); HAProxy binds 127.0.0.1 on
 * free high ports only. Checks routing by host and path, weights against task counts, 503s,
 * header edits and matches that user text cannot escape, cookie affinity, TLS termination behind
 * the SNI router and SNI passthrough on the same port.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import { haproxyPemFiles, renderHaproxy } from '../../src/render/haproxy/render';
import { startEcho, startEchoTls, type Backend, type EchoReply } from '../helpers/echo-backends';
import { startHaproxy, type RunningHaproxy } from '../helpers/haproxy-check';
import { send } from '../helpers/http-client';
import { cookieAffinityCases, prefixRoutingCases, tlsCases } from '../helpers/shared-traffic-cases';
import { freePorts } from '../helpers/nginx-process';
import { desired, route, snapshot, task } from '../helpers/specs';
import { selfSigned } from '../helpers/tls-material';

/** Every printable ASCII character that means something to haproxy.cfg or log-format. */
const EVIL = 'a$HOME"b\\c#d\'e%[src]f%%g{h}i;j "k';
const EVIL_MATCH = 'x" } || { always #%[src]';
/** HAProxy answers 400 to an Upgrade: websocket request without a key. */
const WEBSOCKET_HANDSHAKE = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };

/** A loopback "task" that accepts any upgrade and echoes the tunnelled bytes. */
async function startUpgradeEcho(ip: string, port: number): Promise<Backend> {
  const server = createServer((_req, res) => res.end('not an upgrade'));
  server.on('upgrade', (req, socket: Socket) => {
    // HAProxy checks the handshake: a 101 without the right Sec-WebSocket-Accept becomes a 502.
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, ip, () => resolve()));
  return { ip, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let haproxy: RunningHaproxy;
const backends: Backend[] = [];
let http = 0;
let https = 0;
let status = 0;
const ports = { http: () => http, https: () => https };

const echo = (body: string): EchoReply => JSON.parse(body) as EchoReply;

/** Loopback "tasks": service, address, and which backend port they listen on. */
type PortName = 'api' | 'web' | 'v1' | 'v2' | 'sticky' | 'secure' | 'pt';
const TASKS: readonly (readonly [service: string, ip: string, port: PortName])[] = [
  ['api', '127.0.0.2', 'api'],
  ['api', '127.0.0.3', 'api'],
  ['api-canary', '127.0.0.4', 'api'],
  ['web', '127.0.0.5', 'web'],
  ['wild', '127.0.0.6', 'web'],
  ['injected', '127.0.0.7', 'web'],
  ['ws', '127.0.6.1', 'web'],
  ...[1, 2, 3, 4, 5].map((i) => ['v1', `127.0.1.${i}`, 'v1'] as const),
  ['v2', '127.0.1.10', 'v2'],
  ['sticky', '127.0.2.1', 'sticky'],
  ['sticky', '127.0.2.2', 'sticky'],
  ['sticky', '127.0.2.3', 'sticky'],
  ['secure', '127.0.3.1', 'secure'],
  ['pt', '127.0.4.1', 'pt'],
];

beforeAll(async () => {
  const names: readonly PortName[] = ['api', 'web', 'v1', 'v2', 'sticky', 'secure', 'pt'];
  const free = await freePorts(names.length + 3);
  [http = 0, https = 0, status = 0] = free;
  const ports = Object.fromEntries(names.map((n, i) => [n, free[i + 3] ?? 0])) as Record<PortName, number>;
  const dir = mkdtempSync(join(tmpdir(), 'sg-haproxy-'));
  const backendCert = selfSigned('pt.test');
  for (const [service, ip, port] of TASKS) {
    const p = ports[port];
    if (service === 'pt') backends.push(await startEchoTls(service, `${service}@${ip}`, ip, p, backendCert.cert, backendCert.key));
    else if (service === 'ws') backends.push(await startUpgradeEcho(ip, p));
    else backends.push(await startEcho(service, `${service}@${ip}`, ip, p));
  }
  const { api: pApi, web: pWeb, v1: pV1, v2: pV2, sticky: pSticky, secure: pSecure, pt: pPass } = ports;

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
        { match: { pathPrefix: '/inj', headers: [{ name: 'X-Match', value: EVIL_MATCH }] }, backends: [{ service: 'injected', port: pWeb }] },
        {
          backends: [{ service: 'web', port: pWeb }],
          requestHeaders: { set: [{ name: 'X-Env', value: EVIL }], add: [{ name: 'X-Tag', value: 'sg' }], remove: ['X-Remove'] },
          responseHeaders: { set: [{ name: 'X-Served-By', value: EVIL }], remove: ['X-Remove-Me'] },
        },
      ],
    }),
    route('ws', { hosts: ['ws.test'], rules: [{ match: { pathPrefix: '/ws' }, websocket: true, backends: [{ service: 'ws', port: pWeb }] }] }),
    route('wild', { hosts: ['*.wild.test'], rules: [{ backends: [{ service: 'wild', port: pWeb }] }] }),
    route('exact', { hosts: ['a.wild.test'], rules: [{ match: { pathPrefix: '/only' }, backends: [{ service: 'web', port: pWeb }] }] }),
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
    // A service without any running task: the model has no target, the proxy answers 503.
    route('empty', { hosts: ['empty.test'], rules: [{ backends: [{ service: 'empty', port: pApi }] }] }),
    // Tasks whose containers are gone (nothing listens on these addresses): 503 as well.
    route('gone', { hosts: ['gone.test'], rules: [{ backends: [{ service: 'gone', port: pApi }] }] }),
  ];
  const services = ['api', 'api-canary', 'web', 'ws', 'wild', 'injected', 'v1', 'v2', 'sticky', 'secure', 'pt', 'empty', 'gone'];
  const snap = snapshot({
    services: services.map((name) => ({ name, networks: ['app'] })),
    tasks: [...TASKS.map(([service, ip]) => task(service, ip)), task('gone', '127.0.5.1'), task('gone', '127.0.5.2')],
    networks: [{ name: 'app' }],
    secrets: [{ name: 'secure.crt' }, { name: 'secure.key' }],
  });
  const model = buildModel(desired(routes), snap).clusters.find((c) => c.cluster === 'default');
  if (model === undefined) throw new Error('no default cluster');
  // The https publish port decides the redirect target's port.
  const withPort = { ...model, spec: { ...model.spec, proxy: { ...model.spec.proxy, publish: { ...model.spec.proxy.publish, https: https as typeof model.spec.proxy.publish.https } } } };
  const certDir = join(dir, 'certs');
  const proxyCert = selfSigned('secure.test');
  mkdirSync(certDir);
  // What the delivery layer does with the two mounted secrets: certificate, then key, in one file.
  for (const pem of haproxyPemFiles(withPort, { certDir })) {
    writeFileSync(pem.path, `${proxyCert.cert}${proxyCert.key}`, { mode: 0o600 });
  }
  const config = renderHaproxy(withPort, { certDir, runtimeDir: dir, bindAddress: '127.0.0.1', httpPort: http, httpsPort: https, statusPort: status, logTarget: 'stderr' });
  haproxy = await startHaproxy(config, http, dir);
}, 30_000);

afterAll(async () => {
  await haproxy?.stop();
  await Promise.all(backends.map((b) => b.close()));
});

describe('host and path routing', () => {
  prefixRoutingCases(ports);

  it('prefers an exact host over a wildcard and answers 404 when the exact host has no matching path', async () => {
    expect(echo((await send({ port: http, host: 'b.wild.test', path: '/x' })).body).service).toBe('wild');
    expect(echo((await send({ port: http, host: 'deep.b.wild.test:8080', path: '/x' })).body).service).toBe('wild');
    expect(echo((await send({ port: http, host: 'A.Wild.Test', path: '/only/1' })).body).service).toBe('web');
    expect((await send({ port: http, host: 'a.wild.test', path: '/other' })).status).toBe(404);
    expect((await send({ port: http, host: 'wild.test', path: '/' })).status).toBe(503);
  });

  it('answers 503 for an unknown host and keeps the stats page off public frontends', async () => {
    expect((await send({ port: http, host: 'nobody.test' })).status).toBe(503);
    const pub = await send({ port: http, host: 'web.test', path: '/haproxy_status' });
    expect(echo(pub.body).service).toBe('web');
    expect((await send({ port: status, host: 'localhost', path: '/haproxy_status' })).body).toContain('Statistics Report');
    expect((await send({ port: status, host: 'localhost', path: '/healthz' })).status).toBe(200);
  });

  it('matches cookie names case-sensitively, like NGINX (docs/reference/route.md: rules[].match.cookies)', async () => {
    const service = async (cookie: string) => echo((await send({ port: http, host: 'web.test', path: '/api/items', headers: { cookie } })).body).service;
    expect(await service('Canary=always')).toBe('api');
    expect(await service('CANARY=always')).toBe('api');
    expect(await service('canary=Always')).toBe('api');
    // Any occurrence of the exact pair matches (the req.cook ACL tests every occurrence).
    expect(await service('Canary=x; canary=always')).toBe('api-canary');
    expect(await service('canary=x; canary=always')).toBe('api-canary');
  });

  it('routes by header and method, and redirects', async () => {
    expect(echo((await send({ port: http, host: 'web.test', path: '/api/items', headers: { 'X-Canary': 'always' } })).body)).toMatchObject({ service: 'api-canary', url: '/api/items' });
    expect(echo((await send({ port: http, host: 'web.test', path: '/api/items', headers: { 'X-Canary': 'always-not' } })).body).service).toBe('api');
    expect(echo((await send({ port: http, host: 'web.test', path: '/api/items', headers: { cookie: 'a=1; canary=always' } })).body).service).toBe('api-canary');
    expect(echo((await send({ port: http, host: 'web.test', path: '/api/items', headers: { cookie: 'canary=always2; xcanary=always' } })).body).service).toBe('api');
    const del = await send({ port: http, host: 'web.test', path: '/api/items?q=1', method: 'DELETE' });
    expect(del.status).toBe(307);
    expect(del.headers.location).toBe('http://web.test/denied?q=1');
    const old = await send({ port: http, host: 'web.test', path: '/old' });
    expect(old.status).toBe(301);
    expect(old.headers.location).toBe('https://new.test/landing');
  });
});

describe('503 without a reachable task', () => {
  it('answers 503 when the backend service has no task', async () => {
    expect((await send({ port: http, host: 'empty.test' })).status).toBe(503);
  });

  it('answers 503, not 502, when no task of the backend can be reached', async () => {
    for (let i = 0; i < 3; i++) expect((await send({ port: http, host: 'gone.test' })).status).toBe(503);
  });
});

describe('user text stays inert', () => {
  it('sets, adds and removes headers with every special character kept literally', async () => {
    const r = await send({ port: http, host: 'web.test', path: '/', headers: { 'X-Remove': 'secret', 'X-Tag': 'client' } });
    const e = echo(r.body);
    expect(e.headers['x-env']).toBe(EVIL);
    expect(e.headers['x-tag']).toBe('client, sg');
    expect(e.headers['x-remove']).toBeUndefined();
    expect(e.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(e.headers['x-real-ip']).toBe('127.0.0.1');
    expect(r.headers['x-served-by']).toBe(EVIL);
    expect(r.headers['x-remove-me']).toBeUndefined();
  });

  it('matches a header only on its exact value, quotes and braces included', async () => {
    expect(echo((await send({ port: http, host: 'web.test', path: '/inj', headers: { 'X-Match': EVIL_MATCH } })).body).service).toBe('injected');
    for (const value of ['always', 'x"', '127.0.0.1', 'x" } || { always #127.0.0.1'])
      expect(echo((await send({ port: http, host: 'web.test', path: '/inj', headers: { 'X-Match': value } })).body).service).toBe('web');
  });

});

describe('websocket', () => {
  it('does not pass an upgrade on to a rule without websocket', async () => {
    const r = await send({ port: http, host: 'web.test', path: '/', headers: WEBSOCKET_HANDSHAKE });
    expect(r.status).toBe(200);
    expect(echo(r.body).headers['upgrade']).toBeUndefined();
  });

  it('tunnels an upgraded connection for a rule with websocket', async () => {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: http, path: '/ws', headers: { host: 'ws.test', ...WEBSOCKET_HANDSHAKE }, agent: false });
      req.on('upgrade', (_res, s: Socket) => resolve(s));
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode ?? 0}`)));
      req.on('error', reject);
      req.end();
    });
    const reply = await new Promise<string>((resolve) => {
      socket.once('data', (d: Buffer) => resolve(d.toString()));
      socket.write('ping');
    });
    socket.destroy();
    expect(reply).toBe('ping');
  });
});

/** How many of `n` requests for `host` each service answered (10 in flight at a time). */
async function tally(host: string, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let sent = 0; sent < n; sent += 10) {
    for (const r of await Promise.all(Array.from({ length: 10 }, () => send({ port: http, host })))) {
      const service = echo(r.body).service;
      counts.set(service, (counts.get(service) ?? 0) + 1);
    }
  }
  return counts;
}

describe('weights', () => {
  it('holds the declared 90/10 share although v1 has 5 tasks and v2 one', async () => {
    const counts = await tally('split.test', 1000);
    // ±5 points around 10 % is over 5 binomial standard deviations (0.95 points at n = 1000).
    expect(counts.get('v2') ?? 0).toBeGreaterThanOrEqual(50);
    expect(counts.get('v2') ?? 0).toBeLessThanOrEqual(150);
    expect((counts.get('v1') ?? 0) + (counts.get('v2') ?? 0)).toBe(1000);
  });
});

cookieAffinityCases(ports, 'inserts a cookie and keeps a client on one task', [/^sg_pin=[0-9a-f]{8}\.[0-9a-f]{8}; /, /Max-Age=600/, /HttpOnly/]);
tlsCases(ports);
