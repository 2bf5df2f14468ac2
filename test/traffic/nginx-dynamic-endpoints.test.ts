/**
 * Dynamic endpoints on a real NGINX with Debian's Lua module (ADR 0016): task membership reaches the
 * balancer through the loopback endpoint, with no reload (same worker PIDs) and no failed request;
 * the set survives a reload (shared memory) and a restart (seeded from the endpoints file); weights,
 * stickiness, passive health and the 503 backup hold with dynamic membership.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { dynamicNginxSetup, nginxWorkerPids, putEndpointSet, servedBy, statusesUntilStopped } from '../helpers/dynamic-nginx-traffic';
import { send } from '../helpers/http-client';
import { nginxTest, startNginx, type RunningNginx } from '../helpers/nginx-process';
import { desired, route, snapshot, task } from '../helpers/specs';

const dir = mkdtempSync(join(tmpdir(), 'sg-dyn-'));
const endpointsPath = join(dir, 'endpoints.txt');
let nginx: RunningNginx;
let http = 0;
let control = 0;
let opts: Parameters<typeof renderNginxWithEndpoints>[1] = {};
let backendPort = 0;
const backends = new Map<string, Backend>();
let firstConfig = '';

const routes = () => [
  route('web', { hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port: backendPort }] }] }),
  route('split', { hosts: ['split.test'], rules: [{ backends: [{ service: 'v1', port: backendPort, weight: 80 }, { service: 'v2', port: backendPort, weight: 20 }] }] }),
  route('ip', { hosts: ['ip.test'], rules: [{ backends: [{ service: 'web', port: backendPort }], sessionAffinity: { clientIP: true } }] }),
  route('cookie', { hosts: ['cookie.test'], rules: [{ backends: [{ service: 'web', port: backendPort }], sessionAffinity: { cookie: { name: 'sg_pin', ttl: '10m' } } }] }),
  route('gone', { hosts: ['gone.test'], rules: [{ backends: [{ service: 'gone', port: backendPort }] }] }),
  route('rw', { hosts: ['rw.test'], rules: [{ match: { pathPrefix: '/api' }, rewrite: { stripPrefix: true }, backends: [{ service: 'v1', port: backendPort }] }, { match: { pathPrefix: '/v1' }, rewrite: { replacePrefix: '/v2' }, backends: [{ service: 'v2', port: backendPort }] }] }),
];

function model(webIps: readonly string[]): ProxyModel {
  const snap = snapshot({
    services: ['web', 'v1', 'v2', 'gone'].map((name) => ({ name, networks: ['app'] })),
    tasks: [...webIps.map((ip) => task('web', ip)), task('v1', '127.0.56.1'), task('v2', '127.0.56.2'), task('gone', '127.0.56.9')],
    networks: [{ name: 'app', driver: 'overlay', scope: 'swarm' }],
  });
  const m = buildModel(desired(routes()), snap).clusters[0];
  if (m === undefined) throw new Error('no cluster');
  return m;
}

function render(webIps: readonly string[]): { config: string; endpoints: string } {
  return renderNginxWithEndpoints(model(webIps), opts);
}

const put = (body: string): Promise<number> => putEndpointSet(control, body);
const served = (host: string, n: number, headers: Record<string, string> = {}): Promise<{ statuses: number[]; tasks: string[] }> => servedBy(http, host, n, headers);
const workerPids = (): number[] => nginxWorkerPids(dir);
const background = (host: string): { stop: () => Promise<number[]> } => statusesUntilStopped(http, host);

beforeAll(async () => {
  ({ http, control, backendPort, opts } = await dynamicNginxSetup(dir));
  for (const ip of ['127.0.55.1', '127.0.55.2', '127.0.55.3', '127.0.56.1', '127.0.56.2']) backends.set(ip, await startEcho('svc', ip, ip, backendPort));
  const first = render(['127.0.55.1', '127.0.55.2']);
  firstConfig = first.config;
  writeFileSync(endpointsPath, first.endpoints);
  nginx = await startNginx(first.config, http, dir);
}, 30_000);

afterAll(async () => {
  await nginx?.stop();
  await Promise.all([...backends.values()].map((b) => b.close()));
});

describe('NGINX dynamic endpoints (Lua balancer)', () => {
  it('renders no upstream block per backend and passes nginx -t', () => {
    expect(firstConfig).toContain('balancer_by_lua_block');
    expect(firstConfig).not.toMatch(/^\s*upstream u_/m);
    expect(firstConfig).not.toMatch(/proxy_pass http:\/\/\$/);
    const path = join(dir, 'check.conf');
    writeFileSync(path, firstConfig);
    expect(nginxTest(path)).toMatchObject({ ok: true });
  });

  it('serves from the set seeded at start, round robin over the tasks', async () => {
    const r = await served('web.test', 20);
    expect(r.statuses.every((s) => s === 200)).toBe(true);
    expect(new Set(r.tasks)).toEqual(new Set(['127.0.55.1', '127.0.55.2']));
  });

  it('rewrites the path and still reaches the rule\'s backend (the upstream is set before rewrite … break)', async () => {
    for (const [path, task, url] of [['/api/cart?x=1', '127.0.56.1', '/cart?x=1'], ['/v1/items', '127.0.56.2', '/v2/items']] as const) {
      const r = await send({ port: http, host: 'rw.test', path });
      expect(r.status, `${path}: ${r.body}`).toBe(200);
      const reply = JSON.parse(r.body) as EchoReply;
      expect([reply.task, reply.url]).toEqual([task, url]);
    }
  });

  it('adds a task with no config change, no reload and no failed request', async () => {
    const before = workerPids();
    const next = render(['127.0.55.1', '127.0.55.2', '127.0.55.3']);
    expect(next.config).toBe(firstConfig);
    const load = background('web.test');
    expect(await put(next.endpoints)).toBe(204);
    const seen = new Set<string>();
    const end = Date.now() + 5_000;
    while (Date.now() < end && !seen.has('127.0.55.3')) for (const t of (await served('web.test', 10)).tasks) seen.add(t);
    const statuses = await load.stop();
    expect(seen.has('127.0.55.3')).toBe(true);
    expect([...seen].filter((t) => !['127.0.55.1', '127.0.55.2', '127.0.55.3'].includes(t))).toEqual([]);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(workerPids()).toEqual(before);
  });

  it('drops a removed task before its container goes, with no failed request', async () => {
    const before = workerPids();
    const next = render(['127.0.55.2', '127.0.55.3']);
    const load = background('web.test');
    expect(await put(next.endpoints)).toBe(204);
    writeFileSync(endpointsPath, next.endpoints);
    await backends.get('127.0.55.1')?.close();
    backends.delete('127.0.55.1');
    const r = await served('web.test', 30);
    const statuses = await load.stop();
    // Never the removed task; which of the others answers may follow passive health (a keep-alive
    // connection the backend closed counts as a failure and takes a peer out for fail_timeout).
    expect(r.tasks.length).toBe(30);
    expect(r.tasks.filter((t) => t !== '127.0.55.2' && t !== '127.0.55.3')).toEqual([]);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(workerPids()).toEqual(before);
  });

  it('refuses a malformed set and keeps the one it has', async () => {
    expect(await put('u_x 1 1 - not-an-address\n')).toBe(400);
    const r = await served('web.test', 10);
    expect(r.tasks.length).toBe(10);
    expect(r.tasks.filter((t) => t !== '127.0.55.2' && t !== '127.0.55.3')).toEqual([]);
  });

  it('keeps declared weights with dynamic membership', async () => {
    const r = await served('split.test', 400);
    const v1 = r.tasks.filter((t) => t === '127.0.56.1').length;
    expect(r.statuses.every((s) => s === 200)).toBe(true);
    expect(v1 / 400).toBeGreaterThan(0.7);
    expect(v1 / 400).toBeLessThan(0.9);
  });

  it('keeps client-IP and cookie stickiness with dynamic membership', async () => {
    const ip = await served('ip.test', 15);
    expect(new Set(ip.tasks).size).toBe(1);
    for (const pin of ['a1', 'b2', 'c3']) {
      const c = await served('cookie.test', 8, { cookie: `sg_pin=${pin}` });
      expect(new Set(c.tasks).size).toBe(1);
    }
    const spread = new Set<string>();
    for (let i = 0; i < 12; i++) spread.add((await served('cookie.test', 1, { cookie: `sg_pin=client-${i}` })).tasks[0] ?? '');
    expect(spread.size).toBe(2);
  });

  it('answers 503 from the backup when no task of a backend is reachable', async () => {
    const r = await served('gone.test', 3);
    expect(r.statuses).toEqual([503, 503, 503]);
  });

  it('keeps the set across a reload (HUP) and a restart (seeded from the endpoints file)', async () => {
    const master = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim());
    const before = workerPids();
    process.kill(master, 'SIGHUP');
    const until = Date.now() + 10_000;
    while (Date.now() < until && workerPids().some((p) => before.includes(p))) await new Promise((r) => setTimeout(r, 50));
    expect(workerPids().some((p) => before.includes(p))).toBe(false);
    const afterReload = await served('web.test', 20);
    expect(afterReload.statuses.every((s) => s === 200)).toBe(true);
    expect(new Set(afterReload.tasks)).toEqual(new Set(['127.0.55.2', '127.0.55.3']));

    await nginx.stop();
    nginx = await startNginx(firstConfig, http, dir);
    const afterRestart = await served('web.test', 20);
    expect(afterRestart.statuses.every((s) => s === 200)).toBe(true);
    expect(new Set(afterRestart.tasks)).toEqual(new Set(['127.0.55.2', '127.0.55.3']));
  }, 30_000);
});
