/** bench-scale's result row and its stdout table. */
import type { Kind } from './local-proxy';

export interface ScaleRow {
  readonly kind: Kind;
  readonly routes: number;
  readonly modelMs: number;
  readonly renderMs: number;
  readonly validateMs: number;
  readonly encodeMs: number;
  readonly configBytes: number;
  readonly checkMs: number;
  readonly taskServedMs: number;
  readonly taskCoreMs: number;
  /** Dynamic endpoints: what the core spent on the same task change before ADR 0030 (model build + render). */
  readonly taskCoreFullMs?: number;
  /** Dynamic endpoints: the PUT of the endpoint set to NGINX's balancer (until it answered). */
  readonly taskPushMs?: number;
  readonly reloadsForTask: number;
  readonly routeServedMs: number;
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
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
