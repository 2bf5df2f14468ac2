/**
 * Hitless delivery end to end without Docker: the core's ControlPlane behind the real gRPC server
 * on a unix socket, and a ProxyAgent running a real NGINX. A delivered config is validated,
 * applied with SIGHUP (same NGINX master: no restart), and reported; a bad config is refused and
 * NGINX keeps serving; the agent rides out a core restart and resubscribes.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { coreConnection } from '../../src/api/client';
import { ControlPlane, configFilesHash } from '../../src/api/control-plane';
import { startCoreApi, type CoreApi } from '../../src/api/server';
import { ProxyAgent } from '../../src/agent/proxy-agent';
import { freePorts } from '../helpers/nginx-process';
import { selfSigned } from '../helpers/tls-material';
import { pollUntilOk as until } from '../helpers/poll';

const log = pino({ level: 'silent' });

function conf(dir: string, port: number, body: string): string {
  return `pid ${dir}/nginx.pid;\nerror_log stderr error;\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:${port};\n    location / { return 200 "${body}\\n"; }\n  }\n}\n`;
}

async function get(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
  return (await res.text()).trim();
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'sg-agent-'));
  const socket = `unix://${dir}/core.sock`;
  const [port = 0] = await freePorts(1);
  const plane = new ControlPlane();
  let api: CoreApi = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
  cleanups.push(() => api.close());
  const boot = join(dir, 'boot.conf');
  writeFileSync(boot, conf(dir, port, 'boot'));
  const core = coreConnection(socket, grpc.credentials.createInsecure());
  cleanups.push(() => core.close());
  const agent = new ProxyAgent({ core, cluster: 'edge', replicaId: 'task-1', confDir: join(dir, 'live'), bootConfigs: [join(dir, 'missing.conf'), boot], log, heartbeatMs: 200 });
  agent.start();
  cleanups.push(async () => {
    agent.stop('SIGTERM');
    await agent.exited;
  });
  await until('nginx on the boot config', async () => ((await get(port)) === 'boot' ? true : undefined));
  return {
    dir,
    port,
    plane,
    agent,
    core,
    restartApi: async () => {
      await api.close();
      api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
    },
    stopApi: () => api.close(),
  };
}

describe('hitless delivery over gRPC', () => {
  it('applies a delivered config in place and reports its hash', async () => {
    const s = await setup();
    const pid = readFileSync(join(s.dir, 'nginx.pid'), 'utf8').trim();
    const v1 = s.plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from(conf(s.dir, s.port, 'v1')) }]);
    await until('v1 served', async () => ((await get(s.port)) === 'v1' ? true : undefined));
    const report = await until('report of v1', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === v1.configHash));
    expect(report.replicaId).toBe('task-1');
    expect(report.lastValidation?.ok).toBe(true);
    // Reloaded, not restarted: the same master process serves the new config.
    expect(readFileSync(join(s.dir, 'nginx.pid'), 'utf8').trim()).toBe(pid);
    expect(configFilesHash([{ path: 'nginx.conf', content: Buffer.from(conf(s.dir, s.port, 'v1')) }])).toBe(v1.configHash);
  });

  it('refuses a config NGINX cannot load (at its reload, ADR 0037), keeps serving the last good one and reports why', async () => {
    const s = await setup();
    const good = s.plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from(conf(s.dir, s.port, 'good')) }]);
    await until('good applied', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === good.configHash));
    const bad = s.plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from(conf(s.dir, s.port, 'bad').replace('events {}', 'events { bogus_directive on; }')) }]);
    const report = await until('bad reported', () => s.plane.reportsOf('edge').find((r) => r.lastReceivedHash === bad.configHash));
    expect(report.appliedHash).toBe(good.configHash);
    expect(report.lastValidation?.ok).toBe(false);
    expect(report.lastValidation?.output).toContain('bogus_directive');
    expect(await get(s.port)).toBe('good');
  });

  it("refuses a config whose shared TLS server pairs a certificate with another one's key (nginx -t cannot see it)", async () => {
    const s = await setup();
    const [tlsPort = 0] = await freePorts(1);
    const shop = selfSigned('shop.test');
    const other = selfSigned('other.test');
    const files = { cert: join(s.dir, 'shop.crt'), key: join(s.dir, 'shop.key'), otherKey: join(s.dir, 'other.key') };
    writeFileSync(files.cert, shop.cert);
    writeFileSync(files.key, shop.key);
    writeFileSync(files.otherKey, other.key);
    const tlsConf = (body: string, key: string): Buffer => {
      const map = (name: string, path: string) => `    map $ssl_server_name ${name} {\n        hostnames;\n        "shop.test" "${path}";\n        default "";\n    }\n`;
      const tls = `${map('$sg_tls_cert', files.cert)}${map('$sg_tls_key', key)}  server {\n    listen 127.0.0.1:${tlsPort} ssl;\n    ssl_certificate $sg_tls_cert;\n    ssl_certificate_key $sg_tls_key;\n    return 200 "tls";\n  }\n`;
      return Buffer.from(conf(s.dir, s.port, body).replace(/\}\n$/, `${tls}}\n`));
    };
    const good = s.plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: tlsConf('paired', files.key) }]);
    const applied = await until('the matching pair applied', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === good.configHash));
    expect(applied.lastValidation?.ok).toBe(true);
    const bad = s.plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: tlsConf('mispaired', files.otherKey) }]);
    const report = await until('the mismatched pair reported', () => s.plane.reportsOf('edge').find((r) => r.lastReceivedHash === bad.configHash));
    expect(report.appliedHash).toBe(good.configHash);
    expect(report.lastValidation).toEqual({ ok: false, output: `TLS certificate check: the key ${files.otherKey} does not belong to the certificate ${files.cert} (served for shop.test)` });
    expect(await get(s.port)).toBe('paired');
  });

  it('never rejects a report on a channel that was closed under it (stop, or a renew racing a heartbeat)', async () => {
    const { agent, core } = await setup();
    core.close();
    await expect(agent.report()).resolves.toBeUndefined();
  });

  it('refuses files outside its config directory', async () => {
    const s = await setup();
    const evil = s.plane.deliver('edge', 'nginx', [
      { path: 'nginx.conf', content: Buffer.from(conf(s.dir, s.port, 'x')) },
      { path: '../escape.conf', content: Buffer.from('') },
    ]);
    const report = await until('refusal reported', () => s.plane.reportsOf('edge').find((r) => r.lastReceivedHash === evil.configHash));
    expect(report.lastValidation?.output).toContain('outside the config directory');
    expect(await get(s.port)).toBe('boot');
  });

  it('keeps serving while the core is down and catches up after it returns', async () => {
    const s = await setup();
    const v1 = s.plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from(conf(s.dir, s.port, 'v1')) }]);
    await until('v1 applied', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === v1.configHash));
    await s.stopApi();
    // The change happens while no agent can hear it: level-triggered resubscription must deliver it.
    s.plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from(conf(s.dir, s.port, 'v2')) }]);
    for (let i = 0; i < 5; i++) expect(await get(s.port)).toBe('v1');
    await s.restartApi();
    await until('v2 served after the core returned', async () => ((await get(s.port)) === 'v2' ? true : undefined), 15_000);
  });
});
