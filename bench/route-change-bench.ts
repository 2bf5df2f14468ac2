/**
 * `make bench-route`: where the core's time for one route change goes at N bench-mix routes, in this
 * process, without a Swarm (ADR 0034). The cluster is NGINX, hitless, `endpoints: Dynamic`. Per N,
 * after one render of the N routes (the state a running core is in), ROUTE_RUNS route changes, each a
 * new route added: the model build (reusing the last build's unchanged routes and hosts, ADR 0048),
 * the view model build from scratch, the render (memoised: the last
 * render's host views and server blocks reused, ADR 0034 and 0043 — the figure issue 22's render target
 * is judged on, what a route change costs; and whole, a cold render without any memo — both must give
 * the same bytes), the model's
 * encoding, the SHA-256 the plan names the config by, the gzip the stored boot config takes (ADR 0029),
 * and — ROUTE_VALIDATE_RUNS times — validateFiles (the core's `nginx -t` in its private root). Also the
 * config's NGINX configuration contexts (server, location, if): with the Lua module loaded, NGINX builds
 * one TLS context per context at every `nginx -t` and reload (see ADR 0034).
 *
 * ROUTE_SIZES=1000,5000,10000 (default), ROUTE_RUNS=5, ROUTE_VALIDATE_RUNS=2, ROUTE_LABEL=latest →
 * bench/results/route-change-<label>.json and a table on stdout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { encodeModel } from '../src/api/model-json';
import { sha256Hex } from '../src/domain/sha256';
import { lastModelReuse } from '../src/plan/build-model';
import { desiredModel } from '../src/plan/desired-model';
import type { ProxyModel } from '../src/plan/model';
import { mainFile } from '../src/plan/pipeline';
import { encodeStoredConfig } from '../src/plan/stored-config';
import { DEFAULT_DYNAMIC_ENDPOINTS, DEFAULT_NGINX_OPTIONS } from '../src/render/nginx/options';
import { lastNginxFragments, renderNginxWithEndpoints } from '../src/render/nginx/render';
import { buildNginxViewAndEndpoints } from '../src/render/nginx/view-model';
import { renderCluster } from '../src/render/render-cluster';
import { mountedFiles, validateFiles } from '../src/validate/validate-files';
import { machineInfo } from './lib/machine';
import { probeRoute, scaleInputs, withDynamicDefault } from './lib/scale-inputs';

const SIZES = (process.env['ROUTE_SIZES'] ?? '1000,5000,10000').split(',').map(Number);
const RUNS = Number(process.env['ROUTE_RUNS'] ?? '5');
const VALIDATE_RUNS = Number(process.env['ROUTE_VALIDATE_RUNS'] ?? '2');
const LABEL = process.env['ROUTE_LABEL'] ?? 'latest';
const PHASES = ['modelMs', 'viewMs', 'renderMemoMs', 'renderWholeMs', 'encodeMs', 'sha256Ms', 'gzipMs'] as const;
type Phase = (typeof PHASES)[number];

const log = (m: string): void => void process.stderr.write(`[bench-route] ${m}\n`);
/** This process's CPU time in ms (user + system, every thread: GC included): less moved by other load than wall time. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** Runs f: its value, its wall time, and (in cpu) its CPU time by the same name. */
const cpu: Record<string, number> = {};
function timed<T>(f: () => T, name?: string): [T, number] {
  const c0 = cpuMs();
  const t0 = performance.now();
  const v = f();
  const ms = performance.now() - t0;
  if (name !== undefined) cpu[name] = cpuMs() - c0;
  return [v, ms];
}
/**
 * CPU time of this process's waited-for children in ms (/proc/self/stat cutime + cstime, clock ticks
 * of 10 ms): the `nginx -t` validateFiles runs, less moved by other load than its wall time.
 */
const childCpuMs = (): number => {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
  // Fields 16 and 17 of stat(5); the split starts at field 3 (state).
  return (Number(fields[13]) + Number(fields[14])) * 10;
};
const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const minMedian = (xs: readonly number[]): { min: number; median: number } => ({ min: sorted(xs)[0] ?? NaN, median: sorted(xs)[Math.floor(xs.length / 2)] ?? NaN });

/** NGINX configuration contexts of a config: each `server`, `location` and `if` block is one (and one TLS context with the Lua module). */
function contexts(config: string): { servers: number; locations: number; ifs: number } {
  const count = (re: RegExp): number => config.match(re)?.length ?? 0;
  return { servers: count(/^\s*server \{/gm), locations: count(/^\s*location [^\n]*\{/gm), ifs: count(/^\s*if \([^\n]*\{/gm) };
}

function defaultModel(specs: Parameters<typeof desiredModel>[0]['specs'], snapshot: Parameters<typeof desiredModel>[0]['snapshot'], reuse: 'memo' | 'whole' = 'memo'): ProxyModel {
  const m = desiredModel({ specs, snapshot, reuse }).result.clusters.find((c) => c.cluster === 'default');
  if (m === undefined) throw new Error('no default cluster');
  return m;
}

interface Row {
  readonly routes: number;
  /** Wall time per phase and run. */
  readonly runs: readonly Record<Phase, number>[];
  /** CPU time of this process per phase and run (GC threads included). */
  readonly cpuRuns: readonly Record<Phase, number>[];
  readonly validateMs: readonly number[];
  /** CPU time of each validation's `nginx -t` (its process and children). */
  readonly validateCpuMs: readonly number[];
  readonly configBytes: number;
  readonly contexts: ReturnType<typeof contexts>;
  readonly fragments: ReturnType<typeof lastNginxFragments>;
}

function runCase(n: number): Row {
  const s = scaleInputs(n);
  const specs = withDynamicDefault(s.inputs.desired);
  const snapshot = s.inputs.snapshot;
  const options = { dynamicEndpoints: DEFAULT_DYNAMIC_ENDPOINTS };
  // The running core's state: the N routes rendered once.
  renderCluster(defaultModel(specs, snapshot));
  const runs: Record<Phase, number>[] = [];
  const cpuRuns: Record<Phase, number>[] = [];
  let routes = specs.routes;
  let last: { model: ProxyModel; config: string } | undefined;
  let fragments: ReturnType<typeof lastNginxFragments> = { hits: 0, misses: 0, hosts: { hits: 0, misses: 0 } };
  for (let k = 1; k <= RUNS; k++) {
    routes = [...routes, probeRoute(s, k)];
    const next = { ...specs, routes };
    const [model, modelMs] = timed(() => defaultModel(next, snapshot), 'modelMs');
    const [, viewMs] = timed(() => buildNginxViewAndEndpoints(model, { ...DEFAULT_NGINX_OPTIONS, ...options }), 'viewMs');
    const [files, renderMemoMs] = timed(() => renderCluster(model), 'renderMemoMs');
    fragments = lastNginxFragments();
    const config = mainFile(files);
    const [whole, renderWholeMs] = timed(() => renderNginxWithEndpoints(model, options, 'whole').config, 'renderWholeMs');
    if (whole !== config) throw new Error(`${n}: the memoised render differs from the whole render`);
    const [, encodeMs] = timed(() => encodeModel(model), 'encodeMs');
    const [, sha256Ms] = timed(() => sha256Hex(config), 'sha256Ms');
    const [, gzipMs] = timed(() => encodeStoredConfig(config), 'gzipMs');
    // The model built reusing the last build's parts (ADR 0048) must be the one a build from scratch gives.
    if (JSON.stringify(model) !== JSON.stringify(defaultModel(next, snapshot, 'whole'))) throw new Error(`${n}: the incremental model differs from the whole build`);
    // Render again so the memo holds this change's fragments (as the core's next change would find it).
    renderCluster(model);
    runs.push({ modelMs, viewMs, renderMemoMs, renderWholeMs, encodeMs, sha256Ms, gzipMs });
    cpuRuns.push(Object.fromEntries(PHASES.map((p) => [p, cpu[p] ?? NaN])) as Record<Phase, number>);
    const reuse = lastModelReuse('default');
    log(`${n}: change ${k}: ${PHASES.map((p) => `${p} ${(runs.at(-1)?.[p] ?? NaN).toFixed(0)}`).join(', ')}; model: routes reused ${reuse?.routes.hits ?? 0}, compiled ${reuse?.routes.misses ?? 0}, hosts reused ${reuse?.hosts.hits ?? 0}, built ${reuse?.hosts.misses ?? 0}; fragments reused ${fragments.hits}, rendered ${fragments.misses}; host views reused ${fragments.hosts.hits}, built ${fragments.hosts.misses}`);
    last = { model, config };
  }
  const validateMs: number[] = [];
  const validateCpuMs: number[] = [];
  if (last !== undefined) {
    const files = renderCluster(last.model);
    for (let i = 0; i < VALIDATE_RUNS; i++) {
      const c0 = childCpuMs();
      const [v, ms] = timed(() => validateFiles('nginx', files.files, { secrets: mountedFiles(last.model) }));
      validateCpuMs.push(childCpuMs() - c0);
      if (!v.ok) throw new Error(`${n}: validateFiles refused the config: ${v.output.slice(0, 2000)}`);
      if (v.skipped !== undefined) log(`${n}: validation skipped: ${v.skipped}`);
      validateMs.push(ms);
      log(`${n}: validate ${ms.toFixed(0)} ms (nginx -t CPU ${validateCpuMs.at(-1) ?? NaN} ms)`);
    }
  }
  return { routes: n, runs, cpuRuns, validateMs, validateCpuMs, configBytes: Buffer.byteLength(last?.config ?? ''), contexts: contexts(last?.config ?? ''), fragments };
}

function table(rows: readonly Row[], which: 'runs' | 'cpuRuns'): string {
  const f = (x: number): string => (Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const mm = (xs: readonly number[]): string => {
    const { min, median } = minMedian(xs);
    return `${f(min)} / ${f(median)}`;
  };
  const header = ['routes', 'runs', ...PHASES.map((p) => p.replace(/Ms$/, ' ms')), which === 'runs' ? 'validate ms' : 'validate CPU ms', 'contexts (server/location/if)', 'config KiB'];
  const body = rows.map((r) => [String(r.routes), String(r.runs.length), ...PHASES.map((p) => mm(r[which].map((x) => x[p]))), mm(which === 'runs' ? r.validateMs : r.validateCpuMs), `${r.contexts.servers}/${r.contexts.locations}/${r.contexts.ifs}`, (r.configBytes / 1024).toFixed(0)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function main(): void {
  const startedAt = new Date().toISOString();
  const rows = SIZES.map((n) => runCase(n));
  const report = {
    schema: 1,
    label: LABEL,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineInfo(undefined, undefined),
    loadAverageEnd: loadavg(),
    notes: [
      'One route added per run to the N bench-mix routes (NGINX, hitless, endpoints: Dynamic), after a render of the N routes; min / median over the runs.',
      'model: desiredModel, reusing the last build\'s unchanged compiled routes and hosts (ADR 0048; checked equal to a build from scratch). renderMemo: renderCluster, reusing the last render\'s host views and server blocks (ADR 0034, 0043); renderWhole: the same bytes without them (checked equal).',
      'view: the view model alone (part of both renders). sha256: the config\'s name; gzip: the stored boot config (ADR 0029), both before delivery.',
      'cpuRuns: the same phases as CPU time of this process (user + system, all its threads, GC included), less moved by the load of other processes than wall time.',
      'validate: validateFiles, the core\'s nginx -t in its private root (the agent runs nginx -t again and NGINX parses once more at the reload); validateCpuMs: its CPU time (children of this process).',
    ],
    rows,
  };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `route-change-${LABEL}.json`), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nswarmgate bench-route (wall ms, min / median)\n\n${table(rows, 'runs')}\n\nCPU ms of this process (min / median; validate: the nginx -t child's)\n\n${table(rows, 'cpuRuns')}\n\nResults: bench/results/route-change-${LABEL}.json\n`);
}

main();
