/**
 * Runs the rollouts of Routes with `spec.canary` as part of each reconcile run: reads each one's
 * state and pending command from its spec config's labels, measures the new service's traffic
 * since the step started, advances the pure state machine (src/plan/rollout/), calls webhooks,
 * and hands back the weights to route plus the labels and condition to write. State lives in
 * Swarm (the Route's labels), so a restarted core resumes where the rollout stood; what lives
 * only here (traffic baselines, webhook answers in flight) is rebuilt: the first measurement after
 * a restart starts counting from that moment.
 */
import type { Logger } from 'pino';
import type { TrafficTotals } from '../api/traffic-totals';
import { condition, type Condition } from '../domain/conditions';
import { rolloutNew, rolloutStable, type CanarySpec, type RolloutBackend } from '../domain/canary';
import { LABELS } from '../domain/labels';
import { decodeRolloutCommand, encodeRolloutResult, ROLLOUT_COMMANDS } from '../domain/rollout-labels';
import { objectKey } from '../domain/meta';
import { addTraffic, NO_TRAFFIC, quantileMs, subtractTraffic, type TrafficCount } from '../domain/traffic';
import type { StoredSpec } from '../desired/spec-store';
import type { ServiceInfo } from '../observed/docker-port';
import type { DesiredState } from '../plan/inputs';
import type { Upstream } from '../plan/model';
import { previewRouteName, takenPreviewNames } from '../plan/rollout/apply-weights';
import {
  advanceRollout,
  decodeRolloutState,
  encodeRolloutState,
  type BackendMetrics,
  type RolloutResult,
  type RolloutState,
  type WebhookCall,
  type Weights,
} from '../plan/rollout';
import type { CoreMetrics } from '../status/metrics';

export interface RolloutPass {
  /** By route name: the weights to serve now. */
  readonly weights: ReadonlyMap<string, Weights>;
  /** By object key: labels to set (string) or remove (undefined) with the next status write. */
  readonly labels: ReadonlyMap<string, Readonly<Record<string, string | undefined>>>;
  /** By object key: the `Rollout` condition. */
  readonly conditions: ReadonlyMap<string, Condition>;
  /** When the next run is needed for time-based progress (epoch ms). */
  readonly nextWakeAt?: number;
  /** Clusters where a rollout just failed or was aborted: their proxies should apply at once. */
  readonly urgentClusters: ReadonlySet<string>;
}

/** Calls one webhook; resolves to the HTTP status, 0 for no answer. Never rejects. */
export type WebhookCaller = (call: WebhookCall, body: unknown) => Promise<number>;

export const httpWebhook: WebhookCaller = async (call, body) => {
  try {
    const res = await fetch(call.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(call.timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    return res.status;
  } catch {
    return 0;
  }
};

const HEALTHY = ['Progressing', 'Paused', 'Promoted', 'Succeeded'];

export function rolloutCondition(s: RolloutState): Condition {
  const where = `step ${s.step}, ${s.weight}% to the new service`;
  const message = s.message !== undefined && !HEALTHY.includes(s.phase) ? `${s.message} (${where})` : where;
  return condition('Rollout', HEALTHY.includes(s.phase) ? 'True' : 'False', s.phase, message);
}

/** Counters → what the analysis judges (p99 from the latency histogram). */
function metricsOf(t: TrafficCount): BackendMetrics {
  return { requests: t.requests, errors5xx: t.responses5xx, p99Ms: quantileMs(t.latencyBuckets, 0.99) };
}

export class RolloutDriver {
  /** Traffic totals when the current step began, by route (rebuilt after a restart). */
  private readonly baselines = new Map<string, { readonly key: string; readonly stable: TrafficCount; readonly canary: TrafficCount }>();
  /** Webhook answers by interval (route + hooks + tick time); in flight: undefined. */
  private readonly webhookAnswers = new Map<string, Readonly<Record<string, number>> | undefined>();

  constructor(
    private readonly log: Logger,
    private readonly traffic: TrafficTotals | undefined,
    /** Asks for a run soon (webhook answers arrived). */
    private readonly wake: () => void,
    private readonly callWebhook: WebhookCaller = httpWebhook,
    private readonly metrics?: CoreMetrics,
  ) {}

  /**
   * Advance every rollout once. `upstreams` are the cluster's upstreams of the previous run's model
   * (where the traffic of a service and port was counted).
   */
  advance(desired: DesiredState, stored: ReadonlyMap<string, StoredSpec>, services: readonly ServiceInfo[], upstreams: (cluster: string) => readonly Upstream[] | undefined, now: number): RolloutPass {
    const weights = new Map<string, Weights>();
    const labels = new Map<string, Record<string, string | undefined>>();
    const conditions = new Map<string, Condition>();
    const wakes: number[] = [];
    const live = new Set<string>();
    const urgentClusters = new Set<string>();
    this.metrics?.rolloutWeight.reset();
    this.metrics?.rolloutPhase.reset();
    const taken = takenPreviewNames(desired);
    for (const route of desired.routes) {
      const spec = route.object.spec.canary;
      const name = route.object.metadata.name;
      const key = objectKey('Route', name);
      const config = stored.get(key)?.config;
      if (spec === undefined || config === undefined) continue;
      live.add(name);
      const own = config.Spec.Labels ?? {};
      const decoded = own[LABELS.rollout] !== undefined ? decodeRolloutState(own[LABELS.rollout] ?? '') : undefined;
      if (decoded?._tag === 'Left') this.log.warn({ route: name, problem: decoded.left }, 'stored rollout state unreadable; starting the rollout again');
      const state = decoded?._tag === 'Right' ? decoded.right : undefined;
      const pending = decodeRolloutCommand(own[LABELS.rolloutCommand]);
      const revision = imageOf(services, rolloutNew(spec));
      const cluster = route.object.spec.serviceCluster;
      const known = upstreams(cluster);
      const measured = state !== undefined && known !== undefined ? this.measure(name, state, spec, cluster, known) : undefined;
      const input = { now, revision, ...(measured !== undefined ? { metrics: measured } : {}) };
      let r = advanceRollout(spec, state, { ...input, ...(pending?.command !== undefined ? { command: pending.command } : {}) });
      const verdict = r.command;
      r = this.withWebhooks(name, spec, r, input);
      for (const t of r.transitions) this.log.info({ route: name, from: t.from, to: t.to, step: t.step, weight: t.weight, reason: t.reason, ...(t.message !== undefined ? { detail: t.message } : {}) }, 'rollout transition');
      for (const call of r.notify) void this.callWebhook(call, this.hookBody(name, call, r.state));
      weights.set(name, r.weights);
      if (r.transitions.some((t) => t.to === 'Failed' || t.to === 'Aborted')) urgentClusters.add(cluster);
      const cond = rolloutCondition(r.state);
      conditions.set(key, taken.has(name) ? { ...cond, message: `${cond.message}; the preview is not served: a Route named "${previewRouteName(name)}" exists (rename it or this route)` } : cond);
      this.metrics?.rolloutWeight.set({ route: name }, r.weights.canary);
      this.metrics?.rolloutPhase.set({ route: name, phase: r.state.phase }, 1);
      const changes: Record<string, string | undefined> = {};
      const encoded = encodeRolloutState(r.state);
      if (encoded !== own[LABELS.rollout]) changes[LABELS.rollout] = encoded;
      if (pending !== undefined) {
        changes[LABELS.rolloutCommand] = undefined;
        const result = verdict ?? { accepted: false, message: `unknown command "${pending.raw.slice(0, 40)}"; expected one of ${ROLLOUT_COMMANDS.join(', ')}` };
        changes[LABELS.rolloutResult] = encodeRolloutResult({ id: pending.id, ...result });
        this.log.info({ route: name, command: pending.raw.slice(0, 40), accepted: result.accepted }, result.message);
      }
      if (Object.keys(changes).length > 0) labels.set(key, changes);
      if (r.nextWakeAt !== undefined) wakes.push(r.nextWakeAt);
    }
    for (const name of this.baselines.keys()) if (!live.has(name)) this.baselines.delete(name);
    return { weights, labels, conditions, urgentClusters, ...(wakes.length > 0 ? { nextWakeAt: Math.min(...wakes) } : {}) };
  }

  /** The stable and new service's traffic since the state's step began (undefined: no counters here). */
  private measure(route: string, s: RolloutState, spec: CanarySpec, cluster: string, upstreams: readonly Upstream[]): { stable: BackendMetrics; canary: BackendMetrics } | undefined {
    const traffic = this.traffic;
    if (traffic === undefined) return undefined;
    const total = (b: RolloutBackend | undefined): TrafficCount =>
      b === undefined ? NO_TRAFFIC : upstreams.filter((u) => u.service === b.service && u.port === b.port).reduce((sum, u) => addTraffic(sum, traffic.of(cluster, u.name)), NO_TRAFFIC);
    const stable = total(rolloutStable(spec));
    const canary = total(rolloutNew(spec));
    const key = `${s.revision}:${s.step}:${s.stepStartedAt}`;
    let base = this.baselines.get(route);
    if (base?.key !== key) {
      base = { key, stable, canary };
      this.baselines.set(route, base);
    }
    return { stable: metricsOf(subtractTraffic(stable, base.stable)), canary: metricsOf(subtractTraffic(canary, base.canary)) };
  }

  /**
   * Webhooks run in the background: the run that needs them starts the calls and the state waits;
   * the run after their answers (woken by them) feeds them to the state machine.
   */
  private withWebhooks(route: string, spec: CanarySpec, r: RolloutResult, input: { now: number; revision: string; metrics?: { stable: BackendMetrics; canary: BackendMetrics } }): RolloutResult {
    if (r.awaiting.length === 0) return r;
    const key = `${route}|${r.state.revision}|${r.state.step}|${r.state.nextTickAt}|${r.awaiting.map((c) => c.name).join(',')}`;
    if (!this.webhookAnswers.has(key)) {
      this.webhookAnswers.set(key, undefined);
      void Promise.all(r.awaiting.map(async (c) => [c.name, await this.callWebhook(c, this.hookBody(route, c, r.state))] as const)).then((answers) => {
        this.webhookAnswers.set(key, Object.fromEntries(answers));
        this.wake();
      });
      return r;
    }
    const answers = this.webhookAnswers.get(key);
    if (answers === undefined) return r;
    this.webhookAnswers.delete(key);
    for (const k of this.webhookAnswers.keys()) if (k.startsWith(`${route}|`)) this.webhookAnswers.delete(k);
    const next = advanceRollout(spec, r.state, { ...input, webhookResults: answers });
    return { ...next, transitions: [...r.transitions, ...next.transitions], notify: [...r.notify, ...next.notify] };
  }

  private hookBody(route: string, call: WebhookCall, s: RolloutState): unknown {
    return { route, webhook: call.name, type: call.type, phase: s.phase, step: s.step, weight: s.weight };
  }
}

/** What identifies the new version beyond the spec: its image, so `docker service update --image` restarts the rollout. */
function imageOf(services: readonly ServiceInfo[], b: RolloutBackend | undefined): string {
  if (b === undefined) return '';
  return services.find((s) => s.Spec.Name === b.service)?.Spec.TaskTemplate.ContainerSpec.Image ?? '';
}
