/**
 * `make bench-core-memory`: the memory of the core process itself at N bench-mix routes in one cluster.
 *
 * The core is the real one, run as `swarmgate core` runs in its service: `node dist/src/cli/main.js core`
 * with the Node options and environment `swarmgate install` gives it (CORE_NODE_OPTIONS,
 * MALLOC_ARENA_MAX=2), hitless delivery (--listen/--advertise) and metrics. Docker is the in-memory fake
 * (test/fakes/fake-docker.ts) served as the Engine API on a unix socket by this process
 * (bench/lib/fake-engine.ts), loaded with the bench mix of bench/lib/inputs.ts: N routes stored as spec
 * configs by applyObject, 2N backend services with their tasks, TLS secrets. So the figures are the
 * core's own: this process holds the inputs and the fake, the core's child processes (nginx -t) are
 * not counted.
 *
 * Per run (a fresh fake and a fresh core each): RSS (VmRSS) and V8 heap used (the core's own
 * /metrics) once the core has converged the routes, after a route change (one route's spec applied
 * anew), and after a task change (a task added to a backend service), each once the core has been
 * quiet for QUIET_MS; and the peak RSS (VmHWM) over the run. Min / median over CORE_MEMORY_RUNS (3).
 *
 * The core logs at info level (LOG_LEVEL): each run's duration is read from its log, the first run's and
 * those of runs that found nothing to do (ADR 0046: at 5,000 routes and more these outlasted the resync).
 *
 * Environment: CORE_MEMORY_SIZES (1000,5000,10000), CORE_MEMORY_RUNS (3), CORE_NODE_OPTIONS (default:
 * the installed core's), CORE_MEMORY_TAG (result file name), CORE_MEMORY_MAIN (the core's entry point,
 * default dist/src/cli/main.js: point it at another build to compare side by side). Needs `make build` (the Makefile target does it).
 * Results: bench/results/core-memory-<tag or date>.json and core-memory-latest.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { applyObject } from '../src/desired/spec-store';
import { CORE_NODE_OPTIONS } from '../src/plan/core-service-spec';
import { changedRoute, seedFake } from './lib/core-memory-fake';
import { serveFakeEngine, type FakeEngine } from './lib/fake-engine';
import { generateInputs, type GeneratedInputs } from './lib/inputs';
import { machineInfo } from './lib/machine';
import { median } from './lib/stats';

const SIZES = (process.env['CORE_MEMORY_SIZES'] ?? '1000,5000,10000').split(',').map(Number);
const RUNS = Number(process.env['CORE_MEMORY_RUNS'] ?? '3');
const NODE_OPTIONS = `${process.env['CORE_NODE_OPTIONS'] ?? CORE_NODE_OPTIONS}${process.env['CORE_MEMORY_HEAP_SNAPSHOT'] === '1' ? ' --heapsnapshot-signal=SIGUSR2' : ''}`;
/** The core counts as settled when it has finished a run and asked Docker for nothing but its task poll for this long. */
const QUIET_MS = Number(process.env['CORE_MEMORY_QUIET_MS'] ?? '3000');
/** A phase that does not settle in this long fails the benchmark (CORE_MEMORY_SETTLE_MINUTES; at 10k routes the first run took 12 minutes here, ADR 0046). */
const SETTLE_TIMEOUT_MS = Number(process.env['CORE_MEMORY_SETTLE_MINUTES'] ?? '15') * 60_000;
/** A core still running runs this long after one found nothing to do is taken as one that never idles (the resync is 30 s). */
const BUSY_AFTER_MS = 45_000;

const PHASES = ['converged', 'route change', 'task change'] as const;
type Phase = (typeof PHASES)[number];

interface Sample {
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  /** Runs the core had finished when sampled. */
  readonly runs: number;
  /** Since the phase's change (the core's start for 'converged'). */
  readonly settledMs: number;
  /**
   * The core never was idle: a run took longer than the 30 s resync period, so runs followed each other
   * (5,000 routes and more here). Sampled right after a run that found nothing to do instead.
   */
  readonly busy: boolean;
}

interface RunResult {
  readonly phases: Record<Phase, Sample>;
  readonly peakRssMiB: number;
  readonly seedMs: number;
  /** How long the core's runs took (its own log): the first, and each that found nothing to do. */
  readonly firstRunMs?: number;
  readonly unchangedRunMs: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function procMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 'NaN');
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** The core's own figures from its /metrics: finished runs and V8 heap used. */
async function coreMetrics(port: number): Promise<{ runs: number; unchanged: number; heapUsed: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const runs = [...text.matchAll(/^swarmgate_reconcile_runs_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
  const unchanged = Number(/^swarmgate_reconcile_runs_total\{result="unchanged"\} (\d+)/m.exec(text)?.[1] ?? '0');
  const heapUsed = Number(/^swarmgate_core_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? 'NaN');
  return { runs, unchanged, heapUsed };
}

interface RunningCore {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly metricsPort: number;
  readonly log: string;
}

async function startCore(engine: FakeEngine, tag: string): Promise<RunningCore> {
  const [grpcPort, metricsPort] = [await freePort(), await freePort()];
  const log = join(tmpdir(), `core-memory-${tag}.log`);
  const fd = openSync(log, 'w');
  const child = spawn('node', [process.env['CORE_MEMORY_MAIN'] ?? 'dist/src/cli/main.js', 'core', '--listen', `127.0.0.1:${grpcPort}`, '--advertise', `swarmgate-core:${grpcPort}`, '--insecure', '--metrics-listen', `127.0.0.1:${metricsPort}`], {
    env: { ...process.env, DOCKER_HOST: `unix://${engine.socket}`, NODE_OPTIONS, MALLOC_ARENA_MAX: '2', LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error('core did not start');
  // A benchmark that dies must not leave its core running.
  process.once('exit', () => child.kill('SIGTERM'));
  return { child, pid: child.pid, metricsPort, log };
}

/**
 * Wait until the core has finished more than `after` runs and is idle: no finished run and no Docker
 * request but its task poll for QUIET_MS, and no request since the last run finished (a run that
 * renders and validates for seconds asks Docker nothing meanwhile, but it asked when it started).
 */
async function settle(core: RunningCore, engine: FakeEngine, after: number, since: number): Promise<Sample> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  const start = await coreMetrics(core.metricsPort).catch(() => undefined);
  let unchanged = start?.unchanged ?? 0;
  let runs = start?.runs ?? 0;
  /** Runs finished since the change: the first may have started before it. */
  let finishes = 0;
  let runsChangedAt = Date.now();
  /** When a run after the change first found nothing to do (a long first run is not a busy core). */
  let nothingSince: number | undefined;
  for (;;) {
    if (core.child.exitCode !== null) throw new Error(`core exited (${core.child.exitCode}); see ${core.log}`);
    if (Date.now() > deadline) throw new Error(`core did not settle; see ${core.log}`);
    await sleep(250);
    const m = await coreMetrics(core.metricsPort).catch(() => undefined);
    if (m === undefined) continue;
    const finished = m.runs !== runs;
    const foundNothing = m.unchanged > unchanged;
    if (finished) {
      finishes += m.runs - runs;
      runs = m.runs;
      unchanged = m.unchanged;
      runsChangedAt = Date.now();
    }
    const now = Date.now();
    const lastRequest = engine.lastRunRequestAt();
    const sample = (busy: boolean): Sample => ({ rssMiB: Math.round(procMemory(core.pid).rss * 10) / 10, heapUsedMiB: mib(m.heapUsed), runs: m.runs, settledMs: now - since, busy });
    if (m.runs <= after) continue;
    if (now - runsChangedAt >= QUIET_MS && now - lastRequest >= QUIET_MS && lastRequest <= runsChangedAt) return sample(false);
    // Runs back to back: the core found nothing to do BUSY_AFTER_MS ago and has not been quiet since; one more such run has just ended.
    if (finished && foundNothing && finishes >= 2) nothingSince ??= now;
    if (finished && foundNothing && nothingSince !== undefined && now - nothingSince > BUSY_AFTER_MS) return sample(true);
  }
}

/** The core's heap as a file (Node's --heapsnapshot-signal, added to its options for this): what it retains at the end of a run. */
async function heapSnapshot(core: RunningCore): Promise<void> {
  const before = new Set(readdirSync('.').filter((f) => f.endsWith('.heapsnapshot')));
  core.child.kill('SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await sleep(1000);
    const file = readdirSync('.').find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    // Written in one go at the end; a size that stopped growing is a finished file.
    if (file !== undefined && statSync(file).size > 0 && Date.now() - statSync(file).mtimeMs > 3000) {
      process.stderr.write(`heap snapshot: ${file}\n`);
      return;
    }
  }
  throw new Error('no heap snapshot written');
}

/** The core's run times from its log (info level: one "reconciled" line per run, with its result and ms). */
function runTimes(log: string): Pick<RunResult, 'firstRunMs' | 'unchangedRunMs'> {
  const runs = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"msg":"reconciled"'))
    .map((l) => JSON.parse(l) as { seq: number; result: string; ms: number });
  const first = runs.find((r) => r.seq === 1)?.ms;
  return { ...(first !== undefined ? { firstRunMs: first } : {}), unchangedRunMs: runs.filter((r) => r.result === 'unchanged').map((r) => r.ms) };
}

async function oneRun(n: number, run: number, inputs: GeneratedInputs): Promise<RunResult> {
  const seedStart = Date.now();
  const fake = await seedFake(inputs);
  const seedMs = Date.now() - seedStart;
  const engine = await serveFakeEngine(fake, join(tmpdir(), `core-memory-${process.pid}.sock`));
  const core = await startCore(engine, `${n}-${run}`);
  try {
    const started = Date.now();
    const converged = await settle(core, engine, 0, started);
    const proxy = fake.service('sg-proxy-default');
    if (proxy === undefined) throw new Error(`the core did not create the default cluster's proxy; see ${core.log}`);
    const route = inputs.desired.routes[0]?.object;
    if (route === undefined) throw new Error('no routes');
    const routeAt = Date.now();
    await applyObject(fake, changedRoute(route));
    const routeChange = await settle(core, engine, converged.runs, routeAt);
    const service = inputs.snapshot.services[1];
    if (service === undefined) throw new Error('no services');
    const taskAt = Date.now();
    fake.addTask(service.name, { addresses: [{ network: service.networks.filter((x) => x !== 'ingress')[0] ?? '', ip: '10.99.0.2' }] });
    engine.tasksChanged();
    const taskChange = await settle(core, engine, routeChange.runs, taskAt);
    const peakRssMiB = Math.round(procMemory(core.pid).hwm * 10) / 10;
    if (process.env['CORE_MEMORY_HEAP_SNAPSHOT'] === '1') await heapSnapshot(core);
    return { phases: { converged, 'route change': routeChange, 'task change': taskChange }, peakRssMiB, seedMs, ...runTimes(core.log) };
  } finally {
    core.child.kill('SIGTERM');
    await new Promise((r) => (core.child.exitCode !== null ? r(undefined) : core.child.once('exit', r)));
    await engine.close();
  }
}

const fmt = (xs: readonly number[]) => `${Math.min(...xs).toFixed(0)} / ${median(xs).toFixed(0)}`;

async function main(): Promise<void> {
  const machine = machineInfo(undefined, undefined);
  const results: { routes: number; mix: GeneratedInputs['mix']; runs: RunResult[] }[] = [];
  for (const n of SIZES) {
    const inputs = generateInputs(n, { kind: 'per-route' });
    const runs: RunResult[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const r = await oneRun(n, i, inputs);
      runs.push(r);
      process.stderr.write(`${n} routes, run ${i}: ${PHASES.map((p) => `${p} ${r.phases[p].rssMiB} MiB rss / ${r.phases[p].heapUsedMiB} heap (${(r.phases[p].settledMs / 1000).toFixed(1)} s)`).join('; ')}; peak ${r.peakRssMiB}; first run ${r.firstRunMs ?? '?'} ms; runs that found nothing to do ${r.unchangedRunMs.join(', ')} ms; seeded in ${(r.seedMs / 1000).toFixed(1)} s\n`);
    }
    results.push({ routes: n, mix: inputs.mix, runs });
  }
  const rows = results.flatMap(({ routes, runs }) =>
    PHASES.map((p) => `| ${routes.toLocaleString('en')} | ${p}${runs.some((r) => r.phases[p].busy) ? ' (never idle: sampled after a run that found nothing to do)' : ''} | ${fmt(runs.map((r) => r.phases[p].rssMiB))} | ${fmt(runs.map((r) => r.phases[p].heapUsedMiB))} | ${p === 'task change' ? fmt(runs.map((r) => r.peakRssMiB)) : ''} |`),
  );
  process.stdout.write(
    [
      `core memory (MiB, min / median of ${RUNS} runs; the core process only, NODE_OPTIONS="${NODE_OPTIONS}"; load ${machine.loadAverage.join(' ')})`,
      '| routes | after | RSS | V8 heap used | peak RSS over the run |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
      '| routes | first run, s | a run that found nothing to do, s (all such runs) |',
      '| --- | --- | --- |',
      ...results.map(({ routes, runs }) => {
        const s = (ms: readonly number[]) => (ms.length === 0 ? 'none' : `${(Math.min(...ms) / 1000).toFixed(1)} / ${(median(ms) / 1000).toFixed(1)}`);
        return `| ${routes.toLocaleString('en')} | ${s(runs.flatMap((r) => (r.firstRunMs !== undefined ? [r.firstRunMs] : [])))} | ${s(runs.flatMap((r) => r.unchangedRunMs))} |`;
      }),
      '',
    ].join('\n'),
  );
  const out = { date: new Date().toISOString(), machine, nodeOptions: NODE_OPTIONS, runs: RUNS, quietMs: QUIET_MS, results };
  const tag = process.env['CORE_MEMORY_TAG'] ?? new Date().toISOString().replace(/[:.]/g, '-');
  for (const name of [`core-memory-${tag}.json`, 'core-memory-latest.json']) writeFileSync(join('bench', 'results', name), `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
