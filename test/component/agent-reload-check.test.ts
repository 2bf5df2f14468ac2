/**
 * The reload is the agent's check (ADR 0037), end to end without Docker: the core's ControlPlane
 * behind the real gRPC server, a ProxyAgent running a real NGINX through a wrapper binary that
 * records every invocation, so the tests count the agent's `nginx -t` runs. Once a reload was
 * measured, a good config is applied with no `nginx -t` of its own; a config NGINX refuses at
 * reload (a certificate missing on the node, which the core's check never sees) is reported with
 * NGINX's message, the old config keeps serving, the previous files are back on disk (a restart
 * of NGINX serves the old config), the node's last applied config is unchanged, and the next good
 * config applies.
 */
import * as grpc from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { coreConnection } from '../../src/api/client';
import { ControlPlane, configFilesHash } from '../../src/api/control-plane';
import { startCoreApi } from '../../src/api/server';
import { ProxyAgent } from '../../src/agent/proxy-agent';
import { loadLastApplied, bootConfigHash } from '../../src/agent/last-applied';
import { freePorts } from '../helpers/nginx-process';
import { selfSigned } from '../helpers/tls-material';
import { pollUntilOk as until } from '../helpers/poll';

const log = pino({ level: 'silent' });

function conf(dir: string, port: number, body: string, extra = ''): string {
  return `pid ${dir}/nginx.pid;\nerror_log stderr crit;\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:${port};\n    location / { return 200 "${body}\\n"; }\n  }\n${extra}}\n`;
}

async function get(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
  return { status: res.status, body: (await res.text()).trim() };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'sg-reload-check-'));
  const socket = `unix://${dir}/core.sock`;
  const [port = 0, tlsPort = 0] = await freePorts(2);
  const plane = new ControlPlane();
  const api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
  cleanups.push(() => api.close());
  // Every run of NGINX the agent makes, one line each: its checks are the lines with -t.
  const calls = join(dir, 'nginx-calls');
  const real = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
  const wrapper = join(dir, 'nginx');
  writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${calls}\nexec ${real} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const boot = join(dir, 'boot.conf');
  writeFileSync(boot, conf(dir, port, 'boot'));
  const core = coreConnection(socket, grpc.credentials.createInsecure());
  cleanups.push(() => core.close());
  const lastAppliedDir = join(dir, 'last-applied');
  const drainFlagPath = join(dir, 'flags', 'draining');
  const confDir = join(dir, 'live');
  const agent = new ProxyAgent({ core, cluster: 'edge', replicaId: 'task-1', confDir, bootConfigs: [boot], log, heartbeatMs: 200, nginx: wrapper, lastAppliedDir, drainFlagPath });
  agent.start();
  cleanups.push(async () => {
    agent.stop('SIGTERM');
    await agent.exited;
  });
  await until('nginx on the boot config', async () => ((await get(port)).body === 'boot' ? true : undefined));
  const deliver = (body: string, extra = '') => {
    const content = Buffer.from(conf(dir, port, body, extra));
    return { content, delivery: plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content }]) };
  };
  return {
    dir,
    port,
    tlsPort,
    plane,
    agent,
    confDir,
    drainFlagPath,
    deliver,
    checks: (): number => (existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter((l) => /(^| )-t( |$)/.test(l)).length : 0),
    lastApplied: () => loadLastApplied(lastAppliedDir, 'nginx', bootConfigHash([boot])),
    applied: (hash: string) => until(`report of ${hash.slice(0, 12)} applied`, () => plane.reportsOf('edge').find((r) => r.appliedHash === hash)),
    served: (body: string) => until(`${body} served`, async () => ((await get(port)).body === body ? true : undefined)),
  };
}

describe('the reload is the agent check (ADR 0037)', () => {
  it('checks the first change (nothing measured yet), then applies good configs with no nginx -t of their own', async () => {
    const s = await setup();
    const master = s.agent.proxyPid;
    const v1 = s.deliver('v1');
    await s.applied(v1.delivery.configHash);
    await s.served('v1');
    expect(s.checks()).toBe(1);
    const v2 = s.deliver('v2');
    const report = await s.applied(v2.delivery.configHash);
    await s.served('v2');
    expect(report.lastValidation?.ok).toBe(true);
    // One parse fewer: the master's reload was the only one.
    expect(s.checks()).toBe(1);
    // Reloaded, not restarted; its files in place and kept on the node.
    expect(s.agent.proxyPid).toBe(master);
    expect(readFileSync(join(s.confDir, 'nginx.conf')).equals(v2.content)).toBe(true);
    expect(s.lastApplied()?.hash).toBe(configFilesHash([{ path: 'nginx.conf', content: v2.content }]));
  });

  it("reports a config NGINX refuses at reload with NGINX's message, keeps serving and keeping the old one, and applies the next", async () => {
    const s = await setup();
    const v1 = s.deliver('v1');
    await s.applied(v1.delivery.configHash);
    await s.served('v1');
    const checksBefore = s.checks();
    // Valid syntax, and the core's check (with the secrets it has) passes; this node lacks the file.
    const missing = join(s.dir, 'secrets', 'shop.crt');
    const key = join(s.dir, 'shop.key');
    writeFileSync(key, selfSigned('shop.test').key);
    const tls = `  server {\n    listen 127.0.0.1:${s.tlsPort} ssl;\n    ssl_certificate ${missing};\n    ssl_certificate_key ${key};\n    return 200 "tls";\n  }\n`;
    const bad = s.deliver('bad', tls);
    const report = await until('the refusal reported', () => s.plane.reportsOf('edge').find((r) => r.lastReceivedHash === bad.delivery.configHash));
    expect(report.appliedHash).toBe(v1.delivery.configHash);
    expect(report.lastValidation?.ok).toBe(false);
    // What NGINX said, in the form nginx -t gives it (no timestamp, no PID).
    expect(report.lastValidation?.output).toMatch(new RegExp(`^nginx: \\[emerg\\] cannot load certificate "${missing}"`));
    // Told by the reload itself: no nginx -t before it, nor after it (a timeout would have run one).
    expect(s.checks()).toBe(checksBefore);
    expect(await get(s.port)).toEqual({ status: 200, body: 'v1' });
    // The previous files are back, the node keeps v1 as its last applied, and no drain flag is left.
    expect(readFileSync(join(s.confDir, 'nginx.conf')).equals(v1.content)).toBe(true);
    expect(s.lastApplied()?.hash).toBe(configFilesHash([{ path: 'nginx.conf', content: v1.content }]));
    expect(existsSync(s.drainFlagPath)).toBe(false);
    // A restart of NGINX starts on the files on disk: they load.
    const master = s.agent.proxyPid ?? 0;
    process.kill(master, 'SIGKILL');
    await until('nginx restarted on v1', async () => (s.agent.proxyPid !== master && (await get(s.port)).body === 'v1' ? true : undefined));
    // The next good config applies, still with no nginx -t (the restart checked nothing either).
    const v3 = s.deliver('v3');
    await s.applied(v3.delivery.configHash);
    await s.served('v3');
    expect(s.checks()).toBe(checksBefore);
  });
});
