/**
 * How long a user waits for a CLI command (issue 16: a plain `get` under 300 ms on the development
 * machine). Runs the built CLI (`node dist/src/cli/main.js`, what the `swarmgate` bin runs) several
 * times per command against DOCKER_HOST and prints min / median / max wall time and, where
 * /usr/bin/time exists, the median user + sys CPU time; `node -e 0` is the floor no command can go
 * below. The load average is printed with the figures: on a shared 2-core machine it decides most
 * of the wall time. Run with `make bench-cli` (builds first); `--runs=N` (default 7).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { summarize } from './lib/stats';

const runs = Number(/^--runs=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--runs=')) ?? '')?.[1] ?? 7);
const MAIN = 'dist/src/cli/main.js';
const TIME = '/usr/bin/time';

const COMMANDS: readonly (readonly string[])[] = [['-e', '0'], [MAIN, '--version'], [MAIN, 'get', 'routes'], [MAIN, 'get', 'serviceclusters'], [MAIN, 'status']];

interface Sample {
  readonly wallMs: number;
  readonly cpuMs?: number;
  readonly status: number | null;
}

function once(args: readonly string[]): Sample {
  const withTime = existsSync(TIME);
  const started = process.hrtime.bigint();
  const r = withTime ? spawnSync(TIME, ['-f', '%U %S', process.execPath, ...args], { encoding: 'utf8' }) : spawnSync(process.execPath, [...args], { encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const times = withTime ? /(\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr) : null;
  return { wallMs, status: r.status, ...(times !== null ? { cpuMs: (Number(times[1]) + Number(times[2])) * 1000 } : {}) };
}

if (!existsSync(MAIN)) {
  process.stderr.write(`${MAIN} is missing: run make build (make bench-cli does)\n`);
  process.exit(2);
}
const before = loadavg();
const rows = COMMANDS.map((args) => {
  once(args); // warm the file cache
  const samples = Array.from({ length: runs }, () => once(args));
  const wall = summarize(samples.map((s) => s.wallMs));
  const cpu = samples.every((s) => s.cpuMs !== undefined) ? summarize(samples.map((s) => s.cpuMs ?? 0)) : undefined;
  const label = args[0] === MAIN ? `swarmgate ${args.slice(1).join(' ')}` : `node ${args.join(' ')}`;
  const failed = samples.filter((s) => s.status !== 0).length;
  return [label, wall.min.toFixed(0), wall.p50.toFixed(0), wall.max.toFixed(0), cpu === undefined ? '-' : cpu.p50.toFixed(0), failed === 0 ? '' : `${failed} exited non-zero`];
});
const header = ['COMMAND', 'WALL MIN ms', 'WALL MEDIAN ms', 'WALL MAX ms', 'CPU MEDIAN ms', ''];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
for (const r of [header, ...rows]) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
process.stdout.write(`${runs} runs each; load average ${before.map((l) => l.toFixed(1)).join(' ')} before, ${loadavg().map((l) => l.toFixed(1)).join(' ')} after; DOCKER_HOST=${process.env['DOCKER_HOST'] ?? '(default socket)'}\n`);
