/**
 * The core's Prometheus metrics (prom-client): reconcile runs by outcome and their duration, Docker
 * API errors by method, proxy updates by delivery, routes by condition, and proxy replicas on the
 * current config. Nothing here carries a secret: labels are cluster names, condition types and
 * Docker method names only.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Condition } from '../domain/conditions';
import type { DockerPort } from '../observed/docker-port';
import { LATENCY_BUCKETS_MS } from '../domain/traffic';
import type { TrafficDelta } from '../api/traffic-totals';

export class CoreMetrics {
  readonly registry = new Registry();
  readonly runs = new Counter({ name: 'swarmgate_reconcile_runs_total', help: 'Reconcile runs by result (applied, unchanged, failed).', labelNames: ['result'] as const, registers: [this.registry] });
  readonly runSeconds = new Histogram({
    name: 'swarmgate_reconcile_run_duration_seconds',
    help: 'Duration of one reconcile run.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly dockerErrors = new Counter({ name: 'swarmgate_docker_api_errors_total', help: 'Failed Docker API calls by method.', labelNames: ['method'] as const, registers: [this.registry] });
  readonly proxyUpdates = new Counter({
    name: 'swarmgate_proxy_updates_total',
    help: 'Configurations sent to proxies: service creates/updates (rolling) or configs streamed to agents (hitless).',
    labelNames: ['cluster', 'delivery'] as const,
    registers: [this.registry],
  });
  readonly routes = new Gauge({ name: 'swarmgate_routes', help: 'Routes by condition type and status after the last run.', labelNames: ['condition', 'status'] as const, registers: [this.registry] });
  readonly replicasCurrent = new Gauge({ name: 'swarmgate_proxy_replicas_current', help: 'Running proxy replicas serving the current configuration.', labelNames: ['cluster'] as const, registers: [this.registry] });
  readonly replicasRunning = new Gauge({ name: 'swarmgate_proxy_replicas_running', help: 'Running proxy replicas.', labelNames: ['cluster'] as const, registers: [this.registry] });

  readonly backendRequests = new Counter({
    name: 'swarmgate_backend_requests_total',
    help: 'Requests the proxies sent to each upstream (backend service and port), from the agents\' traffic counters (NGINX, hitless delivery).',
    labelNames: ['cluster', 'upstream'] as const,
    registers: [this.registry],
  });
  readonly backendErrors = new Counter({ name: 'swarmgate_backend_responses_5xx_total', help: '5xx answers per upstream, as the client saw them.', labelNames: ['cluster', 'upstream'] as const, registers: [this.registry] });
  // Counted bucket by bucket from the agents' reports, so the series follow Prometheus' histogram
  // layout (cumulative `le` buckets) and histogram_quantile works on them.
  readonly backendLatency = new Counter({
    name: 'swarmgate_backend_request_duration_seconds_bucket',
    help: 'Requests per upstream by response time (cumulative le buckets, seconds), from the agents\' traffic counters.',
    labelNames: ['cluster', 'upstream', 'le'] as const,
    registers: [this.registry],
  });
  readonly rolloutWeight = new Gauge({ name: 'swarmgate_rollout_canary_weight_percent', help: 'Share of the new service of each Route with spec.canary.', labelNames: ['route'] as const, registers: [this.registry] });
  readonly rolloutPhase = new Gauge({ name: 'swarmgate_rollout_phase', help: '1 for the current phase of each Route with spec.canary.', labelNames: ['route', 'phase'] as const, registers: [this.registry] });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'swarmgate_core_' });
  }

  /** Route condition counts from one run's conditions (keyed "Kind/name"). */
  recordConditions(conditions: Readonly<Record<string, readonly Condition[]>>): void {
    this.routes.reset();
    for (const [key, cs] of Object.entries(conditions)) {
      if (!key.startsWith('Route/')) continue;
      for (const c of cs) this.routes.inc({ condition: c.type, status: c.status });
    }
  }
}

/** Add what agents' reports added to the traffic totals. */
export function recordTraffic(metrics: CoreMetrics, deltas: readonly TrafficDelta[]): void {
  for (const d of deltas) {
    const labels = { cluster: d.cluster, upstream: d.upstream };
    metrics.backendRequests.inc(labels, d.requests);
    if (d.responses5xx > 0) metrics.backendErrors.inc(labels, d.responses5xx);
    let cumulative = 0;
    // `le` buckets are cumulative: each one gains every request at or below its bound.
    d.latencyBuckets.forEach((n, i) => {
      cumulative += n;
      const bound = LATENCY_BUCKETS_MS[i];
      if (cumulative > 0) metrics.backendLatency.inc({ ...labels, le: bound === undefined ? '+Inf' : String(bound / 1000) }, cumulative);
    });
  }
}

/** The port with every failed call counted by method (the calls themselves are unchanged). */
export function instrumentPort(port: DockerPort, metrics: CoreMetrics): DockerPort {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'watchEvents') return value;
      return (...args: unknown[]) => {
        const r: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (r instanceof Promise) return r.catch((e: unknown) => {
          metrics.dockerErrors.inc({ method: String(prop) });
          throw e;
        });
        return r;
      };
    },
  });
}
