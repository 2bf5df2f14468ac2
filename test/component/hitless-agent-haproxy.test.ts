/**
 * Hitless delivery to HAProxy without Docker: the core's ControlPlane behind the real gRPC server
 * on a unix socket, and a ProxyAgent (`kind: haproxy`) running a real HAProxy 2.6 in master-worker
 * mode. The boot config is served; a rendered config with TLS is delivered, its combined PEM built
 * from the "mounted" secrets, checked with `haproxy -c` and applied with SIGUSR2 by the same master
 * (new worker, no restart), then reported; a config that fails the check, one whose secret is not
 * mounted and one for NGINX are refused and reported while the last good config keeps serving.
 */
import * as grpc from '@grpc/grpc-js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { coreConnection } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi, type CoreApi } from '../../src/api/server';
import { childPids, ProxyAgent } from '../../src/agent/proxy-agent';
import { buildModel } from '../../src/plan/build-model';
import { renderHaproxy } from '../../src/render/haproxy/render';
import { startEcho, type EchoReply } from '../helpers/echo-backends';
import { haproxyAvailable, plainHaproxyConfig } from '../helpers/haproxy-check';
import { peerCertificate, send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';
import { selfSigned } from '../helpers/tls-material';
import { pollUntilOk as until } from '../helpers/poll';

const log = pino({ level: 'silent' });

/** A hand-written config answering `body` on the HTTP port (`extra`: more lines in its frontend). */
const plain = (port: number, status: number, body: string, extra = ''): string => plainHaproxyConfig(port, status, body, { frontendLines: extra });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(initial?: (http: number, status: number) => string) {
  const dir = mkdtempSync(join(tmpdir(), 'sg-agent-haproxy-'));
  const socket = `unix://${dir}/core.sock`;
  const [http = 0, https = 0, status = 0, backendPort = 0] = await freePorts(4);
  const plane = new ControlPlane();
  const api: CoreApi = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
  cleanups.push(() => api.close());
  const backend = await startEcho('web', 'web@127.0.0.1', '127.0.0.1', backendPort);
  cleanups.push(() => backend.close());
  // The task's mounted Docker secrets.
  const secretsDir = join(dir, 'secrets');
  mkdirSync(secretsDir);
  const pair = selfSigned('web.test');
  writeFileSync(join(secretsDir, 'web.crt'), pair.cert);
  writeFileSync(join(secretsDir, 'web.key'), pair.key.trimEnd());
  const certDir = join(dir, 'certs');
  const runtimeDir = join(dir, 'run');
  const boot = join(dir, 'boot.cfg');
  writeFileSync(boot, plain(http, status, 'boot'));
  const core = coreConnection(socket, grpc.credentials.createInsecure());
  cleanups.push(() => core.close());
  const agent = new ProxyAgent({
    core,
    kind: 'haproxy',
    haproxy: { certDir, runtimeDir, secretsDir, quiet: process.env['SG_DEBUG'] !== '1' },
    cluster: 'edge',
    replicaId: 'task-1',
    confDir: join(dir, 'live'),
    bootConfigs: [join(dir, 'missing.cfg'), boot],
    log,
    heartbeatMs: 200,
    statusUrl: `http://127.0.0.1:${status}/haproxy_status;csv`,
  });
  // A config the core already has: the agent gets it the moment it subscribes, while HAProxy is still starting.
  if (initial !== undefined) plane.deliver('edge', 'haproxy', [{ path: 'haproxy.cfg', content: Buffer.from(initial(http, status)) }]);
  agent.start();
  cleanups.push(async () => {
    agent.stop('SIGTERM');
    await agent.exited;
  });
  const get = async (host = 'web.test'): Promise<string> => (await send({ port: http, host })).body.trim();
  if (initial === undefined) await until('haproxy on the boot config', async () => ((await get()) === 'boot' ? true : undefined));

  /** The model of a cluster `edge` (proxy.kind: haproxy) with one route, rendered for this test's ports and directories. */
  const rendered = (certSecret = 'web.crt', keySecret = 'web.key'): string => {
    const r = route('web', {
      serviceCluster: 'edge',
      hosts: ['web.test'],
      tls: { mode: 'Terminate', certificate: { certSecret, keySecret } },
      rules: [{ backends: [{ service: 'web', port: backendPort }] }],
    });
    const snap = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: [task('web', '127.0.0.1')], networks: [{ name: 'app' }], secrets: [{ name: certSecret }, { name: keySecret }] });
    const model = buildModel(desired([r], [cluster('edge', { proxy: { kind: 'haproxy' } })]), snap).clusters.find((c) => c.cluster === 'edge');
    if (model === undefined) throw new Error('no cluster edge');
    return renderHaproxy(model, { certDir, runtimeDir, bindAddress: '127.0.0.1', httpPort: http, httpsPort: https, statusPort: status, logTarget: '/dev/null' });
  };
  const deliver = (content: string, kind: 'haproxy' | 'nginx' = 'haproxy', path = 'haproxy.cfg') => plane.deliver('edge', kind, [{ path, content: Buffer.from(content) }]);
  return { dir, http, https, status, plane, agent, pair, certDir, get, rendered, deliver };
}

describe.runIf(haproxyAvailable())('hitless delivery to HAProxy over gRPC', () => {
  it('applies a rendered config with TLS in place (same master, new worker), builds its PEM and reports its hash', async () => {
    const s = await setup();
    const master = s.agent.proxyPid ?? 0;
    const bootWorkers = childPids(master);
    expect(bootWorkers.size).toBeGreaterThan(0);
    const v1 = s.deliver(s.rendered());
    const report = await until('report of v1', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === v1.configHash));
    expect(report.replicaId).toBe('task-1');
    expect(report.lastValidation, report.lastValidation?.output).toMatchObject({ ok: true });
    // Reloaded, not restarted: the same master, a worker that did not exist before.
    expect(s.agent.proxyPid).toBe(master);
    expect([...childPids(master)].some((p) => !bootWorkers.has(p))).toBe(true);
    const plainReply = await send({ port: s.http, host: 'web.test' });
    expect(plainReply.status).toBe(200);
    expect((JSON.parse(plainReply.body) as EchoReply).service).toBe('web');
    const tlsReply = await send({ port: s.https, host: 'web.test', tls: true });
    expect(tlsReply.status).toBe(200);
    const cert = await peerCertificate(s.https, 'web.test');
    expect(cert instanceof Error ? cert.message : cert.subject.CN).toBe('web.test');
    // The combined PEM: certificate, then key, owner-only.
    const pem = join(s.certDir, 'web.crt+web.key.pem');
    expect(readFileSync(pem, 'utf8')).toBe(`${s.pair.cert}${s.pair.key.trimEnd()}\n`);
    expect(statSync(pem).mode & 0o777).toBe(0o600);
    // Counters from the stats CSV: the requests above, and a 503 for an unknown host.
    expect((await send({ port: s.http, host: 'unknown.test' })).status).toBe(503);
    const counted = await until('counters', () => s.plane.reportsOf('edge').find((r) => r.counters.requests >= 2 && r.counters.responses5xx >= 1));
    expect(counted.appliedHash).toBe(v1.configHash);
    // A config without TLS: the PEM (key material) does not linger.
    const v2 = s.deliver(plain(s.http, s.status, 'v2'));
    await until('v2 applied', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === v2.configHash));
    expect(await s.get()).toBe('v2');
    expect(existsSync(pem)).toBe(false);
    expect(s.agent.proxyPid).toBe(master);
  });

  it('refuses a config that fails haproxy -c, keeps serving the last good one and reports why', async () => {
    const s = await setup();
    const good = s.deliver(plain(s.http, s.status, 'good'));
    await until('good applied', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === good.configHash));
    const bad = s.deliver(plain(s.http, s.status, 'bad', '    bogus_keyword on'));
    const report = await until('bad reported', () => s.plane.reportsOf('edge').find((r) => r.lastReceivedHash === bad.configHash));
    expect(report.appliedHash).toBe(good.configHash);
    expect(report.lastValidation?.ok).toBe(false);
    expect(report.lastValidation?.output).toContain("unknown keyword 'bogus_keyword'");
    expect(await s.get()).toBe('good');
  });

  it('refuses a config whose certificate secret is not mounted, naming the secret and nothing of any key', async () => {
    const s = await setup();
    const missing = s.deliver(s.rendered('gone.crt', 'web.key'));
    const report = await until('refusal reported', () => s.plane.reportsOf('edge').find((r) => r.lastReceivedHash === missing.configHash));
    expect(report.lastValidation?.ok).toBe(false);
    expect(report.lastValidation?.output).toMatch(/secret "gone\.crt" is not mounted/);
    expect(report.lastValidation?.output).not.toMatch(/PRIVATE KEY|BEGIN/);
    expect(await s.get()).toBe('boot');
  });

  it('refuses an NGINX config: the task runs HAProxy', async () => {
    const s = await setup();
    const other = s.deliver('events {}\nhttp {}\n', 'nginx', 'nginx.conf');
    const report = await until('refusal reported', () => s.plane.reportsOf('edge').find((r) => r.lastReceivedHash === other.configHash));
    expect(report.lastValidation?.output).toContain('this proxy task runs haproxy');
    expect(await s.get()).toBe('boot');
  });

  it('applies a config that arrives while HAProxy is still starting (signals wait for the master\'s main loop)', async () => {
    for (let i = 0; i < 3; i++) {
      const s = await setup((http, status) => plain(http, status, 'early'));
      const master = s.agent.proxyPid;
      const first = s.plane.delivered('edge');
      await until('early config applied', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === first?.configHash));
      expect(await s.get()).toBe('early');
      expect(s.agent.proxyPid).toBe(master);
      // Straight after the reload the master re-executes itself: a second change must not hit that window either.
      const next = s.deliver(plain(s.http, s.status, 'next'));
      await until('next applied', () => s.plane.reportsOf('edge').find((r) => r.appliedHash === next.configHash));
      expect(await s.get()).toBe('next');
      expect(s.agent.proxyPid).toBe(master);
      for (const c of cleanups.splice(0).reverse()) await c();
    }
  });

  it('stops gracefully on SIGQUIT (HAProxy soft stop)', async () => {
    const s = await setup();
    const master = s.agent.proxyPid ?? 0;
    s.agent.stop('SIGQUIT');
    expect(await s.agent.exited).toBe(0);
    expect(existsSync(`/proc/${master}`)).toBe(false);
  });
});

describe.runIf(haproxyAvailable())('HAProxy without a core (rolling delivery, --standalone)', () => {
  it('builds the PEMs of the mounted config and serves it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-agent-standalone-'));
    const [http = 0, https = 0, status = 0] = await freePorts(3);
    const secretsDir = join(dir, 'secrets');
    mkdirSync(secretsDir);
    const pair = selfSigned('tls.test');
    writeFileSync(join(secretsDir, 'c'), pair.cert);
    writeFileSync(join(secretsDir, 'k'), pair.key);
    const certDir = join(dir, 'certs');
    const mounted = join(dir, 'haproxy.cfg');
    writeFileSync(
      mounted,
      `${plain(http, status, 'rolling')}frontend tls\n    bind 127.0.0.1:${https} ssl crt "${certDir}/c+k.pem"\n    http-request return status 200 content-type text/plain string "tls"\n`,
    );
    const agent = new ProxyAgent({ kind: 'haproxy', haproxy: { certDir, runtimeDir: join(dir, 'run'), secretsDir, quiet: true }, cluster: '', replicaId: '', confDir: join(dir, 'live'), bootConfigs: [join(dir, 'boot-missing.cfg'), mounted], log });
    agent.start();
    cleanups.push(async () => {
      agent.stop('SIGTERM');
      await agent.exited;
    });
    await until('served', async () => ((await send({ port: http, host: 'x.test' })).body === 'rolling' ? true : undefined));
    expect((await send({ port: https, host: 'tls.test', tls: true })).body).toBe('tls');
    expect(readFileSync(join(certDir, 'c+k.pem'), 'utf8')).toBe(`${pair.cert}${pair.key}`);
  });
});
