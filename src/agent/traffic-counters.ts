/**
 * Per-upstream traffic counters kept by the proxy agent from the proxy's traffic log lines
 * (`sgm <upstream> <status> <time>`, see the NGINX template's `sg_traffic` format): requests, 5xx
 * responses and a latency histogram. Counters are cumulative since the agent started; the core
 * turns them into deltas (an agent restart resets them, and the core detects that).
 */
import { isUpstreamName, LATENCY_BUCKET_COUNT, LATENCY_BUCKETS_MS } from '../domain/traffic';

export interface TrafficLine {
  readonly upstream: string;
  readonly status: number;
  readonly ms: number;
}

export interface UpstreamTraffic {
  readonly upstream: string;
  readonly requests: number;
  readonly responses5xx: number;
  /** Requests per bucket (not cumulative), LATENCY_BUCKETS_MS.length + 1 entries. */
  readonly latencyBuckets: readonly number[];
}

/**
 * NGINX: `<syslog header> sgm <upstream> <status> <seconds>s`. HAProxy (raw format, no header):
 * `sgm be.<rule>.<upstream> <status> <ms> ms`, then `|<access log line>` when the access log is on.
 */
const LINE = /sgm (\S+) (-?\d+) (-?\d+(?:\.\d+)?) ?(s|ms)(?:\|(.*))?$/s;

export interface ParsedDatagram {
  /** Counted traffic; absent for a line about no upstream (a redirect, a fixed answer, an abort). */
  readonly traffic?: TrafficLine;
  /** Access-log text to print (HAProxy logs through the agent); absent: nothing to print. */
  readonly accessLog?: string;
}

/** Parse one syslog datagram. Lines of ours ("sg…") are never printed except their access-log part. */
export function parseDatagram(datagram: string): ParsedDatagram {
  const text = datagram.replace(/\n+$/, '');
  const m = LINE.exec(text);
  if (m === null) return text.startsWith('sg') || text.includes(' sg: ') ? {} : { accessLog: text };
  const [, backend = '', status = '', time = '', unit = '', rest] = m;
  const accessLog = rest !== undefined ? { accessLog: rest } : {};
  // HAProxy names a backend be.<rule>.<upstream>; NGINX logs the upstream itself.
  const upstream = backend.slice(backend.lastIndexOf('.') + 1);
  const code = Number(status);
  // HAProxy (ms) names the frontend when no backend took the request (a redirect, a deny).
  const haproxy = unit === 'ms';
  if (!isUpstreamName(upstream) || code < 100 || code > 599 || (haproxy && !backend.startsWith('be.'))) return accessLog;
  const value = Math.max(0, Number(time));
  return { traffic: { upstream, status: code, ms: unit === 's' ? value * 1000 : value }, ...accessLog };
}

export function bucketOf(ms: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

/** Bounded: a proxy has as many upstreams as its config; more than this are not counted. */
const MAX_UPSTREAMS = 10_000;

export class TrafficCounters {
  private readonly byUpstream = new Map<string, { requests: number; responses5xx: number; buckets: number[] }>();

  record(line: TrafficLine): void {
    let c = this.byUpstream.get(line.upstream);
    if (c === undefined) {
      if (this.byUpstream.size >= MAX_UPSTREAMS) return;
      c = { requests: 0, responses5xx: 0, buckets: new Array<number>(LATENCY_BUCKET_COUNT).fill(0) };
      this.byUpstream.set(line.upstream, c);
    }
    c.requests++;
    if (line.status >= 500 && line.status <= 599) c.responses5xx++;
    const b = bucketOf(line.ms);
    c.buckets[b] = (c.buckets[b] ?? 0) + 1;
  }

  snapshot(): UpstreamTraffic[] {
    return [...this.byUpstream.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([upstream, c]) => ({ upstream, requests: c.requests, responses5xx: c.responses5xx, latencyBuckets: [...c.buckets] }));
  }
}
