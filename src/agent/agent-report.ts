/**
 * One ReportProxyState call of the agent (proxy-agent.ts): what the replica runs, its counters and
 * per-upstream traffic. A failed call is only logged: the next heartbeat reports again.
 */
import type { Logger } from 'pino';
import type { CoreConnection } from '../api/client';
import { deadline } from '../api/proto';
import { LATENCY_BUCKETS_MS } from '../domain/traffic';
import type { AgentState } from './proxy-agent';
import type { Counters } from './proxy-process';
import type { UpstreamTraffic } from './traffic-counters';

export interface ReportInputs {
  readonly cluster: string;
  readonly replicaId: string;
  readonly state: AgentState;
  readonly counters: Counters;
  readonly upstreams: readonly UpstreamTraffic[];
  readonly log: Logger;
}

export function sendReport(core: CoreConnection, r: ReportInputs): Promise<void> {
  const { state: s, counters: c, upstreams, log } = r;
  return new Promise<void>((resolve) => {
    // A channel closed by stop() (or renewed meanwhile) throws at once instead of calling back.
    const failed = (e: unknown): void => {
      log.debug({ err: e instanceof Error ? e.message : String(e) }, 'report to the core not sent; the next heartbeat retries');
      resolve();
    };
    try {
      core.client.ReportProxyState(
        {
          cluster: r.cluster,
          replicaId: r.replicaId,
          appliedHash: s.appliedHash,
          lastReceivedHash: s.lastReceivedHash,
          ...(s.lastValidation !== undefined ? { lastValidation: s.lastValidation } : {}),
          // NGINX's stub_status has no status codes: its 5xx come from the traffic log's counters.
          counters: { requests: c.requests, responses_5xx: upstreams.length > 0 ? upstreams.reduce((n, u) => n + u.responses5xx, 0) : c.responses5xx, activeConnections: c.activeConnections },
          appliedAtMs: s.appliedAt,
          upstreams: upstreams.map((u) => ({ upstream: u.upstream, requests: u.requests, responses_5xx: u.responses5xx, latencyBuckets: [...u.latencyBuckets] })),
          latencyBoundsMs: [...LATENCY_BUCKETS_MS],
        },
        { deadline: deadline() },
        (err) => {
          if (err !== null) log.debug({ err: err.message }, 'report to the core failed; the next heartbeat retries');
          resolve();
        },
      );
    } catch (e) {
      failed(e);
    }
  });
}
