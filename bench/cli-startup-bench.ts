/**
 * How long a user waits for a CLI command (issue 16: a plain `get` under 300 ms on the development
 * machine; ADR 0026). Runs each command against DOCKER_HOST with three builds, interleaved run by run
 * so the machine's load falls on all three alike:
 *   - `tsc`: dist/src/cli/main.js, the compiled files one by one (the bin before ADR 0026);
 *   - `bundle, no cache`: the `swarmgate` bin (dist/cli/swarmgate.js) with SWARMGATE_COMPILE_CACHE=off;
 *   - `bundle`: the `swarmgate` bin as installed, with its V8 code cache (warmed by an untimed run).
 * Prints min / median / max wall time and, where /usr/bin/time exists, the median user + sys CPU
 * time; `node -e 0` is the floor no command can go below. The load average is printed with the
 * figures: on a shared 2-core machine it decides most of the wall time. Writes every sample to
 * bench/results/cli-<start time>.json and bench/results/cli-latest.json.
 * Run with `make bench-cli` (builds first); `--runs=N` (default 7).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { round3, summarize, type Summary } from './lib/stats';

const runs = Number(/^--runs=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--runs=')) ?? '')?.[1] ?? 7);
const TSC_MAIN = 'dist/src/cli/main.js';
const BIN = 'dist/cli/swarmgate.js';
const TIME = '/usr/bin/time';
const TARGET_MS = 300;

interface Build {
  readonly name: string;
  readonly script: string;
  readonly env: NodeJS.ProcessEnv;
}

interface Sample {
  readonly wallMs: number;
  readonly cpuMs?: number;
  readonly status: number | null;
}

const cacheDir = mkdtempSync(join(tmpdir(), 'sg-cli-bench-'));
const BUILDS: readonly Build[] = [
  { name: 'tsc', script: TSC_MAIN, env: process.env },
  { name: 'bundle, no cache', script: BIN, env: { ...process.env, SWARMGATE_COMPILE_CACHE: 'off' } },
  { name: 'bundle', script: BIN, env: { ...process.env, SWARMGATE_COMPILE_CACHE: cacheDir } },
];
const COMMANDS: readonly (readonly string[])[] = [['--version'], ['get', 'routes'], ['get', 'serviceclusters'], ['status']];

function once(args: readonly string[], env: NodeJS.ProcessEnv): Sample {
  const withTime = existsSync(TIME);
  const started = process.hrtime.bigint();
  const r = withTime ? spawnSync(TIME, ['-f', '%U %S', process.execPath, ...args], { encoding: 'utf8', env }) : spawnSync(process.execPath, [...args], { encoding: 'utf8', env });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const times = withTime ? /(\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr) : null;
  return { wallMs, status: r.status, ...(times !== null ? { cpuMs: (Number(times[1]) + Number(times[2])) * 1000 } : {}) };
}

interface Row {
  readonly command: string;
  readonly build: string;
  readonly wall: Summary;
  readonly cpu?: Summary;
  readonly failed: number;
  readonly samples: readonly Sample[];
}

function row(command: string, build: string, samples: readonly Sample[]): Row {
  const cpu = samples.every((s) => s.cpuMs !== undefined) ? summarize(samples.map((s) => s.cpuMs ?? 0)) : undefined;
  return { command, build, wall: summarize(samples.map((s) => s.wallMs)), ...(cpu !== undefined ? { cpu } : {}), failed: samples.filter((s) => s.status !== 0).length, samples };
}

for (const file of [TSC_MAIN, BIN]) {
  if (!existsSync(file)) {
    process.stderr.write(`${file} is missing: run make build (make bench-cli does)\n`);
    process.exit(2);
  }
}
const startedAt = new Date();
const loadBefore = loadavg();
const rows: Row[] = [];
once(['-e', '0'], process.env); // warm the file cache
rows.push(row('node -e 0', '-', Array.from({ length: runs }, () => once(['-e', '0'], process.env))));
for (const command of COMMANDS) {
  process.stderr.write(`swarmgate ${command.join(' ')}…\n`);
  for (const b of BUILDS) once([b.script, ...command], b.env); // file cache, and the bundle's code cache
  const samples = BUILDS.map(() => [] as Sample[]);
  for (let i = 0; i < runs; i++) BUILDS.forEach((b, j) => samples[j]?.push(once([b.script, ...command], b.env)));
  BUILDS.forEach((b, j) => rows.push(row(`swarmgate ${command.join(' ')}`, b.name, samples[j] ?? [])));
}
const loadAfter = loadavg();
rmSync(cacheDir, { recursive: true, force: true });

const header = ['COMMAND', 'BUILD', 'WALL MIN ms', 'WALL MEDIAN ms', 'WALL MAX ms', 'CPU MEDIAN ms', ''];
const cells = rows.map((r) => [r.command, r.build, r.wall.min.toFixed(0), r.wall.p50.toFixed(0), r.wall.max.toFixed(0), r.cpu === undefined ? '-' : r.cpu.p50.toFixed(0), r.failed === 0 ? '' : `${r.failed} exited non-zero`]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
for (const c of [header, ...cells]) process.stdout.write(`${c.map((x, i) => x.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
const get = rows.find((r) => r.command === 'swarmgate get routes' && r.build === 'bundle');
const verdict = get === undefined ? 'not measured' : `${get.wall.p50 <= TARGET_MS ? 'PASS' : 'FAIL'} (median ${get.wall.p50.toFixed(0)} ms)`;
const load = (l: readonly number[]): string => l.map((x) => x.toFixed(1)).join(' ');
process.stdout.write(`target: swarmgate get routes ≤ ${TARGET_MS} ms (bundle, median): ${verdict}\n`);
process.stdout.write(`${runs} runs each; ${cpus().length} CPUs, load average ${load(loadBefore)} before, ${load(loadAfter)} after; DOCKER_HOST=${process.env['DOCKER_HOST'] ?? '(default socket)'}\n`);

const json = {
  startedAt: startedAt.toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadAverage: { before: loadBefore, after: loadAfter },
  dockerHost: process.env['DOCKER_HOST'] ?? null,
  runs,
  targetMs: TARGET_MS,
  rows: rows.map((r) => ({
    command: r.command,
    build: r.build,
    wallMs: { min: round3(r.wall.min), median: round3(r.wall.p50), max: round3(r.wall.max) },
    ...(r.cpu !== undefined ? { cpuMs: { min: round3(r.cpu.min), median: round3(r.cpu.p50), max: round3(r.cpu.max) } } : {}),
    failed: r.failed,
    samples: r.samples.map((s) => ({ wallMs: round3(s.wallMs), ...(s.cpuMs !== undefined ? { cpuMs: round3(s.cpuMs) } : {}), status: s.status })),
  })),
};
mkdirSync('bench/results', { recursive: true });
const stamped = `bench/results/cli-${startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`;
for (const file of [stamped, 'bench/results/cli-latest.json']) writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
process.stderr.write(`results: ${stamped}\n`);
