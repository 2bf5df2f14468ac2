/**
 * `make bench-swarm`: the core's latencies on the real local Swarm (needs make swarm-up images).
 * DELIVERY=hitless (default): the core is installed as the swarmgate-core service (`swarmgate install`,
 * gRPC on the control network) and the proxy's agent reloads NGINX in place.
 * DELIVERY=rolling: the core runs as a child process (`swarmgate core`) and every change is a
 * rolling update of the proxy service.
 * (i)  service create → first 200 through the proxy, and task running → first 200;
 * (ii) scale 2→4 → all 4 tasks serving;
 * (iii) service remove → route answers 503, counting other 5xx on the way;
 * (iv) the core's RSS and CPU time with 1,000 routes applied.
 * Prints a table and saves JSON to bench/results/swarm-<date>.json and swarm-latest.json.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { CORE_NODE_OPTIONS, CORE_SERVICE, runInstall, runUninstall } from '../src/cli/commands/install';
import { applyObject, deleteObject } from '../src/desired/spec-store';
import { decodeObject } from '../src/domain/object';
import { createDockerPort } from '../src/observed/dockerode-adapter';
import { summarize, type Summary } from './lib/stats';
import { childPids } from '../src/agent/proxy-agent';

const RUNS = Number(process.env['RUNS'] ?? 5);
const DELIVERY = process.env['DELIVERY'] === 'rolling' ? 'rolling' : 'hitless';
const silent = { out: () => undefined, err: (t: string) => process.stderr.write(`${t}\n`) };
const P = `sgb${process.pid % 10000}`;
const NET = `${P}-net`;
const CLUSTER = `${P}-edge`;
const SVC = `${P}-svc`;
const HOST = `${P}.localhost`;
const HTTP_PORT = 18780;
const port = createDockerPort();

const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const quietly = (...args: string[]): void => {
  try {
    docker(...args);
  } catch {
    // already gone
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(host = HOST): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: HTTP_PORT, path: '/', headers: { host }, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function object(u: unknown) {
  const r = decodeObject(u);
  if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
  return r.right;
}

const route = (name: string, host: string, service: string) =>
  object({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name }, spec: { serviceCluster: CLUSTER, hosts: [host], rules: [{ backends: [{ service, port: 80 }] }] } });

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, stepMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(stepMs);
  }
}

function runningSince(service: string): number | undefined {
  const out = docker('service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.ID}} {{.CurrentState}}');
  const ids = out.split('\n').filter((l) => / Running /.test(l)).map((l) => l.split(' ')[0] ?? '');
  if (ids.length === 0) return undefined;
  const ts = docker('inspect', '--format', '{{.Status.Timestamp}}', ...ids).split('\n').map((t) => Date.parse(t));
  return Math.min(...ts);
}

interface RunningCore {
  readonly pid: number;
  stop(): Promise<void>;
}

async function startCore(): Promise<RunningCore> {
  if (DELIVERY === 'hitless') {
    if ((await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'warn' }, silent)) !== 0) throw new Error('install failed');
    const container = await until(async () => docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${CORE_SERVICE}`) || undefined, 60_000, 200);
    // The container's PID 1 is tini; the core is its Node child.
    const tini = Number(docker('inspect', '--format', '{{.State.Pid}}', container));
    const node = await until(async () => [...childPids(tini)][0], 30_000, 100);
    return { pid: node, stop: async () => void (await runUninstall(port, false, silent)) };
  }
  // The same Node options `swarmgate install` gives the core service.
  const child: ChildProcess = spawn('node', ['dist/src/cli/main.js', 'core'], { env: { ...process.env, SWARMGATE_LOCAL_IMAGES: '1', LOG_LEVEL: 'warn', NODE_OPTIONS: process.env['CORE_NODE_OPTIONS'] ?? CORE_NODE_OPTIONS }, stdio: ['ignore', 'ignore', 'inherit'] });
  return { pid: child.pid ?? 0, stop: async () => void child.kill('SIGTERM') };
}

function procStats(pid: number): { rssMiB: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(stat[11] ?? 0) + Number(stat[12] ?? 0);
  return { rssMiB: rssKb / 1024, cpuMs: (ticks * 1000) / 100 };
}

async function main(): Promise<void> {
  const image = docker('image', 'inspect', '--format', '{{.Id}}', 'swarmgate/proxy:latest');
  const dir = mkdtempSync(join(tmpdir(), 'sgb-'));
  writeFileSync(join(dir, 'backend.conf'), 'events {}\nhttp { access_log off; server { listen 80; location / { return 200 "$hostname\\n"; } } }\n');
  docker('network', 'create', '--driver', 'overlay', NET);
  docker('config', 'create', `${P}-backend`, join(dir, 'backend.conf'));
  const createService = (replicas: number) =>
    docker('service', 'create', '--detach', '--quiet', '--no-resolve-image', '--name', SVC, '--replicas', String(replicas), '--network', NET,
      '--hostname', `${SVC}.{{.Task.Slot}}`, '--config', `src=${P}-backend,target=/etc/nginx/nginx.conf`, image);
  await applyObject(port, object({ apiVersion: 'swarmgate.io/v1', kind: 'ServiceCluster', metadata: { name: CLUSTER }, spec: { proxy: { replicas: 1, delivery: DELIVERY, publish: { mode: 'host', http: HTTP_PORT, https: HTTP_PORT + 1 } } } }));
  await applyObject(port, route(P, HOST, SVC));
  // The core also converges the implicit "default" cluster; remove that proxy afterwards if we caused it.
  const defaultExisted = (await port.listServices()).some((s) => s.Spec.Name === 'sg-proxy-default');
  const core = await startCore();
  const createTo200: number[] = [];
  const startedTo200: number[] = [];
  const scaleToAll: number[] = [];
  const removeTo503: number[] = [];
  let removal5xx = 0;
  try {
    await until(async () => ((await get('nobody.localhost')) === 503 ? true : undefined), 120_000, 200);
    for (let i = 0; i < RUNS; i++) {
      process.stderr.write(`run ${i + 1}/${RUNS}\n`);
      const t0 = Date.now();
      createService(2);
      const t200 = await until(async () => ((await get()) === 200 ? Date.now() : undefined), 120_000);
      createTo200.push(t200 - t0);
      const started = runningSince(SVC);
      if (started !== undefined) startedTo200.push(t200 - started);
      // (ii) scale 2 → 4: until 4 distinct tasks answered.
      const tScale = Date.now();
      docker('service', 'scale', '--detach', `${SVC}=4`);
      const seen = new Set<string>();
      await until(async () => {
        const body = await new Promise<string>((resolve) => {
          const req = request({ host: '127.0.0.1', port: HTTP_PORT, path: '/', headers: { host: HOST }, agent: false }, (res) => {
            let b = '';
            res.on('data', (c: Buffer) => (b += c.toString()));
            res.on('end', () => resolve(res.statusCode === 200 ? b.trim() : ''));
          });
          req.on('error', () => resolve(''));
          req.end();
        });
        if (body !== '') seen.add(body);
        return seen.size >= 4 ? true : undefined;
      }, 120_000, 10);
      scaleToAll.push(Date.now() - tScale);
      // (iii) remove: until 503, counting 5xx other than the final 503.
      const tRm = Date.now();
      docker('service', 'rm', SVC);
      await until(async () => {
        const s = await get();
        if (s >= 500 && s !== 503) removal5xx++;
        return s === 503 ? true : undefined;
      }, 120_000, 20);
      removeTo503.push(Date.now() - tRm);
      await sleep(1500);
    }
    // (iv) 1,000 routes: RSS and CPU time of the core once it has converged them.
    process.stderr.write('applying 1000 routes\n');
    for (let i = 0; i < 1000; i++) await applyObject(port, route(`${P}-r${i}`, `r${i}.${HOST}`, SVC));
    const before = procStats(core.pid);
    await until(async () => {
      const [c] = await port.listConfigs(['io.swarmgate.kind=Route', `io.swarmgate.name=${P}-r999`]);
      return c?.Spec.Labels?.['io.swarmgate.status'] !== undefined ? true : undefined;
    }, 600_000, 500);
    await sleep(10_000);
    const after = procStats(core.pid);
    const fmt = (s: Summary) => `${s.min.toFixed(0)} / ${s.p50.toFixed(0)} / ${s.max.toFixed(0)}`;
    const rows = [
      ['create → first 200 (ms)', fmt(summarize(createTo200))],
      ['task running → first 200 (ms)', `${fmt(summarize(startedTo200))}   target median ≤ 1000: ${summarize(startedTo200).p50 <= 1000 ? 'PASS' : 'FAIL'}`],
      ['scale 2→4 → all 4 serving (ms)', fmt(summarize(scaleToAll))],
      ['remove → 503 (ms)', fmt(summarize(removeTo503))],
      ['5xx other than 503 during removal', `${removal5xx}   target 0: ${removal5xx === 0 ? 'PASS' : 'FAIL'}`],
      ['core RSS at 1,000 routes (MiB)', `${after.rssMiB.toFixed(0)}   target ≤ 100: ${after.rssMiB <= 100 ? 'PASS' : 'FAIL'}`],
      ['core CPU to converge 1,000 routes (ms)', (after.cpuMs - before.cpuMs).toFixed(0)],
    ];
    process.stdout.write(`\nswarm bench, ${DELIVERY} delivery (${RUNS} runs; min / median / max)\n${rows.map(([k, v]) => `  ${(k ?? '').padEnd(40)} ${v ?? ''}`).join('\n')}\n`);
    const result = { date: new Date().toISOString(), delivery: DELIVERY, runs: RUNS, cpus: cpus().length, node: process.version, createTo200, startedTo200, scaleToAll, removeTo503, removal5xx, coreRssMiB: after.rssMiB, coreCpuMsFor1000Routes: after.cpuMs - before.cpuMs };
    mkdirSync('bench/results', { recursive: true });
    const json = `${JSON.stringify(result, null, 2)}\n`;
    writeFileSync(`bench/results/swarm-${result.date.replace(/[:.]/g, '-')}.json`, json);
    writeFileSync(`bench/results/swarm-${DELIVERY}-latest.json`, json);
  } finally {
    await core.stop();
    process.stderr.write('cleaning up\n');
    for (let i = 0; i < 1000; i++) await deleteObject(port, 'Route', `${P}-r${i}`).catch(() => undefined);
    await deleteObject(port, 'Route', P).catch(() => undefined);
    await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
    quietly('service', 'rm', SVC, `sg-proxy-${CLUSTER}`);
    if (!defaultExisted) quietly('service', 'rm', 'sg-proxy-default');
    for (let i = 0; i < 40; i++) {
      const left = docker('config', 'ls', '--format', '{{.Name}}').split('\n').filter((n) => n.startsWith(`sg-nginx-${CLUSTER}-`) || n === `${P}-backend` || (!defaultExisted && n.startsWith('sg-nginx-default-')));
      if (left.length === 0) break;
      for (const n of left) quietly('config', 'rm', n);
      await sleep(500);
    }
    quietly('network', 'rm', NET);
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`bench-swarm failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
