/**
 * The verdict of one analysis interval, from the new service's metrics since the step started
 * and the answers of the `rollout` webhooks.
 *
 * Boundaries (chosen and documented): a maximum is inclusive. An error rate exactly at
 * `maxErrorRate` passes (1 error in 100 requests passes "1%"), a p99 exactly at `maxP99Latency`
 * passes; one above fails. The error rate is compared exactly (integers), not in floating point.
 * Metrics are judged only once `requests >= minRequests`; fewer (or no metrics at all) makes the
 * interval `inconclusive`, which neither passes nor counts as a failure. A failed webhook fails
 * the interval whatever the metrics say.
 */
import { durationMs } from '../../domain/brands';
import { percentageThousandths, type Analysis, type Webhook } from '../../domain/canary';
import type { Outcome } from '../../domain/rollout-state';

/** Counters of one backend since the current step started (integers; p99 in milliseconds). */
export interface BackendMetrics {
  readonly requests: number;
  readonly errors5xx: number;
  readonly p99Ms: number;
}

export interface Measured {
  readonly requests: number;
  readonly errorRate: number;
  readonly p99Ms: number;
}

export interface Verdict {
  readonly outcome: Outcome;
  /** Set when the outcome is `fail`. */
  readonly failure?: 'AnalysisFailed' | 'WebhookFailed';
  readonly message: string;
  readonly measured?: Measured;
}

/** HTTP status of each webhook call, by webhook name; 0 = no answer (timeout, connection error). */
export type WebhookResults = Readonly<Record<string, number>>;

export const isSuccess = (status: number | undefined): boolean => status !== undefined && status >= 200 && status <= 299;

export function webhookFailures(hooks: readonly Webhook[], results: WebhookResults): string[] {
  return hooks
    .filter((h) => !isSuccess(results[h.name]))
    .map((h) => {
      const status = results[h.name];
      return status === undefined || status === 0 ? `webhook "${h.name}" gave no answer` : `webhook "${h.name}" answered ${status}`;
    });
}

const pct = (fraction: number): string => `${Number((fraction * 100).toFixed(3))}%`;

function validMetrics(m: BackendMetrics): boolean {
  return Number.isSafeInteger(m.requests) && Number.isSafeInteger(m.errors5xx) && m.requests >= 0 && m.errors5xx >= 0 && m.errors5xx <= m.requests && Number.isFinite(m.p99Ms) && m.p99Ms >= 0;
}

export function judgeInterval(analysis: Analysis, hooks: readonly Webhook[], results: WebhookResults, metrics: BackendMetrics | undefined): Verdict {
  const hookProblems = webhookFailures(hooks, results);
  const thresholds = analysis.maxErrorRate !== undefined || analysis.maxP99Latency !== undefined;
  const usable = metrics !== undefined && validMetrics(metrics);
  const measured: Measured | undefined =
    usable && metrics !== undefined
      ? { requests: metrics.requests, errorRate: metrics.requests === 0 ? 0 : metrics.errors5xx / metrics.requests, p99Ms: metrics.p99Ms }
      : undefined;
  const withMeasured = measured !== undefined ? { measured } : {};
  if (hookProblems.length > 0) return { outcome: 'fail', failure: 'WebhookFailed', message: hookProblems.join('; '), ...withMeasured };
  if (!thresholds) return { outcome: 'pass', message: hooks.length > 0 ? 'rollout webhooks passed' : 'nothing to check', ...withMeasured };
  if (metrics === undefined || measured === undefined)
    return { outcome: 'inconclusive', message: metrics === undefined ? 'no metrics for the new service' : 'metrics are not valid counters' };
  if (metrics.requests < analysis.minRequests)
    return { outcome: 'inconclusive', message: `${metrics.requests} of ${analysis.minRequests} requests needed before judging`, ...withMeasured };
  const problems: string[] = [];
  if (analysis.maxErrorRate !== undefined) {
    // errors / requests > max% ⇔ errors · 100 000 > thousandths · requests, exactly.
    const above = BigInt(metrics.errors5xx) * 100_000n > BigInt(percentageThousandths(analysis.maxErrorRate)) * BigInt(metrics.requests);
    if (above) problems.push(`error rate ${pct(measured.errorRate)} is above ${analysis.maxErrorRate} (${metrics.errors5xx} of ${metrics.requests} requests)`);
  }
  if (analysis.maxP99Latency !== undefined && metrics.p99Ms > durationMs(analysis.maxP99Latency))
    problems.push(`p99 latency ${Number(metrics.p99Ms.toFixed(1))}ms is above ${analysis.maxP99Latency}`);
  if (problems.length > 0) return { outcome: 'fail', failure: 'AnalysisFailed', message: problems.join('; '), measured };
  return { outcome: 'pass', message: `error rate ${pct(measured.errorRate)}, p99 ${Number(metrics.p99Ms.toFixed(1))}ms over ${metrics.requests} requests`, measured };
}
