/**
 * Dynamic endpoints through the real proxy agent (ADR 0016): the core's ControlPlane behind the real
 * gRPC server, a ProxyAgent running a real NGINX with the Lua module. A delivery whose nginx.conf is
 * unchanged is applied as an endpoint push — the new task serves, the NGINX workers are the same
 * processes (no reload) and the report names the new hash; a route change still reloads, with the
 * set pushed first so the new route is served by its tasks at once. A task change sends only the
 * changed upstream (ADR 0038), also after a reload; after NGINX restarted (seeded from the file) the
 * agent's delta is refused and it pushes the whole set.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { coreConnection } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import type { CoreApi } from '../../src/api/server';
import type { ProxyAgent } from '../../src/agent/proxy-agent';
import { buildModel } from '../../src/plan/build-model';
import { renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { ENDPOINTS_FILE } from '../../src/render/render-cluster';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { send } from '../helpers/http-client';
import { freePorts, loopbackRenderOptions } from '../helpers/nginx-process';
import { desired, route, snapshot, task } from '../helpers/specs';
import { pollUntilOk as until } from '../helpers/poll';
import { nginxWorkerPids, startEdgeAgent, stopEdgeAgent } from '../helpers/edge-agent';

/** The agent's log lines (JSON), to see how each set was sent. */
const lines: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
/** How the agent sent the set of the delivery `hash` (from its "endpoints applied" log line). */
const sentFor = (hash: string): unknown => lines.find((l) => l['msg'] === 'endpoints applied (no reload)' && l['config'] === hash.slice(0, 12))?.['sent'];
const dir = mkdtempSync(join(tmpdir(), 'sg-dyn-agent-'));
const confDir = join(dir, 'live');
const plane = new ControlPlane();
const backends: Backend[] = [];
let api: CoreApi;
let agent: ProxyAgent;
let core: ReturnType<typeof coreConnection>;
let http = 0;
let control = 0;
let backendPort = 0;
let opts: Parameters<typeof renderNginxWithEndpoints>[1] = {};

function files(webIps: readonly string[], hosts: readonly string[]) {
  const snap = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: webIps.map((ip) => task('web', ip)), networks: [{ name: 'app', driver: 'overlay', scope: 'swarm' }] });
  const routes = hosts.map((h) => route(h.replace(/\W/g, '-'), { hosts: [h], rules: [{ backends: [{ service: 'web', port: backendPort }] }] }));
  const m = buildModel(desired(routes), snap).clusters[0];
  if (m === undefined) throw new Error('no cluster');
  const r = renderNginxWithEndpoints(m, opts);
  return [
    { path: 'nginx.conf', content: Buffer.from(r.config) },
    { path: ENDPOINTS_FILE, content: Buffer.from(r.endpoints) },
  ];
}

async function tasksServing(host: string, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await send({ port: http, host });
    seen.add(r.status === 200 ? (JSON.parse(r.body) as EchoReply).task : `status ${r.status}`);
  }
  return seen;
}

const workers = (): number[] => nginxWorkerPids(confDir);

beforeAll(async () => {
  const ports = await freePorts(8);
  [http = 0, , , , , , control = 0, backendPort = 0] = ports;
  opts = {
    ...loopbackRenderOptions(confDir, ports.slice(0, 6)),
    dynamicEndpoints: { controlPort: control, endpointsPath: join(confDir, ENDPOINTS_FILE), modulesDir: '/usr/lib/nginx/modules' },
  };
  for (const ip of ['127.0.57.1', '127.0.57.2']) backends.push(await startEcho('web', ip, ip, backendPort));
  ({ api, core, agent } = await startEdgeAgent({ dir, confDir, plane, log, http, control }));
}, 30_000);

afterAll(async () => {
  await stopEdgeAgent({ agent, core, api });
  await Promise.all(backends.map((b) => b.close()));
});

describe('dynamic endpoints through the proxy agent', () => {
  it('applies a task change as an endpoint push: served by the new task, same NGINX workers', async () => {
    const v1 = plane.deliver('edge', 'nginx', files(['127.0.57.1'], ['a.test']));
    await until('v1 applied', () => plane.reportsOf('edge').find((r) => r.appliedHash === v1.configHash));
    expect(await tasksServing('a.test', 6)).toEqual(new Set(['127.0.57.1']));
    const before = workers();

    const v2 = plane.deliver('edge', 'nginx', files(['127.0.57.1', '127.0.57.2'], ['a.test']));
    expect(v2.files.find((f) => f.path === 'nginx.conf')?.content).toEqual(v1.files.find((f) => f.path === 'nginx.conf')?.content);
    await until('v2 applied', () => plane.reportsOf('edge').find((r) => r.appliedHash === v2.configHash));
    expect(await tasksServing('a.test', 10)).toEqual(new Set(['127.0.57.1', '127.0.57.2']));
    expect(workers()).toEqual(before);
    expect(readFileSync(join(confDir, ENDPOINTS_FILE), 'utf8')).toContain('127.0.57.2:');
    // Only web's upstream went to the balancer: the set of v1 was confirmed by the push after its reload.
    expect(sentFor(v2.configHash)).toBe('delta');
    expect(lines.find((l) => l['config'] === v2.configHash.slice(0, 12))?.['upstreams']).toBe(1);
  });

  it('reloads for a route change and serves the new route from its tasks at once', async () => {
    const before = workers();
    const v3 = plane.deliver('edge', 'nginx', files(['127.0.57.2'], ['a.test', 'b.test']));
    await until('v3 applied', () => plane.reportsOf('edge').find((r) => r.appliedHash === v3.configHash));
    expect(await tasksServing('b.test', 6)).toEqual(new Set(['127.0.57.2']));
    expect(await tasksServing('a.test', 6)).toEqual(new Set(['127.0.57.2']));
    await until('old workers gone', () => (workers().some((p) => before.includes(p)) ? undefined : true));
    // The set pushed whole after the reload is the base of the next task change's delta.
    const v4 = plane.deliver('edge', 'nginx', files(['127.0.57.1', '127.0.57.2'], ['a.test', 'b.test']));
    await until('v4 applied', () => plane.reportsOf('edge').find((r) => r.appliedHash === v4.configHash));
    expect(sentFor(v4.configHash)).toBe('delta');
    expect(await tasksServing('b.test', 8)).toEqual(new Set(['127.0.57.1', '127.0.57.2']));
  });

  it('after NGINX restarted (seeded from the endpoints file) pushes the next set whole', async () => {
    const pid = agent.proxyPid ?? 0;
    const restarts = agent.restarts;
    process.kill(pid, 'SIGKILL');
    await until('NGINX restarted', () => (agent.restarts > restarts && agent.proxyPid !== undefined && agent.proxyPid !== pid ? true : undefined));
    await until('serving again', async () => ((await tasksServing('a.test', 2)).has('127.0.57.1') ? true : undefined));
    const v5 = plane.deliver('edge', 'nginx', files(['127.0.57.1'], ['a.test', 'b.test']));
    await until('v5 applied', () => plane.reportsOf('edge').find((r) => r.appliedHash === v5.configHash));
    // The agent's delta named a set the fresh dictionary does not hold (409): the whole set went.
    expect(sentFor(v5.configHash)).toBe('whole');
    expect(await tasksServing('b.test', 8)).toEqual(new Set(['127.0.57.1']));
  }, 30_000);
});
