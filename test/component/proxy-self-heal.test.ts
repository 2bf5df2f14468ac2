/**
 * Self-healing proxy tasks without Docker: a ProxyAgent runs a real NGINX (and HAProxy), gets a
 * config from the core over gRPC, and then its proxy master is SIGKILLed several times under a
 * request loop. The agent must not exit; it must start a new master on the same (last applied)
 * config, even though the killed master's NGINX workers still hold the port, and requests must
 * succeed again within about a second. The gap (longest run of failed requests) is printed.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { coreConnection } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi } from '../../src/api/server';
import { ProxyAgent, type ProxyAgentOptions } from '../../src/agent/proxy-agent';
import { haproxyAvailable } from '../helpers/haproxy-check';
import { freePorts } from '../helpers/nginx-process';
import { cleanupsAfterEach, probe, tinyNginxConf as nginxConf } from '../helpers/agent-harness';
import { plainHaproxyConfig } from '../helpers/haproxy-check';
import { pollUntil } from '../helpers/poll';

const log = pino({ level: process.env['SG_DEBUG'] === '1' ? 'debug' : 'silent' });

const cleanups = cleanupsAfterEach();

async function setup(kind: 'nginx' | 'haproxy', restartBackoff = { firstMs: 100, maxMs: 2_000, resetAfterMs: 300 }) {
  const dir = mkdtempSync(join(tmpdir(), `sg-heal-${kind}-`));
  const socket = `unix://${dir}/core.sock`;
  const [port = 0] = await freePorts(1);
  const plane = new ControlPlane();
  const api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
  cleanups.push(() => api.close());
  const conf = (body: string): string => (kind === 'nginx' ? nginxConf(dir, port, body) : plainHaproxyConfig(port, undefined, body));
  const boot = join(dir, 'boot.conf');
  writeFileSync(boot, conf('boot'));
  const core = coreConnection(socket, grpc.credentials.createInsecure());
  cleanups.push(() => core.close());
  const runtimeDir = join(dir, 'run');
  mkdirSync(runtimeDir);
  const opts: ProxyAgentOptions = {
    core,
    kind,
    cluster: 'edge',
    replicaId: 'task-1',
    confDir: join(dir, 'live'),
    bootConfigs: [boot],
    log,
    heartbeatMs: 200,
    // Each kill below comes after the proxy ran 400 ms: count that as healthy, so every restart is
    // the immediate one (the backoff of a proxy that keeps dying has its own test).
    restartBackoff,
    ...(kind === 'haproxy' ? { haproxy: { certDir: join(dir, 'certs'), runtimeDir, secretsDir: join(dir, 'secrets'), quiet: process.env['SG_DEBUG'] !== '1' } } : {}),
  };
  const agent = new ProxyAgent(opts);
  let exited = false;
  void agent.exited.then(() => (exited = true));
  agent.start();
  cleanups.push(async () => {
    agent.stop('SIGTERM');
    await agent.exited;
  });
  await pollUntil('the proxy on the boot config', async () => ((await probe(port)) === 'boot' ? true : undefined));
  const mainFile = kind === 'nginx' ? 'nginx.conf' : 'haproxy.cfg';
  const v1 = plane.deliver('edge', kind, [{ path: mainFile, content: Buffer.from(conf('v1')) }]);
  await pollUntil('v1 applied', () => plane.reportsOf('edge').find((r) => r.appliedHash === v1.configHash));
  expect(await probe(port)).toBe('v1');
  return { port, plane, agent, conf, mainFile, hasExited: () => exited };
}

/**
 * SIGKILL the master `kills` times under a request loop (a new connection every few ms); returns
 * the gap of each kill: the longest run of failed requests after it (0 when none failed).
 */
async function killUnderLoad(s: Awaited<ReturnType<typeof setup>>, kills: number): Promise<{ gaps: number[]; failed: number[] }> {
  const gaps: number[] = [];
  const failed: number[] = [];
  for (let i = 0; i < kills; i++) {
    const master = s.agent.proxyPid;
    expect(master).toBeDefined();
    let stop = false;
    const results: { at: number; body: string | undefined }[] = [];
    const loop = (async () => {
      while (!stop) {
        const at = Date.now();
        results.push({ at, body: await probe(s.port) });
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await new Promise((r) => setTimeout(r, 400));
    const killedAt = Date.now();
    process.kill(master ?? 0, 'SIGKILL');
    const newMaster = await pollUntil('a new master', () => (s.agent.proxyPid !== undefined && s.agent.proxyPid !== master ? s.agent.proxyPid : undefined), 5_000);
    await pollUntil('requests succeed again', async () => ((await probe(s.port)) === 'v1' ? true : undefined), 5_000);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await loop;
    // Every success is on the last applied config, before and after the restart.
    expect(results.filter((r) => r.body !== undefined && r.body !== 'v1')).toEqual([]);
    let gap = 0;
    let lastOk = killedAt;
    let failing = false;
    for (const r of results.filter((x) => x.at >= killedAt)) {
      if (r.body === undefined) failing = true;
      else {
        if (failing) gap = Math.max(gap, r.at - lastOk);
        failing = false;
        lastOk = r.at;
      }
    }
    expect(newMaster).not.toBe(master);
    failed.push(results.filter((r) => r.at >= killedAt && r.body === undefined).length);
    gaps.push(gap);
  }
  return { gaps, failed };
}

function summary({ gaps, failed }: { gaps: readonly number[]; failed: readonly number[] }): string {
  const sorted = [...gaps].sort((a, b) => a - b);
  return `gaps ${gaps.join(', ')} ms (failed requests ${failed.join(', ')}); min ${sorted[0] ?? 0} ms, median ${sorted[Math.floor(sorted.length / 2)] ?? 0} ms`;
}

describe('self-healing proxy tasks', () => {
  it('restarts a SIGKILLed NGINX master on the last applied config at once; the agent does not exit', async () => {
    const s = await setup('nginx');
    const run = await killUnderLoad(s, 5);
    console.log(`NGINX master SIGKILL under a request loop: ${summary(run)}`);
    expect(s.hasExited()).toBe(false);
    expect(s.agent.restarts).toBe(5);
    for (const g of run.gaps) expect(g).toBeLessThan(1_000);
  });

  it('ends up serving and reporting a config delivered while the master is killed', async () => {
    const s = await setup('nginx');
    const master = s.agent.proxyPid ?? 0;
    // Past the pacer's quiet period: the delivery is applied at once, racing the kill.
    await new Promise((r) => setTimeout(r, 2_100));
    const v2 = s.plane.deliver('edge', 'nginx', [{ path: s.mainFile, content: Buffer.from(s.conf('v2')) }]);
    await new Promise((r) => setTimeout(r, 5));
    process.kill(master, 'SIGKILL');
    await pollUntil('v2 reported applied', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === v2.configHash));
    await pollUntil('v2 served', async () => ((await probe(s.port)) === 'v2' ? true : undefined), 2_000);
    expect(s.agent.proxyPid).not.toBe(master);
    expect(s.hasExited()).toBe(false);
  });

  it('backs off a proxy that keeps dying, and stops cleanly while a restart waits', async () => {
    const s = await setup('nginx', { firstMs: 5_000, maxMs: 5_000, resetAfterMs: 60_000 });
    const first = s.agent.proxyPid ?? 0;
    process.kill(first, 'SIGKILL');
    // The first restart is at once...
    const second = await pollUntil('the first restart', () => (s.agent.proxyPid !== undefined && s.agent.proxyPid !== first ? s.agent.proxyPid : undefined), 2_000);
    process.kill(second, 'SIGKILL');
    // ...the next, 5 s later here: nothing runs meanwhile, and stop() ends the agent at once.
    await new Promise((r) => setTimeout(r, 500));
    expect(s.agent.proxyPid).toBeUndefined();
    expect(s.agent.restarts).toBe(1);
    const t0 = Date.now();
    s.agent.stop('SIGTERM');
    await s.agent.exited;
    // Well under the 5 s restart delay it would otherwise sit out.
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(s.agent.proxyPid).toBeUndefined();
  });

  it.runIf(haproxyAvailable())('restarts a SIGKILLed HAProxy master on the last applied config at once', async () => {
    const s = await setup('haproxy');
    const run = await killUnderLoad(s, 5);
    console.log(`HAProxy master SIGKILL under a request loop: ${summary(run)}`);
    expect(s.hasExited()).toBe(false);
    expect(s.agent.restarts).toBe(5);
    for (const g of run.gaps) expect(g).toBeLessThan(1_000);
  });
});
