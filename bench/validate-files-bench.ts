/**
 * `npx tsx bench/validate-files-bench.ts`: what one check of the shipped files costs
 * (validateFiles: `nginx -t` / `haproxy -c` in a private root, ADR 0009), for a small config and a
 * 1 000-route one, both proxy kinds. Prints the first check in the process (it builds the root) and
 * the least and median of 9 more, wall milliseconds; the proxy's own parse dominates.
 */
import { buildModel } from '../src/plan/build-model';
import type { ProxyModel } from '../src/plan/model';
import { renderCluster } from '../src/render/render-cluster';
import { validateFiles } from '../src/validate/validate-files';
import { generateInputs } from './lib/inputs';

function defaultModel(routes: number): ProxyModel {
  const inputs = generateInputs(routes, { kind: 'shared', count: 4 });
  const m = buildModel(inputs.desired, inputs.snapshot).clusters.find((c) => c.cluster === 'default');
  if (m === undefined) throw new Error('no default cluster');
  return m;
}

function check(m: ProxyModel): number {
  const r = renderCluster(m);
  const t0 = performance.now();
  const v = validateFiles(r.kind, r.files, { secrets: m.secrets });
  const ms = performance.now() - t0;
  if (!v.ok || v.skipped !== undefined) throw new Error(v.skipped ?? v.output);
  return ms;
}

const rows: string[][] = [['config', 'KiB', 'first ms', 'min ms', 'median ms']];
for (const routes of [3, 1000]) {
  const nginx = defaultModel(routes);
  const haproxy: ProxyModel = { ...nginx, spec: { ...nginx.spec, proxy: { ...nginx.spec.proxy, kind: 'haproxy' } } };
  for (const m of [nginx, haproxy]) {
    const first = check(m);
    const times = Array.from({ length: 9 }, () => check(m)).sort((a, b) => a - b);
    const kib = Buffer.byteLength(renderCluster(m).files[0]?.content ?? '') / 1024;
    rows.push([`${routes} routes, ${m.spec.proxy.kind}`, kib.toFixed(0), first.toFixed(0), (times[0] ?? 0).toFixed(0), (times[4] ?? 0).toFixed(0)]);
    process.stderr.write('.');
  }
}
process.stderr.write('\n');
const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '));
