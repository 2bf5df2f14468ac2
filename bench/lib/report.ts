/** Result types, target evaluation and the stdout table. */
import type { CertMode, InputMix } from './inputs';
import type { MachineInfo } from './machine';
import type { NginxTestResult } from './nginx';
import type { Summary } from './stats';

export interface ConfigCounts {
  readonly lines: number;
  readonly servers: number;
  readonly locations: number;
  readonly upstreams: number;
  readonly upstreamServers: number;
  readonly splitClients: number;
  readonly sslCertificates: number;
  readonly distinctCertFiles: number;
}

export interface CaseResult {
  readonly id: string;
  readonly label: string;
  readonly routes: number;
  readonly certMode: CertMode;
  readonly mix: InputMix;
  readonly generateMs: number;
  readonly warmup: number;
  readonly model: Summary;
  readonly render: Summary;
  /** The same model rendered cold: no memoised host views nor server blocks (ADR 0043). */
  readonly renderCold?: Summary;
  readonly total: Summary;
  readonly samplesMs: { readonly model: readonly number[]; readonly render: readonly number[] };
  readonly configBytes: number;
  readonly counts: ConfigCounts;
  /** undefined when nginx is not installed or the run was started with --no-nginx. */
  readonly nginxT?: NginxTestResult;
  /** Only when nginxT rejected the config: the same config with comment lines removed. */
  readonly nginxTWithoutComments?: NginxTestResult;
}

export interface Target {
  readonly id: string;
  readonly description: string;
  readonly caseId: string;
  readonly metric: 'render.p50' | 'nginxT.median';
  readonly limitMs: number;
}

export interface TargetResult extends Target {
  readonly valueMs: number | null;
  /** Informational: the same target judged on p99 (render targets only). */
  readonly p99Ms?: number;
  /** nginx -t rejected the config; valueMs (if any) is from the copy without comment lines. */
  readonly rejected?: boolean;
  readonly pass: boolean | null;
}

export const TARGETS: readonly Target[] = [
  { id: 'render-1k', description: 'renderNginx ≤ 10 ms at 1k routes (p50)', caseId: '1k', metric: 'render.p50', limitMs: 10 },
  { id: 'render-10k', description: 'renderNginx ≤ 100 ms at 10k routes (p50)', caseId: '10k', metric: 'render.p50', limitMs: 100 },
  { id: 'render-10k-shared50', description: 'renderNginx ≤ 100 ms at 10k routes, 50 shared certs (p50)', caseId: '10k-shared50', metric: 'render.p50', limitMs: 100 },
  { id: 'nginx-t-10k', description: 'nginx -t ≤ 1 s at 10k routes, one cert per TLS route (median of runs)', caseId: '10k', metric: 'nginxT.median', limitMs: 1000 },
  { id: 'nginx-t-10k-shared50', description: 'nginx -t ≤ 1 s at 10k routes, 50 shared certs (median of runs)', caseId: '10k-shared50', metric: 'nginxT.median', limitMs: 1000 },
];

export function evaluateTargets(cases: readonly CaseResult[]): TargetResult[] {
  return TARGETS.flatMap((t): TargetResult[] => {
    const c = cases.find((x) => x.id === t.caseId);
    if (c === undefined) return [];
    if (t.metric === 'render.p50') return [{ ...t, valueMs: c.render.p50, p99Ms: c.render.p99, pass: c.render.p50 <= t.limitMs }];
    const n = c.nginxT;
    if (n === undefined) return [{ ...t, valueMs: null, pass: null }];
    if (n.ok) return [{ ...t, valueMs: n.medianMs, pass: n.medianMs <= t.limitMs }];
    // A rejected config fails the target; the time without comments is shown for information.
    const s = c.nginxTWithoutComments;
    return [{ ...t, valueMs: s?.ok === true ? s.medianMs : null, pass: false, rejected: true }];
  });
}

/** "REJECTED" alone, or with "*" and the time of the comment-free copy when that one passed. */
function nginxCell(c: CaseResult, pick: (r: NginxTestResult) => number | undefined): string {
  const r = c.nginxT;
  if (r === undefined) return 'skipped';
  const runs = r.runsMs.length < 3 && r.ok ? ` (${r.runsMs.length}×)` : '';
  const v = pick(r);
  if (r.ok) return v === undefined ? '—' : `${ms(v)}${runs}`;
  const s = c.nginxTWithoutComments;
  const sv = s?.ok === true ? pick(s) : undefined;
  const sRuns = s !== undefined && s.runsMs.length < 3 ? ` (${s.runsMs.length}×)` : '';
  return sv === undefined ? 'REJECTED' : `REJECTED ${ms(sv)}*${sRuns}`;
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const pair = (s: Summary): string => `${ms(s.p50)} / ${ms(s.p99)}`;

function verdict(results: readonly TargetResult[], caseId: string, metric: Target['metric']): string {
  const r = results.find((t) => t.caseId === caseId && t.metric === metric);
  if (r === undefined) return '—';
  const limit = r.limitMs >= 1000 ? `${r.limitMs / 1000} s` : `${r.limitMs} ms`;
  return `${r.pass === null ? 'n/a' : r.pass ? 'PASS' : 'FAIL'} (≤ ${limit})`;
}

export function formatTable(cases: readonly CaseResult[], targets: readonly TargetResult[]): string {
  const header = ['size', 'routes', 'model p50/p99 ms', 'render p50/p99 ms', 'total p50/p99 ms', 'config KiB', 'nginx -t ms', 'nginx -t cpu ms', 'render target', 'nginx -t target'];
  const rows = cases.map((c) => [
    c.label,
    String(c.routes),
    pair(c.model),
    pair(c.render),
    pair(c.total),
    (c.configBytes / 1024).toFixed(0),
    nginxCell(c, (r) => r.medianMs),
    nginxCell(c, (r) => r.cpuMedianMs),
    verdict(targets, c.id, 'render.p50'),
    verdict(targets, c.id, 'nginxT.median'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = new Set([1, 2, 3, 4, 5, 6, 7]);
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatTargets(targets: readonly TargetResult[]): string {
  if (targets.length === 0) return '  (no target applies to the sizes run)';
  return targets
    .map((t) => {
      const value = t.valueMs === null ? (t.rejected === true ? 'config rejected' : 'n/a') : `${ms(t.valueMs)} ms${t.rejected === true ? ' (config rejected; time of the copy without comments)' : ''}`;
      const p99 = t.p99Ms !== undefined ? `, p99 ${ms(t.p99Ms)} ms${t.p99Ms <= t.limitMs ? '' : ' (over)'}` : '';
      return `  ${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}  ${t.description}: ${value}${p99}`;
    })
    .join('\n');
}

/** Distinct `[warn]` messages nginx -t printed, with timestamps and pids removed, and the cases they came from. */
export function nginxWarnings(cases: readonly CaseResult[]): { message: string; cases: string[] }[] {
  const seen = new Map<string, string[]>();
  for (const c of cases) {
    for (const r of [c.nginxT, c.nginxTWithoutComments]) {
      for (const line of (r?.stderr ?? '').split('\n')) {
        const m = /\[warn\] \d+#\d+: (.*)$/.exec(line);
        if (m?.[1] === undefined) continue;
        const list = seen.get(m[1]) ?? [];
        if (!list.includes(c.label)) list.push(c.label);
        seen.set(m[1], list);
      }
    }
  }
  return [...seen.entries()].map(([message, where]) => ({ message, cases: where }));
}

export function formatFootnotes(cases: readonly CaseResult[]): string {
  const notes: string[] = [];
  if (cases.some((c) => c.nginxT !== undefined && !c.nginxT.ok && c.nginxTWithoutComments?.ok === true))
    notes.push('* nginx -t rejected the rendered config; the time shown is for the same config with its comment lines removed.');
  if (cases.some((c) => [c.nginxT, c.nginxTWithoutComments].some((r) => r !== undefined && r.ok && r.runsMs.length < 3)))
    notes.push('(N×) fewer than 3 nginx -t runs: repetitions stop after a run slower than 5 s.');
  const warnings = nginxWarnings(cases);
  if (warnings.length > 0) notes.push('nginx -t warnings:', ...warnings.map((w) => `  [${w.cases.join(', ')}] ${w.message}`));
  return notes.join('\n');
}

export interface BenchReport {
  readonly schema: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationS: number;
  readonly machine: MachineInfo;
  readonly loadAverageEnd: readonly number[];
  readonly notes: readonly string[];
  readonly targets: readonly TargetResult[];
  readonly nginxWarnings: readonly { readonly message: string; readonly cases: readonly string[] }[];
  readonly cases: readonly CaseResult[];
}
