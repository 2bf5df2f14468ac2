/**
 * Dynamic endpoints on a real HAProxy 2.6 (ADR 0031), through the real proxy agent and gRPC: the
 * core's ControlPlane delivers haproxy.cfg (server slots, no task address) and endpoints.txt; the
 * agent puts the members into the slots through the runtime API. A task added or removed is served
 * or dropped with no reload (the same worker process) and no failed request under keep-alive load;
 * the set survives a reload (a route change) and a restart of HAProxy (seeded from the
 * server-state file before it serves); declared weights, client-address and cookie stickiness hold.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreConnection } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi, type CoreApi } from '../../src/api/server';
import { childPids, ProxyAgent } from '../../src/agent/proxy-agent';
import { buildModel } from '../../src/plan/build-model';
import { renderHaproxyWithEndpoints } from '../../src/render/haproxy/render';
import { ENDPOINTS_FILE } from '../../src/render/render-cluster';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { haproxyAvailable } from '../helpers/haproxy-check';
import { send } from '../helpers/http-client';
import { startKeepAliveLoad } from '../helpers/keepalive-load';
import { freePorts } from '../helpers/nginx-process';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';
import { pollUntilOk as until } from '../helpers/poll';

const log = pino({ level: process.env['SG_TEST_LOG'] ?? 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'sg-hap-dyn-'));
const confDir = join(dir, 'live');
const runtimeDir = join(dir, 'run');
const plane = new ControlPlane();
const backends = new Map<string, Backend>();
let api: CoreApi;
let agent: ProxyAgent;
let core: ReturnType<typeof coreConnection>;
let http = 0;
let https = 0;
let status = 0;
let backendPort = 0;

const WEB = ['127.0.59.1', '127.0.59.2', '127.0.59.3'];
const [W1 = '', W2 = '', W3 = ''] = WEB;
/** More tasks of web: past the 8 slots a backend starts with. */
const MORE = Array.from({ length: 7 }, (_, i) => `127.0.59.${21 + i}`);
const V1 = '127.0.59.11';
const V2 = '127.0.59.12';

function files(webIps: readonly string[], extraHosts: readonly string[] = []) {
  const routes = [
    route('web', { serviceCluster: 'edge', hosts: ['web.test', ...extraHosts], rules: [{ backends: [{ service: 'web', port: backendPort }] }] }),
    route('split', { serviceCluster: 'edge', hosts: ['split.test'], rules: [{ backends: [{ service: 'v1', port: backendPort, weight: 80 }, { service: 'v2', port: backendPort, weight: 20 }] }] }),
    route('ip', { serviceCluster: 'edge', hosts: ['ip.test'], rules: [{ backends: [{ service: 'web', port: backendPort }], sessionAffinity: { clientIP: true } }] }),
    route('cookie', { serviceCluster: 'edge', hosts: ['cookie.test'], rules: [{ backends: [{ service: 'web', port: backendPort }], sessionAffinity: { cookie: { name: 'sg_pin', ttl: '10m' } } }] }),
  ];
  const snap = snapshot({
    services: ['web', 'v1', 'v2'].map((name) => ({ name, networks: ['app'] })),
    tasks: [...webIps.map((ip) => task('web', ip)), task('v1', V1), task('v2', V2)],
    networks: [{ name: 'app', driver: 'overlay', scope: 'swarm' }],
  });
  const spec = cluster('edge', { proxy: { kind: 'haproxy', delivery: 'hitless', endpoints: 'Dynamic' } });
  const m = buildModel(desired(routes, [spec]), snap).clusters.find((c) => c.cluster === 'edge');
  if (m === undefined) throw new Error('no cluster edge');
  const r = renderHaproxyWithEndpoints(m, { dynamicEndpoints: true, runtimeDir, certDir: join(dir, 'certs'), bindAddress: '127.0.0.1', httpPort: http, httpsPort: https, statusPort: status, logTarget: '/dev/null' });
  return [
    { path: 'haproxy.cfg', content: Buffer.from(r.config) },
    { path: ENDPOINTS_FILE, content: Buffer.from(r.endpoints) },
  ];
}

async function served(host: string, n: number, headers: Record<string, string> = {}, localAddress?: string): Promise<{ statuses: number[]; tasks: string[]; cookies: string[] }> {
  const out = { statuses: [] as number[], tasks: [] as string[], cookies: [] as string[] };
  for (let i = 0; i < n; i++) {
    const r = await send({ port: http, host, headers, ...(localAddress !== undefined ? { localAddress } : {}) });
    out.statuses.push(r.status);
    if (r.status === 200) out.tasks.push((JSON.parse(r.body) as EchoReply).task);
    for (const c of r.headers['set-cookie'] ?? []) out.cookies.push(c.split(';')[0] ?? '');
  }
  return out;
}

const workers = (): number[] => [...childPids(agent.proxyPid ?? 0)].sort();

async function applied(f: ReturnType<typeof files>): Promise<string> {
  const d = plane.deliver('edge', 'haproxy', f);
  await until(`config ${d.configHash.slice(0, 8)} applied`, () => plane.reportsOf('edge').find((r) => r.appliedHash === d.configHash));
  return d.configHash;
}

beforeAll(async () => {
  [http = 0, https = 0, status = 0, backendPort = 0] = await freePorts(4);
  for (const ip of [...WEB, ...MORE, V1, V2]) backends.set(ip, await startEcho('svc', ip, ip, backendPort));
  const socket = `unix://${dir}/core.sock`;
  api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
  core = coreConnection(socket, grpc.credentials.createInsecure());
  // The task's first config is the Dynamic one, delivered as the agent subscribes.
  plane.deliver('edge', 'haproxy', files([W1, W2]));
  const boot = join(dir, 'boot.cfg');
  writeFileSync(boot, `defaults\n    mode http\n    timeout client 5s\n    timeout connect 5s\n    timeout server 5s\nfrontend f\n    bind 127.0.0.1:${http}\n    http-request return status 200 content-type text/plain string "boot"\n`);
  agent = new ProxyAgent({ core, kind: 'haproxy', haproxy: { runtimeDir, certDir: join(dir, 'certs'), secretsDir: join(dir, 'secrets'), quiet: process.env['SG_DEBUG'] !== '1' }, cluster: 'edge', replicaId: 'task-1', confDir, bootConfigs: [boot], log, heartbeatMs: 200 });
  agent.start();
  const first = plane.delivered('edge');
  await until('first config applied', () => plane.reportsOf('edge').find((r) => r.appliedHash === first?.configHash));
}, 30_000);

afterAll(async () => {
  agent?.stop('SIGTERM');
  await agent?.exited;
  core?.close();
  await api?.close();
  await Promise.all([...backends.values()].map((b) => b.close()));
});

describe.runIf(haproxyAvailable())('HAProxy dynamic endpoints (runtime API, server slots)', () => {
  it('serves the members of the delivered set, and no task address is in haproxy.cfg', async () => {
    const config = readFileSync(join(confDir, 'haproxy.cfg'), 'utf8');
    expect(config).toContain('server s8 sg-slot.invalid:1');
    for (const ip of [...WEB, V1, V2]) expect(config).not.toContain(ip);
    const r = await served('web.test', 20);
    expect(r.statuses.every((s) => s === 200)).toBe(true);
    expect(new Set(r.tasks)).toEqual(new Set([W1, W2]));
  });

  it('adds a task with the same haproxy.cfg, no reload and no failed request under keep-alive load', async () => {
    const before = workers();
    expect(before.length).toBeGreaterThan(0);
    const cfg = readFileSync(join(confDir, 'haproxy.cfg'));
    const next = files([W1, W2, W3]);
    expect(next[0]?.content.equals(cfg)).toBe(true);
    const load = startKeepAliveLoad(http, 'web.test', 8);
    await applied(next);
    const seen = await until('the new task served', async () => {
      const r = await served('web.test', 12);
      return new Set(r.tasks).has(W3) ? new Set(r.tasks) : undefined;
    });
    const result = await load.stop();
    expect([...seen].filter((t) => !WEB.includes(t))).toEqual([]);
    expect(result.ok).toBeGreaterThan(0);
    expect(result.failures).toEqual([]);
    expect(workers()).toEqual(before);
  });

  it('drops a removed task before its container goes, with no failed request and no reload', async () => {
    const before = workers();
    expect(before.length).toBeGreaterThan(0);
    const load = startKeepAliveLoad(http, 'web.test', 8);
    await applied(files([W2, W3]));
    await backends.get(W1)?.close();
    backends.delete(W1);
    const r = await served('web.test', 30);
    const result = await load.stop();
    expect(r.tasks.length).toBe(30);
    expect(new Set(r.tasks)).toEqual(new Set([W2, W3]));
    expect(result.failures).toEqual([]);
    expect(workers()).toEqual(before);
  });

  it('keeps declared weights with dynamic membership', async () => {
    const r = await served('split.test', 400);
    expect(r.statuses.every((s) => s === 200)).toBe(true);
    const v1 = r.tasks.filter((t) => t === V1).length / 400;
    expect(v1).toBeGreaterThan(0.7);
    expect(v1).toBeLessThan(0.9);
  });

  it('keeps client-address and cookie stickiness with dynamic membership', async () => {
    for (const client of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) expect(new Set((await served('ip.test', 8, {}, client)).tasks).size).toBe(1);
    // HAProxy inserts the cookie of the slot it chose; a client sending it back stays on that task.
    const first = await served('cookie.test', 1);
    const pin = first.cookies.find((c) => c.startsWith('sg_pin='));
    expect(pin).toMatch(/^sg_pin=[0-9a-z]+\.s\d$/);
    const again = await served('cookie.test', 10, { cookie: pin ?? '' });
    expect(new Set(again.tasks)).toEqual(new Set(first.tasks));
    // Both tasks get clients: the cookie pins, it does not funnel everyone to one slot.
    const spread = new Set<string>();
    for (let i = 0; i < 10; i++) spread.add((await served('cookie.test', 1)).tasks[0] ?? '');
    expect(spread).toEqual(new Set([W2, W3]));
  });

  it('keeps the set across a reload (a route change): served from the state file the new worker loaded', async () => {
    const before = workers();
    const load = startKeepAliveLoad(http, 'web.test', 8);
    await applied(files([W2, W3], ['also.test']));
    await until('old worker gone', () => (workers().some((p) => before.includes(p)) ? undefined : true));
    // Polled: on a loaded machine one refused connection marks a task down (observe layer4,
    // error-limit 1) and the state file carries that too, for the second until its check brings it back.
    const bothOf = async (host: string, n: number): Promise<Awaited<ReturnType<typeof served>> | undefined> => {
      const r = await served(host, n);
      return new Set(r.tasks).size === 2 ? r : undefined;
    };
    const r = await until('web.test served by both tasks', () => bothOf('web.test', 20));
    const also = await until('also.test served by both tasks', () => bothOf('also.test', 10));
    const result = await load.stop();
    expect(new Set(r.tasks)).toEqual(new Set([W2, W3]));
    expect(also.statuses.every((s) => s === 200)).toBe(true);
    expect(new Set(also.tasks)).toEqual(new Set([W2, W3]));
    expect(result.failures).toEqual([]);
  });

  it('grows a backend past its 8 slots with one reload (16 slots), every member served, none lost', async () => {
    const eight = [W2, W3, ...MORE.slice(0, 6)];
    const ninth = MORE[6] ?? '';
    await applied(files(eight, ['also.test']));
    expect(readFileSync(join(confDir, 'haproxy.cfg'), 'utf8')).not.toContain('server s9 ');
    const before = workers();
    // A ninth task: the config renders 16 slots, which is a reload; the state file carries the eight.
    const load = startKeepAliveLoad(http, 'web.test', 8);
    await applied(files([...eight, ninth], ['also.test']));
    await until('old worker gone', () => (workers().some((p) => before.includes(p)) ? undefined : true));
    expect(readFileSync(join(confDir, 'haproxy.cfg'), 'utf8')).toContain('server s16 ');
    const seen = await until('all nine served', async () => {
      const r = await served('web.test', 60);
      return new Set(r.tasks).size === 9 ? new Set(r.tasks) : undefined;
    });
    const result = await load.stop();
    expect(seen).toEqual(new Set([...eight, ninth]));
    expect(result.failures).toEqual([]);
    // Back to two tasks: 8 slots again (one more reload), served by exactly those two.
    await applied(files([W2, W3], ['also.test']));
    expect(new Set((await served('web.test', 20)).tasks)).toEqual(new Set([W2, W3]));
  }, 30_000);

  it('keeps the set across a restart of HAProxy: the agent seeds the state file before it serves', async () => {
    const master = agent.proxyPid ?? 0;
    process.kill(master, 'SIGKILL');
    await until('HAProxy restarted', () => (agent.restarts >= 1 && agent.proxyPid !== undefined && agent.proxyPid !== master && workers().length > 0 ? true : undefined));
    // No delivery in between: what serves comes from the state file.
    const r = await until('served after the restart', async () => {
      const x = await served('web.test', 20);
      return x.statuses.every((s) => s === 200) ? x : undefined;
    });
    expect(new Set(r.tasks)).toEqual(new Set([W2, W3]));
  }, 30_000);
});
