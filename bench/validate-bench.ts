/**
 * `npx tsx bench/validate-bench.ts`: time `swarmgate validate` (runValidate on stdin text) on the hostile
 * inputs of test/helpers/adversarial-specs.ts, including the two of issue 14 (60 000 label keys, 40 000
 * unknown spec fields). Prints wall and CPU milliseconds (the least of 3 runs) per input; CPU time is
 * the steadier number on a shared machine.
 */
import { runValidate } from '../src/cli/commands/validate';
import { manyLabels, manyUnknownSpecFields, megabyteInputs } from '../test/helpers/adversarial-specs';

const inputs: Record<string, string> = { '60 000 label keys': manyLabels(60_000), '40 000 unknown spec fields': manyUnknownSpecFields(40_000), ...megabyteInputs() };
const rows: string[][] = [['input', 'KiB', 'wall ms', 'cpu ms', 'exit', 'lines']];
for (const [name, text] of Object.entries(inputs)) {
  let wall = Infinity;
  let cpu = Infinity;
  let code = 0;
  let lines = 0;
  for (let i = 0; i < 3; i++) {
    lines = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    code = runValidate(['-'], { out: () => lines++, err: () => lines++ }, () => text);
    const c = process.cpuUsage(c0);
    wall = Math.min(wall, performance.now() - t0);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  rows.push([name, (text.length / 1024).toFixed(0), wall.toFixed(0), cpu.toFixed(0), String(code), String(lines)]);
  process.stderr.write('.');
}
process.stderr.write('\n');
const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '));
