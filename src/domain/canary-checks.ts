/**
 * Cross-field rules of `spec.canary` (called from route-checks.ts). Paths are relative to the
 * object, like decode errors. See canary.ts for how the rollout relates to `rules[].backends`.
 */
import { durationMs } from './brands';
import { rolloutNew, rolloutStable, type CanarySpec, type RolloutBackend } from './canary';
import type { Issue, PathSegment } from './issue';
import type { RouteSpec } from './route';

const at = (path: PathSegment[], message: string): Issue => ({ path: ['spec', 'canary', ...path], message });

/** Analysis ticks shorter than this cannot be honoured by a reconcile loop. */
export const MIN_ANALYSIS_INTERVAL = '5s';
/** The core waits for a webhook's answer inside a reconcile; longer would stall other routes. */
export const MAX_WEBHOOK_TIMEOUT = '1m';

const CANARY_FIELDS = ['stable', 'canary', 'steps'] as const;
const BLUE_GREEN_FIELDS = ['active', 'preview', 'previewHost', 'scaleDownDelay'] as const;

function strategyFields(c: CanarySpec): Issue[] {
  const out: Issue[] = [];
  const [mine, theirs, other] = c.strategy === 'canary' ? ([CANARY_FIELDS, BLUE_GREEN_FIELDS, 'blueGreen'] as const) : ([BLUE_GREEN_FIELDS, CANARY_FIELDS, 'canary'] as const);
  for (const field of mine) if (c[field] === undefined) out.push(at([field], `required with strategy ${c.strategy}`));
  // scaleDownDelay is the one blue-green field a canary may use too (keep the old version after 100 %).
  for (const field of theirs) if (field !== 'scaleDownDelay' && c[field] !== undefined) out.push(at([field], `only with strategy ${other}`));
  return out;
}

function distinct(c: CanarySpec): Issue[] {
  const [stableKey, newKey] = c.strategy === 'canary' ? (['stable', 'canary'] as const) : (['active', 'preview'] as const);
  const stable = rolloutStable(c);
  const next = rolloutNew(c);
  if (stable === undefined || next === undefined || stable.service !== next.service) return [];
  return [at([newKey, 'service'], `must differ from ${stableKey}.service (both are "${stable.service}"): a rollout shifts traffic between two services`)];
}

function steps(c: CanarySpec): Issue[] {
  const out: Issue[] = [];
  const list = c.steps ?? [];
  let previous: { weight: number; index: number } | undefined;
  list.forEach((step, i) => {
    if (step.setWeight !== undefined && step.pause !== undefined) {
      out.push(at(['steps', i], 'a step has either setWeight or pause, not both'));
      return;
    }
    if (step.setWeight === undefined && step.pause === undefined) {
      out.push(at(['steps', i], 'expected setWeight: N, pause: {duration: 30s}, or pause: {} (wait for a promote)'));
      return;
    }
    if (step.setWeight !== undefined) {
      if (previous !== undefined && step.setWeight <= previous.weight)
        out.push(at(['steps', i, 'setWeight'], `must be greater than the previous setWeight (${previous.weight} at steps[${previous.index}])`));
      previous = { weight: step.setWeight, index: i };
      const next = list[i + 1];
      if (next === undefined) out.push(at(['steps', i], 'the last step is a setWeight: after the last step all traffic goes to the canary at once; add a pause after it'));
      else if (next.pause === undefined && next.setWeight !== undefined) out.push(at(['steps', i], `setWeight ${step.setWeight} would last no time: add a pause before steps[${i + 1}]`));
    }
    const d = step.pause?.duration;
    if (d !== undefined && durationMs(d) === 0) out.push(at(['steps', i, 'pause', 'duration'], 'a pause must last longer than 0s; use pause: {} to wait for a promote'));
  });
  return out;
}

function analysis(c: CanarySpec): Issue[] {
  const out: Issue[] = [];
  const a = c.analysis;
  const hooks = c.webhooks ?? [];
  if (a !== undefined) {
    if (durationMs(a.interval) < durationMs(MIN_ANALYSIS_INTERVAL)) out.push(at(['analysis', 'interval'], `must be at least ${MIN_ANALYSIS_INTERVAL}`));
    if (a.maxP99Latency !== undefined && durationMs(a.maxP99Latency) === 0) out.push(at(['analysis', 'maxP99Latency'], 'must be longer than 0ms'));
    if (a.maxErrorRate === undefined && a.maxP99Latency === undefined && !hooks.some((h) => h.type === 'rollout'))
      out.push(at(['analysis'], 'checks nothing: give maxErrorRate, maxP99Latency, or a webhook of type rollout'));
  }
  const seen = new Map<string, number>();
  hooks.forEach((h, i) => {
    const first = seen.get(h.name);
    if (first !== undefined) out.push(at(['webhooks', i, 'name'], `duplicate webhook name "${h.name}" (already at webhooks[${first}])`));
    else seen.set(h.name, i);
    if (h.type === 'rollout' && a === undefined) out.push(at(['webhooks', i, 'type'], 'a rollout webhook is called every analysis.interval: add spec.canary.analysis'));
    const ms = durationMs(h.timeout);
    if (ms === 0) out.push(at(['webhooks', i, 'timeout'], 'must be longer than 0s'));
    else if (ms > durationMs(MAX_WEBHOOK_TIMEOUT)) out.push(at(['webhooks', i, 'timeout'], `must be at most ${MAX_WEBHOOK_TIMEOUT}`));
  });
  return out;
}

const sameBackend = (b: { service: string; port: number }, ref: RolloutBackend): boolean => b.service === ref.service && b.port === ref.port;

function previewHost(spec: RouteSpec, c: CanarySpec): Issue[] {
  const host = c.previewHost;
  if (host === undefined) return [];
  const i = spec.hosts.findIndex((h) => h === (host as string));
  return i < 0 ? [] : [at(['previewHost'], `must not be one of the route's hosts (it is spec.hosts[${i}]): the preview needs a host of its own`)];
}

/** The rollout needs at least one rule to shift, and owns the split of the services it names. */
function rulesRelation(spec: RouteSpec, c: CanarySpec): Issue[] {
  const stable = rolloutStable(c);
  const next = rolloutNew(c);
  const out: Issue[] = [];
  const stableKey = c.strategy === 'canary' ? 'stable' : 'active';
  if (stable !== undefined && !spec.rules.some((r) => r.backends?.length === 1 && r.backends[0] !== undefined && sameBackend(r.backends[0], stable)))
    out.push(
      at(
        [stableKey],
        `no rule sends to service "${stable.service}" port ${stable.port} alone; the rollout shifts the traffic of rules whose backends are exactly [{service: ${stable.service}, port: ${stable.port}}]`,
      ),
    );
  const owned = new Set([stable?.service, next?.service].filter((s): s is NonNullable<typeof s> => s !== undefined));
  spec.rules.forEach((rule, i) => {
    const backends = rule.backends ?? [];
    if (backends.length < 2) return;
    backends.forEach((b, j) => {
      if (owned.has(b.service))
        out.push({
          path: ['spec', 'rules', i, 'backends', j, 'service'],
          message: `service "${b.service}" is rolled out by spec.canary; a rule with several backends cannot also split traffic to it (the rollout sets the weights)`,
        });
    });
  });
  return out;
}

export function checkCanary(spec: RouteSpec): Issue[] {
  const c = spec.canary;
  if (c === undefined) return [];
  return [...strategyFields(c), ...distinct(c), ...steps(c), ...analysis(c), ...previewHost(spec, c), ...rulesRelation(spec, c)];
}
