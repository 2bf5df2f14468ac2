/**
 * A starting proxy serves nothing older than the cluster's current config when the core answers:
 * a ProxyAgent with a real NGINX and a real gRPC core (over a unix socket) boots on the config the
 * core streams, not on the mounted boot config; when the core does not answer within the wait, or
 * sends a config that fails `nginx -t`, it boots on the mounted one.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { coreConnection } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi } from '../../src/api/server';
import { childPids, ProxyAgent } from '../../src/agent/proxy-agent';
import { freePorts } from '../helpers/nginx-process';
import { cleanupsAfterEach, probe, tinyNginxConf as conf } from '../helpers/agent-harness';

const log = pino({ level: process.env['SG_DEBUG'] === '1' ? 'debug' : 'silent' });
const cleanups = cleanupsAfterEach();

/** Every answer from the first one on, for `ms` after the proxy starts answering. */
async function firstAnswers(port: number, ms: number): Promise<string[]> {
  const seen: string[] = [];
  const end = Date.now() + 10_000;
  while (seen.length === 0 && Date.now() < end) {
    const b = await probe(port);
    if (b !== undefined) seen.push(b);
  }
  const stop = Date.now() + ms;
  while (Date.now() < stop) seen.push((await probe(port)) ?? 'failed');
  return [...new Set(seen)];
}

async function setup(listening: boolean, o: { dir?: string; lastAppliedDir?: string; confDir?: string; bootBody?: string } = {}) {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'sg-boot-'));
  const socket = `unix://${dir}/core-${++sockets}.sock`;
  const [port = 0] = o.dir !== undefined ? [portOf.get(o.dir) ?? 0] : await freePorts(1);
  portOf.set(dir, port);
  const plane = new ControlPlane();
  if (listening) {
    const api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
    cleanups.push(() => api.close());
  }
  const boot = join(dir, 'boot.conf');
  writeFileSync(boot, conf(dir, port, o.bootBody ?? 'stale boot config'));
  const core = coreConnection(socket, grpc.credentials.createInsecure());
  cleanups.push(() => core.close());
  const agent = new ProxyAgent({
    core,
    kind: 'nginx',
    cluster: 'edge',
    replicaId: 'task-1',
    confDir: o.confDir ?? join(dir, 'live'),
    bootConfigs: [boot],
    log,
    heartbeatMs: 200,
    ...(o.lastAppliedDir !== undefined ? { lastAppliedDir: o.lastAppliedDir } : {}),
  });
  cleanups.push(async () => {
    agent.stop('SIGTERM');
    await agent.exited;
  });
  return { dir, port, plane, agent };
}

/** The port a test directory's configs listen on (a second agent in the same directory reuses it). */
const portOf = new Map<string, number>();
let sockets = 0;

describe('booting a proxy task', () => {
  it("starts on the core's current config, never the stale mounted one, and reports it without a reload", async () => {
    const s = await setup(true);
    const current = s.plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from(conf(s.dir, s.port, 'current')) }]);
    const t0 = Date.now();
    expect(await s.agent.bootFromCore(3_000)).toBe('core');
    const waited = Date.now() - t0;
    s.agent.start();
    expect(await firstAnswers(s.port, 0)).toEqual(['current']);
    const workers = [...childPids(s.agent.proxyPid ?? 0)].sort();
    expect(workers.length).toBeGreaterThan(0);
    expect(await firstAnswers(s.port, 500)).toEqual(['current']);
    expect(s.agent.current.appliedHash).toBe(current.configHash);
    const report = await (async () => {
      for (let i = 0; i < 100; i++) {
        const r = s.plane.reportsOf('edge').find((x) => x.appliedHash === current.configHash);
        if (r !== undefined) return r;
        await new Promise((r) => setTimeout(r, 50));
      }
      return undefined;
    })();
    expect(report?.replicaId).toBe('task-1');
    // The stream's first message is the config the proxy already runs: no reload, same workers
    // (a reload would have started new ones well within this wait).
    await new Promise((r) => setTimeout(r, 700));
    expect([...childPids(s.agent.proxyPid ?? 0)].sort()).toEqual(workers);
    console.log(`booted on the core's config after waiting ${waited} ms`);
    expect(waited).toBeLessThan(2_000);
  });

  it('starts on the mounted config when the core does not answer within the wait', async () => {
    const s = await setup(false);
    const t0 = Date.now();
    expect(await s.agent.bootFromCore(400)).toBe('mounted');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    expect(Date.now() - t0).toBeLessThan(1_500);
    s.agent.start();
    expect(await firstAnswers(s.port, 200)).toEqual(['stale boot config']);
  });

  it("starts on the mounted config when the core's config fails nginx -t", async () => {
    const s = await setup(true);
    s.plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from('events {}\nhttp { no_such_directive on; }\n') }]);
    expect(await s.agent.bootFromCore(3_000)).toBe('mounted');
    s.agent.start();
    expect(await firstAnswers(s.port, 200)).toEqual(['stale boot config']);
  });

  it("starts on the node's last applied config when the core does not answer, unless the mounted boot config changed since", async () => {
    const first = await setup(false);
    const lastAppliedDir = join(first.dir, 'node-volume');
    const a = await setup(true, { dir: first.dir, lastAppliedDir, confDir: join(first.dir, 'live-a') });
    expect(await a.agent.bootFromCore(3_000)).toBe('mounted');
    a.agent.start();
    const v2 = a.plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from(conf(a.dir, a.port, 'v2')) }]);
    for (let i = 0; i < 100 && a.agent.current.appliedHash !== v2.configHash; i++) await new Promise((r) => setTimeout(r, 50));
    expect(a.agent.current.appliedHash).toBe(v2.configHash);
    a.agent.stop('SIGTERM');
    await a.agent.exited;
    // The task is replaced while the core is down: the new one starts on v2, not on the mounted config.
    const b = await setup(false, { dir: first.dir, lastAppliedDir, confDir: join(first.dir, 'live-b') });
    expect(await b.agent.bootFromCore(300)).toBe('node');
    expect(b.agent.current.appliedHash).toBe(v2.configHash);
    b.agent.start();
    expect(await firstAnswers(b.port, 200)).toEqual(['v2']);
    b.agent.stop('SIGTERM');
    await b.agent.exited;
    // A task of a service updated since (another mounted boot config) starts on its mounted one.
    const c = await setup(false, { dir: first.dir, lastAppliedDir, confDir: join(first.dir, 'live-c'), bootBody: 'newer boot config' });
    expect(await c.agent.bootFromCore(300)).toBe('mounted');
    c.agent.start();
    expect(await firstAnswers(c.port, 200)).toEqual(['newer boot config']);
  });
});
