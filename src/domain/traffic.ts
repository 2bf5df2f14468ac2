/**
 * Traffic measurements shared by the proxy agent (which counts), the core (which sums deltas per
 * backend) and the rollout analysis (which judges them): the latency buckets and how a quantile is
 * read from them.
 */

/** Upper bounds of the latency buckets in milliseconds; one more bucket counts everything above. */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
export const LATENCY_BUCKET_COUNT = LATENCY_BUCKETS_MS.length + 1;

/**
 * Upstream names as the renderers generate them (`u_<hash>_<service>_<port>`, `_x<n>` appended
 * when that base is taken; see upstreamName and src/plan/names.ts):
 * the allow-list for names arriving from agents, in traffic lines and in reports.
 */
export function isUpstreamName(s: string): boolean {
  return /^[A-Za-z0-9_]{1,128}$/.test(s);
}

/** Counters of one backend over some period; latencyBuckets per bucket (not cumulative). */
export interface TrafficCount {
  readonly requests: number;
  readonly responses5xx: number;
  readonly latencyBuckets: readonly number[];
}

export const NO_TRAFFIC: TrafficCount = { requests: 0, responses5xx: 0, latencyBuckets: new Array<number>(LATENCY_BUCKET_COUNT).fill(0) };

export function addTraffic(a: TrafficCount, b: TrafficCount): TrafficCount {
  return {
    requests: a.requests + b.requests,
    responses5xx: a.responses5xx + b.responses5xx,
    latencyBuckets: a.latencyBuckets.map((n, i) => n + (b.latencyBuckets[i] ?? 0)),
  };
}

/** a − b, clamped at 0 (b is an earlier reading of the same monotonic totals). */
export function subtractTraffic(a: TrafficCount, b: TrafficCount): TrafficCount {
  return {
    requests: Math.max(0, a.requests - b.requests),
    responses5xx: Math.max(0, a.responses5xx - b.responses5xx),
    latencyBuckets: a.latencyBuckets.map((n, i) => Math.max(0, n - (b.latencyBuckets[i] ?? 0))),
  };
}

/**
 * The q-quantile (0 < q ≤ 1) in milliseconds, interpolated linearly inside the bucket that holds
 * it (as Prometheus' histogram_quantile does); in the last, open bucket it is that bucket's lower
 * bound (the slowest bound we know). 0 without requests.
 */
export function quantileMs(buckets: readonly number[], q: number): number {
  const total = buckets.reduce((s, n) => s + n, 0);
  if (total === 0) return 0;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i] ?? 0;
    if (n > 0 && seen + n >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_BUCKETS_MS[i - 1] ?? 0);
      const upper = LATENCY_BUCKETS_MS[i];
      if (upper === undefined) return lower;
      return lower + ((upper - lower) * (rank - seen)) / n;
    }
    seen += n;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1] ?? 0;
}
