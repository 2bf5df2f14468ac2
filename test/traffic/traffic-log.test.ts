/**
 * The per-upstream traffic counters end to end on a real NGINX and a real HAProxy: the rendered
 * config (hitless delivery) sends its log lines to the agent's UDP listener, which counts
 * requests, 5xx answers and latencies per upstream, the way canary analysis reads them (and, for
 * HAProxy, prints the access log that now reaches the agent instead of stdout).
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrafficListener } from '../../src/agent/traffic-listener';
import { LATENCY_BUCKET_COUNT } from '../../src/domain/traffic';
import { buildModel } from '../../src/plan/build-model';
import { renderNginx } from '../../src/render/nginx/render';
import { renderHaproxy } from '../../src/render/haproxy/render';
import { startHaproxy, type RunningHaproxy } from '../helpers/haproxy-check';
import { startEcho, type Backend } from '../helpers/echo-backends';
import { send } from '../helpers/http-client';
import { freePorts, loopbackRenderOptions, startNginx, type RunningNginx } from '../helpers/nginx-process';
import { desired, route, snapshot, task } from '../helpers/specs';

let nginx: RunningNginx | undefined;
let haproxy: RunningHaproxy | undefined;
let listener: TrafficListener | undefined;
let haproxyListener: TrafficListener | undefined;
const printed: string[] = [];
let haproxyHttp = 0;
const closers: (() => Promise<void>)[] = [];
let http = 0;
let okUpstream = '';
let badUpstream = '';

beforeAll(async () => {
  const [pHttp, pTls, pPt, pStatus, pUnavailable, pTraffic, pOk, pBad, hHttp, hHttps, hStatus, hTraffic] = await freePorts(12);
  haproxyHttp = hHttp ?? 0;
  http = pHttp ?? 0;
  const ok: Backend = await startEcho('ok', 't1', '127.0.9.1', pOk ?? 0);
  closers.push(() => ok.close());
  const bad = createServer((_req, res) => {
    res.statusCode = 500;
    res.end('broken\n');
  });
  await new Promise<void>((r) => bad.listen(pBad, '127.0.9.2', () => r()));
  closers.push(() => new Promise<void>((r) => bad.close(() => r())));
  const routes = [
    route('ok', { hosts: ['ok.test'], rules: [{ backends: [{ service: 'ok', port: pOk }] }] }),
    route('bad', { hosts: ['bad.test'], rules: [{ backends: [{ service: 'bad', port: pBad }] }] }),
  ];
  const snap = snapshot({ services: [{ name: 'ok', networks: ['app'] }, { name: 'bad', networks: ['app'] }], tasks: [task('ok', '127.0.9.1'), task('bad', '127.0.9.2')], networks: [{ name: 'app' }], secrets: [] });
  const model = buildModel(desired(routes), snap).clusters.find((c) => c.cluster === 'default');
  if (model === undefined) throw new Error('no default cluster');
  expect(model.spec.proxy.delivery).toBe('hitless');
  okUpstream = model.upstreams.find((u) => u.service === 'ok')?.name ?? '';
  badUpstream = model.upstreams.find((u) => u.service === 'bad')?.name ?? '';
  listener = new TrafficListener(pTraffic ?? 0, pino({ level: 'silent' }));
  await listener.start();
  const dir = mkdtempSync(join(tmpdir(), 'sg-nginx-'));
  const config = renderNginx(model, loopbackRenderOptions(dir, [http, pTls ?? 0, pPt ?? 0, pStatus ?? 0, pUnavailable ?? 0, pTraffic ?? 0]));
  expect(config).toContain(`syslog:server=127.0.0.1:${pTraffic},nohostname,tag=sg`);
  nginx = await startNginx(config, http, dir);

  haproxyListener = new TrafficListener(hTraffic ?? 0, pino({ level: 'silent' }), (line) => printed.push(line));
  await haproxyListener.start();
  const hdir = mkdtempSync(join(tmpdir(), 'sg-haproxy-'));
  const hmodel = { ...model, spec: { ...model.spec, proxy: { ...model.spec.proxy, kind: 'haproxy' as const } } };
  const hconfig = renderHaproxy(hmodel, { certDir: hdir, runtimeDir: hdir, bindAddress: '127.0.0.1', httpPort: haproxyHttp, httpsPort: hHttps ?? 0, statusPort: hStatus ?? 0, logTarget: 'stderr', trafficLogPort: hTraffic ?? 0 });
  expect(hconfig).toContain(`log 127.0.0.1:${hTraffic} format raw local0`);
  haproxy = await startHaproxy(hconfig, haproxyHttp, hdir);
}, 30_000);

afterAll(async () => {
  await nginx?.stop();
  await haproxy?.stop();
  listener?.stop();
  haproxyListener?.stop();
  for (const c of closers) await c();
});

describe('traffic counters from the proxies\' logs', () => {
  it('counts requests, 5xx and latencies per upstream', async () => {
    for (let i = 0; i < 30; i++) expect((await send({ port: http, host: 'ok.test', path: `/${i}` })).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await send({ port: http, host: 'bad.test', path: '/' })).status).toBe(500);
    // Requests no upstream served (no matching host) are not any backend's traffic.
    expect((await send({ port: http, host: 'nobody.test', path: '/' })).status).toBe(503);
    const byUpstream = async () => new Map((listener?.counters.snapshot() ?? []).map((u) => [u.upstream, u]));
    for (let i = 0; i < 50 && (((await byUpstream()).get(okUpstream)?.requests ?? 0) < 30 || ((await byUpstream()).get(badUpstream)?.requests ?? 0) < 20); i++) await new Promise((r) => setTimeout(r, 20));
    const counters = await byUpstream();
    expect([...counters.keys()].sort()).toEqual([badUpstream, okUpstream].sort());
    const okc = counters.get(okUpstream);
    const badc = counters.get(badUpstream);
    expect(okc).toMatchObject({ requests: 30, responses5xx: 0 });
    expect(badc).toMatchObject({ requests: 20, responses5xx: 20 });
    expect(okc?.latencyBuckets.length).toBe(LATENCY_BUCKET_COUNT);
    expect(okc?.latencyBuckets.reduce((a, b) => a + b, 0)).toBe(30);
  });

  it('counts HAProxy requests per upstream and prints its access log', async () => {
    for (let i = 0; i < 12; i++) expect((await send({ port: haproxyHttp, host: 'ok.test', path: `/${i}` })).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await send({ port: haproxyHttp, host: 'bad.test', path: '/' })).status).toBe(500);
    const byUpstream = () => new Map((haproxyListener?.counters.snapshot() ?? []).map((u) => [u.upstream, u]));
    for (let i = 0; i < 50 && ((byUpstream().get(okUpstream)?.requests ?? 0) < 12 || (byUpstream().get(badUpstream)?.requests ?? 0) < 8); i++) await new Promise((r) => setTimeout(r, 20));
    expect(byUpstream().get(okUpstream)).toMatchObject({ requests: 12, responses5xx: 0 });
    expect(byUpstream().get(badUpstream)).toMatchObject({ requests: 8, responses5xx: 8 });
    // The access log (on by default) reached the agent and was printed, without the counter prefix.
    expect(printed.some((l) => l.includes('"GET /3 HTTP/1.1"') && !l.startsWith('sgm'))).toBe(true);
  });
});
