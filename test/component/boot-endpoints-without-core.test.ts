/**
 * A Dynamic proxy task that boots while the core is unreachable (ADR 0035): the real ProxyAgent, with
 * a real NGINX (Lua balancer) and a real HAProxy (server slots), starts from the files a task has
 * mounted — the boot config and the endpoint set rendered with it beside it — with no core answering
 * and no last-applied config. It serves 200 from the backend's task (before ADR 0035: 503 for every
 * backend until the core answered). When the core then answers, its current set replaces the boot
 * one without a reload (same worker processes).
 */
import * as grpc from '@grpc/grpc-js';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { coreConnection } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi } from '../../src/api/server';
import { childPids, ProxyAgent } from '../../src/agent/proxy-agent';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { renderHaproxyWithEndpoints } from '../../src/render/haproxy/render';
import { renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { ENDPOINTS_FILE } from '../../src/render/render-cluster';
import { cleanupsAfterEach } from '../helpers/agent-harness';
import { startEcho, type EchoReply } from '../helpers/echo-backends';
import { haproxyAvailable } from '../helpers/haproxy-check';
import { send } from '../helpers/http-client';
import { freePorts, loopbackRenderOptions } from '../helpers/nginx-process';
import { pollUntilOk as until } from '../helpers/poll';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';

const log = pino({ level: process.env['SG_TEST_LOG'] ?? 'silent' });
const cleanups = cleanupsAfterEach();
const [T1, T2] = ['127.0.83.1', '127.0.83.2'] as const;

function model(kind: 'nginx' | 'haproxy', ips: readonly string[], port: number): ProxyModel {
  const snap = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: ips.map((ip) => task('web', ip)), networks: [{ name: 'app', driver: 'overlay', scope: 'swarm' }] });
  const routes = [route('web', { serviceCluster: 'edge', hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port }] }] })];
  const m = buildModel(desired(routes, [cluster('edge', { proxy: { kind, delivery: 'hitless', endpoints: 'Dynamic' } })]), snap).clusters.find((c) => c.cluster === 'edge');
  if (m === undefined) throw new Error('no cluster edge');
  return m;
}

/** Which tasks answer `n` requests for web.test (`status N` for a non-200 answer). */
async function answers(port: number, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await send({ port, host: 'web.test' }).catch(() => ({ status: 0, body: '' }));
    seen.add(r.status === 200 ? (JSON.parse(r.body) as EchoReply).task : `status ${r.status}`);
  }
  return seen;
}

interface Rendered {
  readonly config: string;
  readonly endpoints: string;
}

/**
 * Mount `boot` as a task would (main file + endpoints.txt in one directory), start the agent with a
 * core that does not answer, check it serves T1 from the boot set, then let the core answer with a set
 * of T2 only (the same config): served by T2, by the same workers.
 */
async function bootWithoutCore(kind: 'nginx' | 'haproxy', main: string, http: number, renderIn: (dir: string, ips: readonly string[]) => Rendered, agentOptions: (dir: string) => Partial<ConstructorParameters<typeof ProxyAgent>[0]>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `sg-boot-ep-${kind}-`));
  chmodSync(dir, 0o755); // NGINX's workers (nobody) look for the drain flag in it
  const render = (ips: readonly string[]): Rendered => renderIn(dir, ips);
  const bootDir = join(dir, 'boot');
  mkdirSync(bootDir);
  const boot = render([T1]);
  writeFileSync(join(bootDir, main), boot.config);
  writeFileSync(join(bootDir, ENDPOINTS_FILE), boot.endpoints);
  const socket = `unix://${dir}/core.sock`;
  const core = coreConnection(socket, grpc.credentials.createInsecure());
  cleanups.push(() => core.close());
  const agent = new ProxyAgent({ core, kind, cluster: 'edge', replicaId: 'task-1', confDir: join(dir, 'live'), bootConfigs: [join(bootDir, main)], log, heartbeatMs: 200, ...agentOptions(dir) });
  cleanups.push(async () => {
    agent.stop('SIGTERM');
    await agent.exited;
  });
  expect(await agent.bootFromCore(300)).toBe('mounted');
  agent.start();
  await until(`${kind} serves web.test from the boot set`, async () => ((await answers(http, 1)).has(T1) ? true : undefined), 15_000);
  expect(await answers(http, 6)).toEqual(new Set([T1]));
  const workers = [...childPids(agent.proxyPid ?? 0)].sort();
  expect(workers.length).toBeGreaterThan(0);

  // The core answers: its current set (T2 only, same config) replaces the boot one, no reload.
  const plane = new ControlPlane();
  const now = render([T2]);
  expect(now.config).toBe(boot.config);
  const d = plane.deliver('edge', kind, [
    { path: main, content: Buffer.from(now.config) },
    { path: ENDPOINTS_FILE, content: Buffer.from(now.endpoints) },
  ]);
  const api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
  cleanups.push(() => api.close());
  await until('the core set applied', () => plane.reportsOf('edge').find((r) => r.appliedHash === d.configHash));
  expect(await answers(http, 6)).toEqual(new Set([T2]));
  expect([...childPids(agent.proxyPid ?? 0)].sort()).toEqual(workers);
}

describe('a Dynamic proxy task booting without the core', () => {
  it('NGINX serves the backend from the boot endpoint set, then takes the core set without a reload', async () => {
    const ports = await freePorts(8);
    const [http = 0, , , , , , control = 0, backendPort = 0] = ports;
    for (const ip of [T1, T2]) {
      const b = await startEcho('web', ip, ip, backendPort);
      cleanups.push(() => b.close());
    }
    const render = (dir: string, ips: readonly string[]): Rendered =>
      renderNginxWithEndpoints(model('nginx', ips, backendPort), {
        ...loopbackRenderOptions(join(dir, 'live'), ports.slice(0, 6)),
        dynamicEndpoints: { controlPort: control, endpointsPath: join(dir, 'live', ENDPOINTS_FILE), modulesDir: '/usr/lib/nginx/modules' },
      });
    await bootWithoutCore('nginx', 'nginx.conf', http, render, () => ({ endpointsPort: control }));
  }, 60_000);

  it('checks the mounted config before the first delivery of the same config is reported applied (no reload)', async () => {
    // The agent's own check (nginx -t, and the TLS pair check nginx -t cannot do) may refuse a config
    // NGINX runs: a task that booted on the mounted copy of such a config must not report the core's
    // identical delivery as applied just because only the endpoint set differs.
    const ports = await freePorts(8);
    const [http = 0, , , , , , control = 0, backendPort = 0] = ports;
    const b = await startEcho('web', T1, T1, backendPort);
    cleanups.push(() => b.close());
    const dir = mkdtempSync(join(tmpdir(), 'sg-boot-ep-check-'));
    chmodSync(dir, 0o755);
    const refuse = join(dir, 'refuse');
    const wrapper = join(dir, 'nginx');
    // nginx, except that its check fails while `refuse` exists (a stand-in for the TLS pair check).
    writeFileSync(wrapper, `#!/bin/sh\nfor a in "$@"; do if [ "$a" = -t ] && [ -e ${refuse} ]; then echo "refused for the test" >&2; exit 1; fi; done\nexec nginx "$@"\n`, { mode: 0o755 });
    const render = (ips: readonly string[]): Rendered =>
      renderNginxWithEndpoints(model('nginx', ips, backendPort), { ...loopbackRenderOptions(join(dir, 'live'), ports.slice(0, 6)), dynamicEndpoints: { controlPort: control, endpointsPath: join(dir, 'live', ENDPOINTS_FILE), modulesDir: '/usr/lib/nginx/modules' } });
    const bootDir = join(dir, 'boot');
    mkdirSync(bootDir);
    const boot = render([T1]);
    writeFileSync(join(bootDir, 'nginx.conf'), boot.config);
    writeFileSync(join(bootDir, ENDPOINTS_FILE), boot.endpoints);
    const socket = `unix://${dir}/core.sock`;
    const core = coreConnection(socket, grpc.credentials.createInsecure());
    cleanups.push(() => core.close());
    const agent = new ProxyAgent({ core, kind: 'nginx', nginx: wrapper, cluster: 'edge', replicaId: 'task-1', confDir: join(dir, 'live'), bootConfigs: [join(bootDir, 'nginx.conf')], log, heartbeatMs: 200, endpointsPort: control });
    cleanups.push(async () => {
      agent.stop('SIGTERM');
      await agent.exited;
    });
    expect(await agent.bootFromCore(300)).toBe('mounted');
    agent.start();
    await until('NGINX serves web.test from the boot set', async () => ((await answers(http, 1)).has(T1) ? true : undefined), 15_000);
    const workers = [...childPids(agent.proxyPid ?? 0)].sort();
    writeFileSync(refuse, '');
    const plane = new ControlPlane();
    const refused = plane.deliver('edge', 'nginx', [
      { path: 'nginx.conf', content: Buffer.from(boot.config) },
      { path: ENDPOINTS_FILE, content: Buffer.from(`${boot.endpoints}`.replace(T1, T2)) },
    ]);
    const api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
    cleanups.push(() => api.close());
    const report = await until('the refusal reported', () => plane.reportsOf('edge').find((r) => r.lastValidation?.ok === false));
    expect(report.lastValidation?.output).toContain('refused for the test');
    expect(report.appliedHash).not.toBe(refused.configHash);
    // Still the boot set, by the same workers: nothing was pushed nor reloaded.
    expect(await answers(http, 4)).toEqual(new Set([T1]));
    expect([...childPids(agent.proxyPid ?? 0)].sort()).toEqual(workers);
  }, 60_000);

  it.runIf(haproxyAvailable())('HAProxy fills its slots from the boot endpoint set, then takes the core set without a reload', async () => {
    const [http = 0, https = 0, status = 0, backendPort = 0] = await freePorts(4);
    for (const ip of [T1, T2]) {
      const b = await startEcho('web', ip, ip, backendPort);
      cleanups.push(() => b.close());
    }
    const render = (dir: string, ips: readonly string[]): Rendered =>
      renderHaproxyWithEndpoints(model('haproxy', ips, backendPort), { dynamicEndpoints: true, runtimeDir: join(dir, 'run'), certDir: join(dir, 'certs'), bindAddress: '127.0.0.1', httpPort: http, httpsPort: https, statusPort: status, logTarget: '/dev/null' });
    await bootWithoutCore('haproxy', 'haproxy.cfg', http, render, (d) => ({ haproxy: { runtimeDir: join(d, 'run'), certDir: join(d, 'certs'), secretsDir: join(d, 'secrets'), quiet: true } }));
  }, 60_000);
});
