/**
 * errorPages and the maintenance page with real traffic through a real NGINX and a real HAProxy on
 * the rendered config of the same specs. The pages are files in a directory standing in for
 * /run/swarmgate-pages, where a proxy task mounts the error-page Swarm configs. A small loopback app
 * answers 200, its own 500 and 503 bodies, or too slowly (the rule's read timeout makes it a 504).
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, type RequestSpec } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { startPolicyProxy, type PolicyProxy, type ProxyKind } from '../helpers/policy-proxies';
import { middleware, route, snapshot, task } from '../helpers/specs';

const KINDS: readonly ProxyKind[] = ['nginx', 'haproxy'];
const proxies = new Map<ProxyKind, PolicyProxy>();
const apps: Server[] = [];

/** Page bodies with characters either proxy's config treats specially: they are files, never config text. */
const OUTAGE = '<html><body><h1>We are on it</h1><p>$host "quoted" %[src] {;} \\</p></body></html>\n';
const REFUSED = 'Not for you (swarmgate page)\n';
const BIG = `<html>${'<p>padding so the page is larger than one NGINX config token</p>\n'.repeat(200)}</html>\n`;

function startApp(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const answer = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    };
    if (req.url === '/fail500') answer(500, 'the app says 500\n');
    else if (req.url === '/fail503') answer(503, 'the app says 503\n');
    else if (req.url === '/slow') setTimeout(() => answer(200, 'late\n'), 2_500);
    else answer(200, 'app ok\n');
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.60', () => resolve(server)));
}

beforeAll(async () => {
  // The slow route has its own port: a timed-out task is taken out for 1 s, which must not touch the others.
  const [appPort = 0, slowPort = 0] = await freePorts(2);
  apps.push(await startApp(appPort), await startApp(slowPort));
  const pagesDir = mkdtempSync(join(tmpdir(), 'sg-pages-'));
  chmodSync(pagesDir, 0o755);
  writeFileSync(join(pagesDir, 'outage.html'), OUTAGE, { mode: 0o444 });
  writeFileSync(join(pagesDir, 'refused'), REFUSED, { mode: 0o444 });
  writeFileSync(join(pagesDir, 'big.html'), BIG, { mode: 0o444 });
  const middlewares = [
    middleware('outage-pages', { errorPages: { pages: [{ statuses: [502, 503, 504], config: 'outage.html' }, { statuses: [403, 429], config: 'refused', contentType: 'text/plain' }] } }),
    middleware('upstream-pages', { errorPages: { upstream: true, pages: [{ statuses: [500, 503], config: 'big.html' }] } }),
    middleware('office-only', { ipAllow: ['127.0.0.1'] }),
    middleware('one-a-minute', { rateLimit: { average: 1, period: '1m' } }),
    middleware('down', { maintenance: { retryAfter: '10m' } }),
  ];
  const backend = [{ service: 'app', port: appPort }];
  const routes = [
    route('pages', { hosts: ['pages.test'], middlewares: ['outage-pages'], rules: [{ backends: backend }] }),
    route('slow', { hosts: ['slow.test'], middlewares: ['outage-pages'], rules: [{ backends: [{ service: 'app', port: slowPort }], timeouts: { read: '1s', send: '1s' } }] }),
    route('empty', { hosts: ['empty.test'], middlewares: ['outage-pages'], rules: [{ backends: [{ service: 'ghost', port: 80 }] }] }),
    route('office', { hosts: ['office.test'], middlewares: ['outage-pages', 'office-only'], rules: [{ backends: backend }] }),
    route('limited', { hosts: ['limited.test'], middlewares: ['outage-pages', 'one-a-minute'], rules: [{ backends: backend }] }),
    route('upstream', { hosts: ['upstream.test'], middlewares: ['upstream-pages'], rules: [{ backends: backend }] }),
    route('maint', { hosts: ['maint.test'], middlewares: ['outage-pages', 'down'], rules: [{ backends: backend }] }),
    route('maint-text', { hosts: ['maint-text.test'], middlewares: ['down'], rules: [{ backends: backend }] }),
  ];
  const snap = snapshot({
    services: [
      { name: 'app', networks: ['app'] },
      { name: 'ghost', networks: ['app'] },
    ],
    tasks: [task('app', '127.0.0.60')],
    networks: [{ name: 'app' }],
    configs: [{ name: 'outage.html' }, { name: 'refused' }, { name: 'big.html' }],
  });
  for (const kind of KINDS) proxies.set(kind, await startPolicyProxy(kind, routes, middlewares, snap, { pagesDir }));
}, 30_000);

afterAll(async () => {
  await Promise.all([...proxies.values()].map((p) => p.stop()));
  await Promise.all(apps.map((a) => new Promise((resolve) => a.close(resolve))));
});

describe.each(KINDS)('%s: errorPages', (kind) => {
  const get = (spec: Omit<RequestSpec, 'port'>) => send({ port: proxies.get(kind)?.http ?? 0, ...spec });

  it('serves the app as usual when nothing fails', async () => {
    const r = await get({ host: 'pages.test', path: '/' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('app ok\n');
  });

  it("answers the proxy's own 503 (a backend without a task) with the page", async () => {
    const r = await get({ host: 'empty.test', path: '/' });
    expect(r.status).toBe(503);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body).toBe(OUTAGE);
  });

  it("answers a timed-out request with the page (NGINX: its 503 after trying the loopback backup; HAProxy: 504)", async () => {
    const r = await get({ host: 'slow.test', path: '/slow' });
    expect(r.status).toBe(kind === 'nginx' ? 503 : 504);
    expect(r.body).toBe(OUTAGE);
    // NGINX's 503 above already came from the loopback backup server. Whether the *next* request still
    // finds the task out depends on NGINX's 1 s fail window, which a loaded machine can outlast, so no
    // assertion is made on it (CI failed on exactly that).
  });

  it("leaves the app's own error answers alone without upstream: true", async () => {
    const r500 = await get({ host: 'pages.test', path: '/fail500' });
    expect([r500.status, r500.body]).toEqual([500, 'the app says 500\n']);
    const r503 = await get({ host: 'pages.test', path: '/fail503' });
    expect([r503.status, r503.body]).toEqual([503, 'the app says 503\n']);
  });

  it("replaces the app's answers of the listed statuses with upstream: true (a page larger than a config token)", async () => {
    const r = await get({ host: 'upstream.test', path: '/fail500' });
    expect(r.status).toBe(500);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.body).toBe(BIG);
    expect((await get({ host: 'upstream.test', path: '/fail503' })).body).toBe(BIG);
    expect((await get({ host: 'upstream.test', path: '/' })).body).toBe('app ok\n');
  });

  it('answers a refused client address (403) and a rate limit (429) with their page', async () => {
    expect((await get({ host: 'office.test', path: '/', localAddress: '127.0.0.1' })).status).toBe(200);
    const refused = await get({ host: 'office.test', path: '/', localAddress: '127.0.0.2' });
    expect([refused.status, refused.body]).toEqual([403, REFUSED]);
    expect(refused.headers['content-type']).toMatch(/^text\/plain/);
    expect((await get({ host: 'limited.test', path: '/', localAddress: '127.0.0.7' })).status).toBe(200);
    const limited = await get({ host: 'limited.test', path: '/', localAddress: '127.0.0.7' });
    expect([limited.status, limited.body]).toEqual([429, REFUSED]);
    expect(limited.headers['retry-after']).toBe('60');
  });
});

describe.each(KINDS)('%s: maintenance', (kind) => {
  const get = (spec: Omit<RequestSpec, 'port'>) => send({ port: proxies.get(kind)?.http ?? 0, ...spec });

  it('serves the 503 page with Retry-After while the route stays programmed', async () => {
    for (const method of ['GET', 'POST']) {
      const r = await get({ host: 'maint.test', path: '/any', method });
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('600');
      expect(r.body).toBe(OUTAGE);
    }
    expect(proxies.get(kind)?.result.clusters[0]?.routes.map((x) => x.name)).toContain('maint');
  });

  it('without a 503 page, answers the plain-text message', async () => {
    const r = await get({ host: 'maint-text.test', path: '/' });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('600');
    expect(r.body).toBe('This service is down for maintenance.\n');
  });
});
