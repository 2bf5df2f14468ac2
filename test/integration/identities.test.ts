/**
 * Component identities on the real local Swarm (ADR 0012): `swarmgate install`, two hitless
 * clusters A and B. From inside A's proxy task (a compromised edge proxy), with the identity the
 * core issued A's agents, a gRPC client tries to watch B's config and model, report for B's replica
 * and submit for B: every call is refused (PERMISSION_DENIED) and the core logs who tried, while the
 * same identity works for A and both clusters keep serving. Then `rotate-certs` under a traffic loop
 * on each cluster (ADR 0019): no failed request, no proxy task replaced, each agent handed its new
 * identity over its stream.
 * Needs the images (make images). Run: flock /tmp/swarm.lock npx vitest run --config vitest.integration.mts test/integration/identities.test.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_SERVICE, runInstall, runRotateCerts, runUninstall } from '../../src/cli/commands/install';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { isServingTask } from '../../src/observed/docker-port';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, route } from '../helpers/specs';
import { docker, isProgrammed, removeWhenReleased, tryDocker, until } from '../helpers/swarm';

const PREFIX = `ids${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const A = `${PREFIX}-a`;
const B = `${PREFIX}-b`;
const BACKEND = `${PREFIX}-web`;
const BACKEND_CONF = `${PREFIX}-backend`;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
const httpPorts = new Map<string, number>();

async function answers(c: string): Promise<true | undefined> {
  const r = await send({ port: httpPorts.get(c) ?? 0, host: `${c}.localhost`, path: '/' });
  return r.status === 200 ? true : undefined;
}

async function runningTask(service: string): Promise<{ id: string; container: string } | undefined> {
  const svc = (await port.listServices()).find((s) => s.Spec.Name === service);
  const t = (await port.listTasks()).find((x) => x.ServiceID === svc?.ID && isServingTask(x) && x.Status.State === 'running');
  const container = t?.Status.ContainerStatus?.ContainerID;
  return t !== undefined && container !== undefined ? { id: t.ID, container } : undefined;
}

/**
 * Runs inside a proxy container with the swarmgate code the image ships and the identity mounted
 * there; prints one JSON object: call → "ok" or the gRPC status name.
 */
const ATTACK = `
const grpc = require('/app/node_modules/@grpc/grpc-js');
const { coreClient } = require('/app/dist/src/api/client.js');
const { clientCredentials } = require('/app/dist/src/api/tls.js');
const [cluster, replicaId] = process.argv.slice(1);
const creds = clientCredentials('/run/secrets');
const name = (e) => (e === null ? 'ok' : grpc.status[e.code]);
const deadline = () => new Date(Date.now() + 8000);
const stream = (make) => new Promise((resolve) => {
  const c = coreClient(process.env.SWARMGATE_CORE_ADDR, creds);
  const s = make(c);
  s.on('data', () => { resolve('ok'); s.cancel(); c.close(); });
  s.on('error', (e) => { resolve(name(e)); c.close(); });
});
const unary = (f) => new Promise((resolve) => { const c = coreClient(process.env.SWARMGATE_CORE_ADDR, creds); f(c, (e) => { resolve(name(e)); c.close(); }); });
(async () => {
  const out = {};
  out.WatchProxyConfig = await stream((c) => c.WatchProxyConfig({ cluster, replicaId }, { deadline: deadline() }));
  out.WatchUpstreams = await stream((c) => c.WatchUpstreams({ cluster }, { deadline: deadline() }));
  out.ReportProxyState = await unary((c, cb) => c.ReportProxyState({ cluster, replicaId, appliedHash: 'forged' }, { deadline: deadline() }, cb));
  out.SubmitConfig = await unary((c, cb) => c.SubmitConfig({ cluster, modelHash: 'a'.repeat(64), proxyKind: 'nginx', files: [{ path: 'nginx.conf', content: Buffer.from('events {}') }], validation: { ok: true, output: '' } }, { deadline: deadline() }, cb));
  console.log(JSON.stringify(out));
})();
`;

function attackFrom(container: string, cluster: string, replicaId: string): Record<string, string> {
  const r = spawnSync('docker', ['exec', container, 'node', '-e', ATTACK, cluster, replicaId], { encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`attack script failed: ${r.stderr.slice(0, 2000)}`);
  return JSON.parse(line) as Record<string, string>;
}

/** One request every 40 ms (each on a new connection, like a client loop with curl): counts, and the span from first to last failure. */
function pacedLoop(c: string): { stop(): Promise<{ ok: number; failed: number; ms: number; outageMs: number }> } {
  let running = true;
  let ok = 0;
  let failed = 0;
  let firstFailure = 0;
  let lastFailure = 0;
  const started = Date.now();
  const done = (async () => {
    while (running) {
      const t = Date.now();
      const good = await send({ port: httpPorts.get(c) ?? 0, host: `${c}.localhost`, path: '/' }).then((r) => r.status === 200, () => false);
      if (good) ok++;
      else {
        failed++;
        firstFailure ||= t;
        lastFailure = Date.now();
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 40 - (Date.now() - t))));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { ok, failed, ms: Date.now() - started, outageMs: failed === 0 ? 0 : lastFailure - firstFailure };
    },
  };
}

function containerLogs(container: string): string {
  const r = spawnSync('docker', ['logs', container], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return `${r.stdout}${r.stderr}`;
}

function coreLogs(): string {
  const r = spawnSync('docker', ['service', 'logs', '--raw', CORE_SERVICE], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return `${r.stdout}${r.stderr}`;
}

beforeAll(async () => {
  const ports = await freePorts(4);
  if (ports.some((p) => p === undefined) || ports.length < 4) throw new Error('no free ports');
  const [ah = 0, ahs = 0, bh = 0, bhs = 0] = ports;
  httpPorts.set(A, ah);
  httpPorts.set(B, bh);
  const image = docker('image', 'inspect', '--format', '{{.Id}}', 'swarmgate/proxy:latest');
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  const dir = mkdtempSync(join(tmpdir(), 'sgids-'));
  writeFileSync(join(dir, 'backend.conf'), 'events {}\nhttp { access_log off; server { listen 80; location / { default_type text/plain; return 200 "ok\\n"; } } }\n');
  docker('config', 'create', BACKEND_CONF, join(dir, 'backend.conf'));
  docker('service', 'create', '--detach', '--quiet', '--no-resolve-image', '--name', BACKEND, '--replicas', '1', '--network', NET, '--config', `src=${BACKEND_CONF},target=/etc/nginx/nginx.conf`, image);
  for (const [c, h, hs] of [[A, ah, ahs], [B, bh, bhs]] as const) {
    await applyObject(port, cluster(c, { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: h, https: hs } } }));
    await applyObject(port, route(c, { serviceCluster: c, hosts: [`${c}.localhost`], rules: [{ backends: [{ service: BACKEND, port: 80 }] }] }));
  }
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
}, 180_000);

afterAll(async () => {
  for (const c of [A, B]) await deleteObject(port, 'Route', c).catch(() => undefined);
  for (const c of [A, B]) await deleteObject(port, 'ServiceCluster', c).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  tryDocker('service', 'rm', BACKEND);
  await removeWhenReleased([['config', 'rm', BACKEND_CONF], ['network', 'rm', NET]]);
}, 180_000);

describe('component identities on a real Swarm', () => {
  it('gives each cluster\'s proxies their own identity', async () => {
    for (const c of [A, B]) {
      await until(`route ${c} programmed`, () => isProgrammed(port, 'Route', c), 120_000);
      await until(`${c} answers`, () => answers(c), 60_000);
    }
    const services = await port.listServices();
    const secretsOf = (c: string) => (services.find((s) => s.Spec.Name === `sg-proxy-${c}`)?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => ({ file: x.File.Name, id: x.SecretID }));
    const [a, b] = [secretsOf(A), secretsOf(B)];
    expect(a.map((x) => x.file).sort()).toEqual(['swarmgate-ca.crt', 'swarmgate-client.crt', 'swarmgate-client.key']);
    // Same CA, different identity pairs.
    expect(a.find((x) => x.file === 'swarmgate-ca.crt')?.id).toBe(b.find((x) => x.file === 'swarmgate-ca.crt')?.id);
    expect(a.find((x) => x.file === 'swarmgate-client.key')?.id).not.toBe(b.find((x) => x.file === 'swarmgate-client.key')?.id);
    // The CA key is mounted into the core only.
    const core = services.find((s) => s.Spec.Name === CORE_SERVICE);
    expect((core?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => x.File.Name)).toContain('swarmgate-ca.key');
    for (const s of services.filter((x) => x.Spec.Name !== CORE_SERVICE)) expect((s.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => x.File.Name)).not.toContain('swarmgate-ca.key');
  }, 240_000);

  it('refuses cluster A\'s agent identity every call for cluster B, logs it, and keeps A working', async () => {
    const a = await until('A proxy task running', () => runningTask(`sg-proxy-${A}`));
    const b = await until('B proxy task running', () => runningTask(`sg-proxy-${B}`));
    expect(attackFrom(a.container, B, b.id)).toEqual({ WatchProxyConfig: 'PERMISSION_DENIED', WatchUpstreams: 'PERMISSION_DENIED', ReportProxyState: 'PERMISSION_DENIED', SubmitConfig: 'PERMISSION_DENIED' });
    // Its own cluster: the agent's calls work; an extension's calls are not an agent's.
    expect(attackFrom(a.container, A, a.id)).toEqual({ WatchProxyConfig: 'ok', WatchUpstreams: 'PERMISSION_DENIED', ReportProxyState: 'ok', SubmitConfig: 'PERMISSION_DENIED' });
    await until('the core logged the refusal', async () => (coreLogs().includes(`permission denied: agent of cluster ${A} called ReportProxyState`) ? true : undefined), 30_000);
    expect(coreLogs()).not.toContain('-----BEGIN');
    expect(await answers(A)).toBe(true);
    expect(await answers(B)).toBe(true);
  }, 240_000);

  it('rotates the certificates under traffic without a failed request or a proxy restart', async () => {
    const before = { a: await until('A proxy task running', () => runningTask(`sg-proxy-${A}`)), b: await until('B proxy task running', () => runningTask(`sg-proxy-${B}`)) };
    const coreBefore = await until('core task running', () => runningTask(CORE_SERVICE));
    const loops = { a: pacedLoop(A), b: pacedLoop(B) };
    const lines: string[] = [];
    expect(await runRotateCerts(port, { out: (t) => lines.push(t), err: (t) => lines.push(t) })).toBe(0);
    const setId = /^tls\/(\S+) created/.exec(lines[0] ?? '')?.[1] ?? '';
    expect(setId).not.toBe('');
    // The core restarts on the new set; each agent is handed its new identity over its stream and reconnects with it.
    await until('the core runs the new set', async () => {
      const t = await runningTask(CORE_SERVICE);
      return t !== undefined && t.id !== coreBefore.id ? t : undefined;
    }, 120_000);
    for (const [c, t] of [[A, before.a], [B, before.b]] as const) {
      await until(`${c}'s agent switched to its handed identity`, async () => (containerLogs(t.container).includes('the core handed a new identity') ? true : undefined), 120_000);
      // Kept on the task's tmpfs (a supervisor-restarted agent comes back with it), owner-only.
      expect(docker('exec', t.container, 'stat', '-c', '%a', '/dev/shm/swarmgate/identity.json').trim()).toBe('600');
    }
    // The switched agent still gets A's config: a route change reaches it (no task restart).
    await applyObject(port, route(A, { serviceCluster: A, hosts: [`${A}.localhost`, `${A}-two.localhost`], rules: [{ backends: [{ service: BACKEND, port: 80 }] }] }));
    await until('A serves the changed route', async () => ((await send({ port: httpPorts.get(A) ?? 0, host: `${A}-two.localhost`, path: '/' })).status === 200 ? true : undefined), 120_000);
    await new Promise((r) => setTimeout(r, 2000));
    const result = { a: await loops.a.stop(), b: await loops.b.stop() };
    for (const [c, r] of [[A, result.a], [B, result.b]] as const) {
      // The measured figure for the report: one host-mode replica per cluster, one request per 40 ms each.
      console.log(`rotate-certs under traffic, cluster ${c} (one request per 40 ms): ${r.failed} of ${r.ok + r.failed} requests failed over ${(r.ms / 1000).toFixed(1)} s`);
      expect(r.ok + r.failed).toBeGreaterThan(100);
      expect(r.failed).toBe(0);
    }
    // The same proxy tasks serve: nothing was restarted, the services still mount the identity they started with.
    expect((await runningTask(`sg-proxy-${A}`))?.id).toBe(before.a.id);
    expect((await runningTask(`sg-proxy-${B}`))?.id).toBe(before.b.id);
    const services = await port.listServices();
    for (const c of [A, B]) expect((services.find((s) => s.Spec.Name === `sg-proxy-${c}`)?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).some((x) => x.SecretName.includes(setId))).toBe(false);
    expect(coreLogs()).not.toContain('-----BEGIN');
  }, 400_000);
});
