/**
 * `spec.canary` of a Route: progressive delivery between two Swarm services, by weighted steps
 * (strategy `canary`) or by one switch (strategy `blueGreen`). Structure is decoded here;
 * cross-field rules are in canary-checks.ts; the rollout itself is src/plan/rollout/.
 *
 * How `spec.canary` relates to `rules[].backends` (one rule, kept simple):
 * - The rollout applies to every rule whose `backends` is exactly one backend naming the stable
 *   service and port (`stable` for canary, `active` for blue-green). For those rules the rollout
 *   replaces that backend by two: the stable one with weight `100 - w` and the new one (`canary`,
 *   `preview`) with weight `w`, both keeping the rule's backend `mode` and `network`.
 * - Every other rule is left as written: a rule sending only to the canary service (say, for
 *   testers with an `X-Canary` header) keeps doing so. A rule with several backends may not name
 *   the stable or the new service: the rollout owns that split.
 * - A Route with `spec.canary` therefore always has complete, valid `rules[].backends`; while the
 *   rollout is not running (or after an abort) it behaves exactly like the Route without `canary`:
 *   100 % to the stable service.
 * - Blue-green also serves `previewHost` with the same rules, every rolled-out backend replaced by
 *   `preview`, whatever the phase.
 */
import type * as t from 'io-ts';
import { DnsLabel, Duration, Hostname, Port, RedirectUrl, SwarmName } from './brands';
import { brandedString, intRange, listOf, oneOf, struct, withDefault } from './codec';

export const ROLLOUT_STRATEGIES = ['canary', 'blueGreen'] as const;
export type RolloutStrategy = (typeof ROLLOUT_STRATEGIES)[number];

export const WEBHOOK_TYPES = ['preRollout', 'rollout', 'postRollout'] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/** The same text as the schema's pattern, so both accept exactly the same strings. */
const PERCENTAGE = /^(100(\.0{1,3})?|[0-9]{1,2}(\.[0-9]{1,3})?)%$/;

type PercentageBrand = t.Brand<{ readonly Percentage: 'Percentage' }>;
export type Percentage = string & PercentageBrand;

/** A share written with its unit ("1%", "0.5%"), so 1 and 0.01 cannot be confused. */
export const Percentage = brandedString<PercentageBrand>(
  'percentage like 1%, 0.5%, 100%',
  (s) => (PERCENTAGE.test(s) ? undefined : 'use 0 to 100 with at most 3 decimals, followed by "%"'),
  () => 'write it with a "%" sign, e.g. "1%" or "0.5%"',
);

/** A percentage already checked by the `Percentage` codec, in thousandths of a percent ("0.5%" → 500), for exact comparisons. */
export function percentageThousandths(p: string): number {
  const [whole = '0', frac = ''] = p.slice(0, -1).split('.');
  return Number(whole) * 1000 + Number(frac.padEnd(3, '0'));
}

export const RolloutBackend = struct('rollout backend', { service: SwarmName, port: Port });
export type RolloutBackend = t.TypeOf<typeof RolloutBackend>;

/** `pause: {duration: 30s}` waits that long (with analysis passing); `pause: {}` waits for a promote. */
export const Pause = struct('pause', {}, { duration: Duration });
export type Pause = t.TypeOf<typeof Pause>;

export const CanaryStep = struct('step', {}, { setWeight: intRange(1, 100), pause: Pause });
export type CanaryStep = t.TypeOf<typeof CanaryStep>;

export const ANALYSIS_DEFAULTS = { interval: '1m' as Duration, minRequests: 100, failureLimit: 2 } as const;

export const Analysis = struct(
  'analysis',
  {
    interval: withDefault(Duration, ANALYSIS_DEFAULTS.interval),
    minRequests: withDefault(intRange(1, 1_000_000_000), ANALYSIS_DEFAULTS.minRequests),
    failureLimit: withDefault(intRange(0, 100), ANALYSIS_DEFAULTS.failureLimit),
  },
  { maxErrorRate: Percentage, maxP99Latency: Duration },
);
export type Analysis = t.TypeOf<typeof Analysis>;

export const Webhook = struct('webhook', {
  name: DnsLabel,
  type: oneOf(WEBHOOK_TYPES),
  url: RedirectUrl,
  timeout: withDefault(Duration, '10s' as Duration),
});
export type Webhook = t.TypeOf<typeof Webhook>;

export const MAX_CANARY_STEPS = 32;

export const CanarySpec = struct(
  'canary',
  { strategy: withDefault(oneOf(ROLLOUT_STRATEGIES), 'canary') },
  {
    stable: RolloutBackend,
    canary: RolloutBackend,
    steps: listOf(CanaryStep, { min: 1, max: MAX_CANARY_STEPS }),
    active: RolloutBackend,
    preview: RolloutBackend,
    previewHost: Hostname,
    scaleDownDelay: Duration,
    analysis: Analysis,
    webhooks: listOf(Webhook, { max: 16 }),
  },
);
export type CanarySpec = t.TypeOf<typeof CanarySpec>;

/** The backend that has the traffic before the rollout (canary: `stable`; blue-green: `active`). */
export function rolloutStable(spec: CanarySpec): RolloutBackend | undefined {
  return spec.strategy === 'canary' ? spec.stable : spec.active;
}

/** The backend being rolled out (canary: `canary`; blue-green: `preview`). */
export function rolloutNew(spec: CanarySpec): RolloutBackend | undefined {
  return spec.strategy === 'canary' ? spec.canary : spec.preview;
}
