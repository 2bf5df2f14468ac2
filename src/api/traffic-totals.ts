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
import { HEALTH_WINDOW_MS, type RecentCount } from '../domain/backend-health';
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
  /** Per cluster and upstream: what each report added and when (core clock), for the last HEALTH_WINDOW_MS. */
  private readonly recentDeltas = new Map<string, Map<string, { at: number; requests: number; responses5xx: number }[]>>();

  /** Take one replica's report (arrived at `receivedAt`, core clock); returns what it added, per upstream. */
  observe(cluster: string, replicaId: string, readings: readonly UpstreamReading[], receivedAt = 0): TrafficDelta[] {
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
      this.remember(cluster, r.upstream, { at: receivedAt, requests: delta.requests, responses5xx: delta.responses5xx });
      deltas.push({ cluster, upstream: r.upstream, ...delta });
    }
    this.last.set(replicaId, next);
    return deltas;
  }

  /** Totals of one upstream of a cluster since the core started. */
  of(cluster: string, upstream: string): TrafficCount {
    return this.totals.get(cluster)?.get(upstream) ?? NO_TRAFFIC;
  }

  private remember(cluster: string, upstream: string, d: { at: number; requests: number; responses5xx: number }): void {
    let byUpstream = this.recentDeltas.get(cluster);
    if (byUpstream === undefined) this.recentDeltas.set(cluster, (byUpstream = new Map()));
    byUpstream.set(upstream, [...(byUpstream.get(upstream) ?? []), d]);
  }

  /** Requests and 5xx answers of one upstream of a cluster reported in the window before `now`. */
  recent(cluster: string, upstream: string, now: number, windowMs = HEALTH_WINDOW_MS): RecentCount {
    const byUpstream = this.recentDeltas.get(cluster);
    const kept = (byUpstream?.get(upstream) ?? []).filter((d) => d.at > now - windowMs);
    if (byUpstream !== undefined) {
      if (kept.length === 0) byUpstream.delete(upstream);
      else byUpstream.set(upstream, kept);
    }
    return kept.reduce((sum, d) => ({ requests: sum.requests + d.requests, responses5xx: sum.responses5xx + d.responses5xx }), { requests: 0, responses5xx: 0 });
  }

  /** Upstreams of a cluster with traffic in the window before `now`. */
  recentUpstreams(cluster: string, now: number, windowMs = HEALTH_WINDOW_MS): string[] {
    return [...(this.recentDeltas.get(cluster)?.keys() ?? [])].filter((u) => this.recent(cluster, u, now, windowMs).requests > 0).sort();
  }

  /** Forget replicas that are gone (their counted traffic stays in the totals) and deleted clusters. */
  retain(clusters: ReadonlySet<string>, replicaIds: ReadonlySet<string>): void {
    for (const id of this.last.keys()) if (!replicaIds.has(id)) this.last.delete(id);
    for (const c of this.totals.keys()) if (!clusters.has(c)) this.totals.delete(c);
    for (const c of this.recentDeltas.keys()) if (!clusters.has(c)) this.recentDeltas.delete(c);
  }
}
