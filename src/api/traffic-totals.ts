/**
 * Per-backend traffic totals of each cluster, summed over its proxy replicas. Agents report
 * cumulative counters; this keeps each replica's last accepted reading and adds only the
 * difference, so a total never goes down and a replica that went away loses nothing already
 * counted. Totals start at 0 when the core starts.
 *
 * Readings are bounded (ADR 0012), because canary analysis acts on them and a compromised agent
 * could otherwise steer it: a reading counts only if it is consistent (5xx and latency-bucketed
 * requests at most its requests, also in the difference to the last one) and monotonic (no counter
 * below the replica's last accepted reading; a replica ID is a Swarm task ID, which a restarted
 * agent never reuses). Anything else is dropped and the last accepted reading stays the baseline,
 * so cycling counters down and up cannot count the same requests twice.
 */
import { addTraffic, LATENCY_BUCKET_COUNT, NO_TRAFFIC, subtractTraffic, type TrafficCount } from '../domain/traffic';

export interface UpstreamReading extends TrafficCount {
  readonly upstream: string;
}

export interface TrafficDelta extends TrafficCount {
  readonly cluster: string;
  readonly upstream: string;
}

function goesDown(now: TrafficCount, before: TrafficCount): boolean {
  return now.requests < before.requests || now.responses5xx < before.responses5xx || now.latencyBuckets.some((n, i) => n < (before.latencyBuckets[i] ?? 0));
}

/** Non-negative integers, and no more errors or bucketed requests than requests. */
function consistent(c: TrafficCount): boolean {
  const counts = [c.requests, c.responses5xx, ...c.latencyBuckets];
  return counts.every((n) => Number.isSafeInteger(n) && n >= 0) && c.responses5xx <= c.requests && c.latencyBuckets.reduce((a, n) => a + n, 0) <= c.requests;
}

/** Buckets of another layout (an agent of another version) are dropped rather than misread. */
function normalized(r: UpstreamReading): TrafficCount {
  return { requests: r.requests, responses5xx: r.responses5xx, latencyBuckets: r.latencyBuckets.length === LATENCY_BUCKET_COUNT ? [...r.latencyBuckets] : NO_TRAFFIC.latencyBuckets };
}

export class TrafficTotals {
  private readonly last = new Map<string, Map<string, TrafficCount>>();
  private readonly totals = new Map<string, Map<string, TrafficCount>>();

  /** Take one replica's report; returns what it added, per upstream. */
  observe(cluster: string, replicaId: string, readings: readonly UpstreamReading[]): TrafficDelta[] {
    const previous = this.last.get(replicaId) ?? new Map<string, TrafficCount>();
    const next = new Map<string, TrafficCount>();
    const deltas: TrafficDelta[] = [];
    let totals = this.totals.get(cluster);
    if (totals === undefined) this.totals.set(cluster, (totals = new Map()));
    for (const r of readings) {
      const now = normalized(r);
      const before = previous.get(r.upstream);
      if (before !== undefined && goesDown(now, before)) {
        next.set(r.upstream, before);
        continue;
      }
      const delta = before === undefined ? now : subtractTraffic(now, before);
      if (!consistent(now) || !consistent(delta)) {
        if (before !== undefined) next.set(r.upstream, before);
        continue;
      }
      next.set(r.upstream, now);
      if (delta.requests === 0) continue;
      totals.set(r.upstream, addTraffic(totals.get(r.upstream) ?? NO_TRAFFIC, delta));
      deltas.push({ cluster, upstream: r.upstream, ...delta });
    }
    this.last.set(replicaId, next);
    return deltas;
  }

  /** Totals of one upstream of a cluster since the core started. */
  of(cluster: string, upstream: string): TrafficCount {
    return this.totals.get(cluster)?.get(upstream) ?? NO_TRAFFIC;
  }

  /** Forget replicas that are gone (their counted traffic stays in the totals) and deleted clusters. */
  retain(clusters: ReadonlySet<string>, replicaIds: ReadonlySet<string>): void {
    for (const id of this.last.keys()) if (!replicaIds.has(id)) this.last.delete(id);
    for (const c of this.totals.keys()) if (!clusters.has(c)) this.totals.delete(c);
  }
}
