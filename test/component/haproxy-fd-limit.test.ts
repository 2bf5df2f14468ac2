/**
 * HAProxy and its file-descriptor limit, with a real HAProxy 2.6 run under `prlimit` (a hard
 * RLIMIT_NOFILE the test chooses, whatever the machine's) by a ProxyAgent behind the real gRPC
 * server. `haproxy -c` passes a config HAProxy then refuses to load for want of descriptors:
 * - the agent's check refuses it first, saying how many it needs and what to change;
 * - where the agent cannot know the limit, HAProxy's refusal at the reload is seen on its master
 *   CLI and reported at once as a refusal, the previous config serving, and the next good one applies;
 * - the agent's bound (2 × maxconn + listeners + checked servers) is HAProxy's own less a small
 *   constant, for a rendered config with Dynamic endpoints (8 checked slots per backend).
 */
import * as grpc from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { coreConnection } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi } from '../../src/api/server';
import { haproxyFdNeed } from '../../src/agent/haproxy-fd-need';
import { ProxyAgent } from '../../src/agent/proxy-agent';
import { buildModel } from '../../src/plan/build-model';
import { renderHaproxy } from '../../src/render/haproxy/render';
import { haproxyAvailable, plainHaproxyConfig } from '../helpers/haproxy-check';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';
import { pollUntilOk as until } from '../helpers/poll';

const log = pino({ level: 'silent' });
/** The hard limit HAProxy runs under in these tests: below what a config with maxconn 8192 needs (16,384 and more). */
const LIMIT = 4000;

const plain = (port: number, status: number, body: string, globals = ''): string => plainHaproxyConfig(port, status, body, { globalLines: globals });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `haproxy` run under a hard and soft limit of `limit` descriptors. */
function limitedHaproxy(dir: string, limit: number): string {
  const real = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim();
  const wrapper = join(dir, 'haproxy');
  writeFileSync(wrapper, `#!/bin/sh\nexec prlimit --nofile=${limit}:${limit} ${real} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

async function setup(agentKnowsLimit: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'sg-haproxy-fds-'));
  const socket = `unix://${dir}/core.sock`;
  const [http = 0, status = 0] = await freePorts(2);
  const plane = new ControlPlane();
  const api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
  cleanups.push(() => api.close());
  const boot = join(dir, 'boot.cfg');
  // No maxconn: HAProxy sizes it to the limit and starts.
  writeFileSync(boot, plain(http, status, 'boot'));
  const core = coreConnection(socket, grpc.credentials.createInsecure());
  cleanups.push(() => core.close());
  const agent = new ProxyAgent({
    core,
    kind: 'haproxy',
    haproxy: {
      bin: limitedHaproxy(dir, LIMIT),
      certDir: join(dir, 'certs'),
      runtimeDir: join(dir, 'run'),
      secretsDir: join(dir, 'secrets'),
      quiet: process.env['SG_DEBUG'] !== '1',
      nofileLimit: () => (agentKnowsLimit ? LIMIT : undefined),
    },
    cluster: 'edge',
    replicaId: 'task-1',
    confDir: join(dir, 'live'),
    bootConfigs: [boot],
    log,
    heartbeatMs: 200,
    statusUrl: `http://127.0.0.1:${status}/haproxy_status;csv`,
  });
  agent.start();
  cleanups.push(async () => {
    agent.stop('SIGTERM');
    await agent.exited;
  });
  const get = async (): Promise<string> => (await send({ port: http, host: 'web.test' })).body.trim();
  await until('haproxy on the boot config', async () => ((await get()) === 'boot' ? true : undefined));
  const deliver = (content: string) => plane.deliver('edge', 'haproxy', [{ path: 'haproxy.cfg', content: Buffer.from(content) }]);
  return { dir, http, status, plane, agent, get, deliver };
}

describe.runIf(haproxyAvailable() && spawnSync('prlimit', ['--version']).status === 0)('HAProxy and its file-descriptor limit', () => {
  it('refuses in the agent a config needing more descriptors than the task may open, saying what to change', async () => {
    const s = await setup(true);
    const big = s.deliver(plain(s.http, s.status, 'big', '    maxconn 8192'));
    const report = await until('refusal reported', () => s.plane.reportsOf('edge').find((r) => r.lastReceivedHash === big.configHash));
    expect(report.lastValidation?.ok).toBe(false);
    expect(report.lastValidation?.output).toContain(`at least ${2 * 8192 + 2} file descriptors`);
    expect(report.lastValidation?.output).toContain(`may open ${LIMIT}`);
    expect(await s.get()).toBe('boot');
    const fits = s.deliver(plain(s.http, s.status, 'fits', '    maxconn 1000'));
    await until('the next config applied', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === fits.configHash));
    expect(await s.get()).toBe('fits');
  });

  it("reports HAProxy's own refusal at the reload when the agent cannot know the limit, keeps serving, applies the next", async () => {
    const s = await setup(false);
    const master = s.agent.proxyPid;
    const big = s.deliver(plain(s.http, s.status, 'big', '    maxconn 8192'));
    const report = await until('refusal reported', () => s.plane.reportsOf('edge').find((r) => r.lastReceivedHash === big.configHash));
    expect(report.lastValidation?.ok).toBe(false);
    // A refusal, not the "did not start workers … within" of a reload that timed out.
    expect(report.lastValidation?.output).toContain('could not load this configuration at its reload');
    expect(await s.get()).toBe('boot');
    expect(s.agent.proxyPid).toBe(master);
    const fits = s.deliver(plain(s.http, s.status, 'fits', '    maxconn 1000'));
    await until('the next config applied', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === fits.configHash));
    expect(await s.get()).toBe('fits');
  });

  it("bounds a rendered Dynamic config's need from below by at most a small constant of HAProxy's own figure", () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-haproxy-fd-need-'));
    const routes = Array.from({ length: 12 }, (_, i) =>
      route(`r${i}`, { serviceCluster: 'edge', hosts: [`r${i}.test`], rules: [{ backends: [{ service: `s${i}`, port: 8080, weight: 90 }, { service: `c${i}`, port: 8080, weight: 10 }] }] }),
    );
    const services = routes.flatMap((_, i) => [`s${i}`, `c${i}`]);
    const snap = snapshot({ services: services.map((name) => ({ name, networks: ['app'] })), tasks: services.map((name, i) => task(name, `10.0.0.${i + 2}`)), networks: [{ name: 'app' }] });
    const model = buildModel(desired(routes, [cluster('edge', { proxy: { kind: 'haproxy', endpoints: 'Dynamic' } })]), snap).clusters.find((c) => c.cluster === 'edge');
    if (model === undefined) throw new Error('no cluster edge');
    const config = renderHaproxy(model, { certDir: join(dir, 'certs'), runtimeDir: dir, bindAddress: '127.0.0.1', httpPort: 1, httpsPort: 2, statusPort: 3, logTarget: '/dev/null', dynamicEndpoints: true });
    const path = join(dir, 'haproxy.cfg');
    writeFileSync(path, config);
    const need = haproxyFdNeed(config);
    expect(need.checkedServers).toBeGreaterThanOrEqual(8 * 24);
    // Started under a limit far too low, HAProxy says what it needs before it binds anything.
    const run = spawnSync('prlimit', ['--nofile=64:64', 'haproxy', '-db', '-f', path], { encoding: 'utf8', timeout: 10_000 });
    const asked = Number(/Cannot raise FD limit to (\d+)/.exec(`${run.stdout}${run.stderr}`)?.[1]);
    expect(asked, `${run.stdout}${run.stderr}`).toBeGreaterThanOrEqual(need.atLeast);
    expect(asked - need.atLeast).toBeLessThanOrEqual(64);
  });
});
