/**
 * `make bench-core-idle-run`: how long one core run takes at N bench-mix routes when it finds nothing to
 * do. Below the 30 s resync a core idles between runs; above it runs back to back (ADR 0046).
 *
 * In one process: the Docker fake loaded with the bench mix (bench/lib/core-memory-fake.ts) served as
 * the Engine API on a unix socket (bench/lib/fake-engine.ts), and a CoreRun over the dockerode adapter
 * with the core's call deadline, a control plane and hitless delivery, as `swarmgate core --listen
 * --advertise` builds it (no gRPC server: no agent connects). The first run converges (renders,
 * validates, creates the proxy, writes every status); the next CORE_IDLE_RUNS runs find nothing to do
 * and are timed (wall) with the Engine API requests they made, by method. The fake's share of the
 * process's CPU is counted in the wall time, as a daemon's would be on the same machine.
 *
 * Environment: CORE_IDLE_SIZES (1000,5000), CORE_IDLE_RUNS (3), CORE_IDLE_PROFILE=DIR (a CPU profile of
 * the last timed run, .cpuprofile, for Chrome's DevTools or speedscope).
 * Results: bench/results/core-idle-run-<tag or date>.json (CORE_IDLE_TAG).
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pino from 'pino';
import { ControlPlane } from '../src/api/control-plane';
import { CoreRun } from '../src/core/core-run';
import { createDockerPort } from '../src/observed/dockerode-adapter';
import { withCallDeadline } from '../src/observed/deadline-port';
import type { DockerPort } from '../src/observed/docker-port';
import { seedFake } from './lib/core-memory-fake';
import { serveFakeEngine } from './lib/fake-engine';
import { generateInputs } from './lib/inputs';
import { machineInfo } from './lib/machine';
import { median } from './lib/stats';
import Dockerode from 'dockerode';

const SIZES = (process.env['CORE_IDLE_SIZES'] ?? '1000,5000').split(',').map(Number);
const RUNS = Number(process.env['CORE_IDLE_RUNS'] ?? '3');
const PROFILE_DIR = process.env['CORE_IDLE_PROFILE'];

/** Counts the port's calls by method name: which Docker requests a run makes. */
function counted(port: DockerPort): { port: DockerPort; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const wrapped = new Proxy(port, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function' || typeof key !== 'string') return v;
      return (...args: unknown[]) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { port: wrapped, calls };
}

interface SizeResult {
  readonly routes: number;
  readonly firstRunMs: number;
  readonly idleRunMs: number[];
  readonly results: string[];
  readonly calls: Record<string, number>[];
}

async function oneSize(n: number): Promise<SizeResult> {
  const inputs = generateInputs(n, { kind: 'per-route' });
  const fake = await seedFake(inputs);
  const engine = await serveFakeEngine(fake, join(tmpdir(), `core-idle-${process.pid}.sock`));
  try {
    const log = pino({ level: process.env['LOG_LEVEL'] ?? 'warn' }, pino.destination(2));
    const docker = new Dockerode({ socketPath: engine.socket });
    const { port, calls } = counted(withCallDeadline(createDockerPort(docker)));
    const plane = new ControlPlane();
    const run = new CoreRun(port, log, { plane, agents: { coreAddress: 'swarmgate-core:50051', controlNetwork: 'swarmgate-control', insecure: true } });
    let t = performance.now();
    const first = await run.run(1);
    const firstRunMs = Math.round(performance.now() - t);
    process.stderr.write(`${n} routes: first run ${firstRunMs} ms (${first.result}: ${first.reason ?? ''})\n`);
    const idleRunMs: number[] = [];
    const results: string[] = [];
    const perRun: Record<string, number>[] = [];
    for (let i = 0; i < RUNS; i++) {
      calls.clear();
      const session = PROFILE_DIR !== undefined && i === RUNS - 1 ? new Session() : undefined;
      if (session !== undefined) {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      t = performance.now();
      const r = await run.run(2 + i);
      const ms = Math.round(performance.now() - t);
      if (session !== undefined && PROFILE_DIR !== undefined) {
        const { profile } = await session.post('Profiler.stop');
        const file = join(PROFILE_DIR, `core-idle-${n}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        process.stderr.write(`profile: ${file}\n`);
        session.disconnect();
      }
      idleRunMs.push(ms);
      results.push(`${r.result}: ${r.reason ?? ''}`);
      perRun.push(Object.fromEntries(calls));
      process.stderr.write(`${n} routes: run ${i + 2} ${ms} ms (${r.result}: ${r.reason ?? ''}) calls ${JSON.stringify(Object.fromEntries(calls))}\n`);
    }
    return { routes: n, firstRunMs, idleRunMs, results, calls: perRun };
  } finally {
    await engine.close();
  }
}

async function main(): Promise<void> {
  const machine = machineInfo(undefined, undefined);
  const out: SizeResult[] = [];
  for (const n of SIZES) out.push(await oneSize(n));
  process.stdout.write(
    [
      `a core run that finds nothing to do (ms, min / median of ${RUNS}; load ${machine.loadAverage.join(' ')})`,
      '| routes | first run | run finding nothing to do | Docker requests of such a run |',
      '| --- | --- | --- | --- |',
      ...out.map((r) => `| ${r.routes.toLocaleString('en')} | ${r.firstRunMs} | ${Math.min(...r.idleRunMs)} / ${median(r.idleRunMs)} | ${JSON.stringify(r.calls[r.calls.length - 1])} |`),
      '',
    ].join('\n'),
  );
  const tag = process.env['CORE_IDLE_TAG'] ?? new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join('bench', 'results', `core-idle-run-${tag}.json`), `${JSON.stringify({ date: new Date().toISOString(), machine, runs: RUNS, results: out }, null, 2)}\n`);
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
