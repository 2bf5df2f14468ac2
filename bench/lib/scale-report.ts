/** bench-scale's result row and its stdout table. */
import type { Kind } from './local-proxy';

/** One route change on the reload path: when it was served and what each phase cost (ms). */
export interface RouteRun {
  readonly servedMs: number;
  readonly reloadToServedMs: number;
  readonly modelMs: number;
  /** The core's render, memoised (ADR 0034). */
  readonly renderMs: number;
  /** The same render without memoised fragments (not on the path). */
  readonly renderWholeMs: number;
  readonly validateMs: number;
  readonly encodeMs: number;
  /** The agent's nginx -t / haproxy -c before its reload. */
  readonly checkMs: number;
  /** PSS of the proxy's processes once the old ones exited and 5 s passed (ADR 0040: NGINX's allocator purges freed pages). */
  readonly memAfterMiB?: number;
}

/** One task change (SCALE_TASK_RUNS of them per case), ms. */
export interface TaskRun {
  /** From the core seeing the change to the first response from the new task. */
  readonly servedMs: number;
  /** The core's part (dynamic: the incremental pipeline; static: model, render, validate, encode). */
  readonly coreMs: number;
  /** Dynamic: the agent's push until the proxy answered (measured in the agent's thread). */
  readonly pushMs?: number;
  /** Dynamic NGINX (ADR 0042): the core's delivery — the files as bytes, their delivery hash, the ProxyConfig message for the agent's stream. */
  readonly deliverMs?: number;
  /** Dynamic NGINX: that message's size in bytes (files the stream carried before go as references). */
  readonly messageBytes?: number;
  /** Dynamic NGINX: the agent's decode of the message, resolution of references, hash check and comparison of nginx.conf. */
  readonly receiveMs?: number;
  /** Dynamic: from handing the message to the agent's thread to its answer (receive + push + the threads' hops). */
  readonly agentMs?: number;
  /** Dynamic: what the push sent (NGINX: whole or a delta; HAProxy: runtime API commands). */
  readonly pushed?: string;
  /** Dynamic: the same change through a model build and render (not on the path). */
  readonly coreFullMs?: number;
  /** Dynamic (ADR 0047): the core's incremental conversion of the listing with the change, on the path (in servedMs). */
  readonly convertMs?: number;
  /** Dynamic: the same listing converted from nothing, as every run did before ADR 0047 (not on the path). */
  readonly coldConvertMs?: number;
}

/** One weight step (ADR 0049): the last probe route's split moved wholly onto one service. */
export interface WeightRun {
  /** From the change given to the core until WEIGHT_STREAK answers in a row came from the target service. */
  readonly servedMs: number;
  /** The core's full run (model, memoised render; no nginx -t: nginx.conf is unchanged, checked). */
  readonly coreMs: number;
  /** From the delivery to the agent's answer (it pushes the endpoint set; no reload). */
  readonly agentMs: number;
}

export interface ScaleRow {
  readonly kind: Kind;
  readonly routes: number;
  readonly modelMs: number;
  readonly renderMs: number;
  readonly validateMs: number;
  readonly encodeMs: number;
  readonly configBytes: number;
  readonly checkMs: number;
  /** Median of taskRuns' servedMs. */
  readonly taskServedMs: number;
  /** Median of taskRuns' coreMs. */
  readonly taskCoreMs: number;
  readonly taskRuns?: readonly TaskRun[];
  /** Dynamic endpoints: what the core spent on the same task change before ADR 0030 (model build + render). */
  readonly taskCoreFullMs?: number;
  /** Dynamic endpoints: the PUT of the endpoint set to NGINX's balancer (until it answered). */
  readonly taskPushMs?: number;
  readonly reloadsForTask: number;
  /** Median of routeRuns' servedMs. */
  readonly routeServedMs: number;
  readonly routeRuns?: readonly RouteRun[];
  /** NGINX with dynamic endpoints: weight steps (ADR 0049), one after another. */
  readonly weightRuns?: readonly WeightRun[];
  readonly memBeforeMiB: number;
  readonly memPeakMiB: number;
  readonly memAfterMiB: number;
  readonly coreRssMiB: number;
  readonly rpsFirst: number;
  readonly rpsLast: number;
  readonly wrkErrors: number;
}

const f = (x: number): string => (Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export function formatScaleTable(rows: readonly ScaleRow[]): string {
  const header = ['proxy', 'routes', 'model ms', 'render ms', 'validate ms', 'encode ms', 'config KiB', '-t/-c ms', 'task→served ms', 'task core ms (full)', 'reloads', 'route→served ms', 'mem MiB before/peak/after', 'core RSS MiB', 'split req/s first/last'];
  const body = rows.map((r) => [
    r.kind, String(r.routes), f(r.modelMs), f(r.renderMs), f(r.validateMs), f(r.encodeMs), (r.configBytes / 1024).toFixed(0), f(r.checkMs),
    f(r.taskServedMs), `${f(r.taskCoreMs)}${r.taskCoreFullMs !== undefined ? ` (${f(r.taskCoreFullMs)})` : ''}`, String(r.reloadsForTask), f(r.routeServedMs), `${f(r.memBeforeMiB)}/${f(r.memPeakMiB)}/${f(r.memAfterMiB)}`, f(r.coreRssMiB),
    `${r.rpsFirst.toFixed(0)}/${r.rpsLast.toFixed(0)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), '', formatTaskTable(rows), '', formatRouteTable(rows), '', formatWeightTable(rows)].join('\n');
}

/** Weight steps (ADR 0049), min / median over the runs: no nginx -t and no reload on their path. */
export function formatWeightTable(rows: readonly ScaleRow[]): string {
  const header = ['proxy', 'routes', 'weight steps', 'step→served ms', 'core ms', 'to agent answer ms'];
  const body = rows.filter((r) => (r.weightRuns?.length ?? 0) > 0).map((r) => {
    const runs = r.weightRuns ?? [];
    return [r.kind, String(r.routes), String(runs.length), minMed(runs.map((x) => x.servedMs)), minMed(runs.map((x) => x.coreMs)), minMed(runs.map((x) => x.agentMs))];
  });
  if (body.length === 0) return 'weight steps: none (NGINX with SCALE_MODE=dynamic only)';
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

const minMed = (xs: readonly number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 'n/a' : s.length === 1 ? f(s[0] ?? NaN) : `${f(s[0] ?? NaN)} / ${f(s[Math.floor(s.length / 2)] ?? NaN)}`;
};

/** Task changes, phase by phase (min / median over the runs); the delivery is on the timed path (ADR 0042). */
export function formatTaskTable(rows: readonly ScaleRow[]): string {
  const header = ['proxy', 'routes', 'runs', 'task→served ms', 'core', 'delivery', 'message KiB', 'agent receive', 'push', 'to agent answer', 'model + render (full)'];
  const body = rows.map((r) => {
    const ts = r.taskRuns ?? [];
    const col = (k: 'servedMs' | 'coreMs' | 'deliverMs' | 'receiveMs' | 'pushMs' | 'agentMs' | 'coreFullMs'): string => minMed(ts.flatMap((x) => (x[k] !== undefined ? [x[k]] : [])));
    const kib = ts.flatMap((x) => (x.messageBytes !== undefined ? [x.messageBytes / 1024] : []));
    return [r.kind, String(r.routes), String(ts.length), col('servedMs'), col('coreMs'), col('deliverMs'), minMed(kib), col('receiveMs'), col('pushMs'), col('agentMs'), col('coreFullMs')];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return ['task changes (ms, min / median):', line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Route changes, phase by phase (min / median over the runs). */
export function formatRouteTable(rows: readonly ScaleRow[]): string {
  const header = ['proxy', 'routes', 'runs', 'route→served ms', 'model', 'render (memo)', 'render (whole)', 'validate', 'encode', 'agent check', 'reload→served', 'mem after MiB (before)'];
  const body = rows.map((r) => {
    const rs = r.routeRuns ?? [];
    const col = (k: Exclude<keyof RouteRun, 'memAfterMiB'>): string => minMed(rs.map((x) => x[k]));
    const mem = rs.flatMap((x) => (x.memAfterMiB !== undefined ? [x.memAfterMiB] : []));
    return [r.kind, String(r.routes), String(rs.length), col('servedMs'), col('modelMs'), col('renderMs'), col('renderWholeMs'), col('validateMs'), col('encodeMs'), col('checkMs'), col('reloadToServedMs'), `${minMed(mem)} (${f(r.memBeforeMiB)})`];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return ['route changes (ms, min / median):', line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
