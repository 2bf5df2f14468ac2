/**
 * RolloutState: everything a rollout needs to continue after a core restart, as plain JSON.
 * The core stores it (for example as a label of the Route's config) after every advance and
 * passes it back on the next one; `decodeRolloutState(encodeRolloutState(s))` equals `s`.
 * Times are epoch milliseconds. The encoded form is bounded (MAX_ENCODED_STATE_BYTES): history
 * and measurements have fixed caps and messages are truncated, so a rollout never outgrows it.
 */
import * as E from 'fp-ts/Either';
import * as tt from 'io-ts';
import { MAX_CANARY_STEPS } from './canary';
import { bool, decode, expected, intRange, listOf, oneOf, struct, type Codec } from './codec';
import { formatPath } from './issue';

export const PHASES = ['Progressing', 'Paused', 'Promoted', 'Aborted', 'Failed', 'Succeeded'] as const;
/**
 * - Progressing: pre-rollout webhooks are being run, or a canary is moving through its steps.
 * - Paused: waiting for a promote command (canary `pause: {}`; blue-green before the switch).
 * - Promoted: all traffic is on the new service; the old one is kept (abort switches back) until scaleDownDelay.
 * - Succeeded: done; all traffic on the new service, the old one may be scaled down.
 * - Aborted: stopped by the abort command; all traffic on the stable service.
 * - Failed: stopped by analysis or webhooks; all traffic on the stable service.
 */
export type Phase = (typeof PHASES)[number];

export const TRANSITION_REASONS = [
  'RolloutStarted',
  'SpecChanged',
  'Retried',
  'PreRolloutPassed',
  'PreRolloutFailed',
  'StepAdvanced',
  'PausedForPromotion',
  'Promoted',
  'PromotedFully',
  'AllStepsCompleted',
  'ScaleDownDelayElapsed',
  'AnalysisFailed',
  'WebhookFailed',
  'Aborted',
] as const;
export type TransitionReason = (typeof TRANSITION_REASONS)[number];

export const OUTCOMES = ['pass', 'fail', 'inconclusive'] as const;
/** The verdict of one analysis interval; `inconclusive` = too few requests or no metrics. */
export type Outcome = (typeof OUTCOMES)[number];

export const MAX_HISTORY = 32;
export const MAX_MESSAGE_LENGTH = 160;
export const MAX_ENCODED_STATE_BYTES = 16 * 1024;
export const ROLLOUT_STATE_VERSION = 1;

const Millis = intRange(0, Number.MAX_SAFE_INTEGER, 'epoch milliseconds');
const Count = intRange(0, Number.MAX_SAFE_INTEGER, 'count');
const StepIndex = intRange(0, MAX_CANARY_STEPS, 'step index');
const Percent = intRange(0, 100, 'weight 0..100');
const Message: Codec<string> = new tt.Type<string, unknown, unknown>(
  'message',
  (u): u is string => typeof u === 'string' && u.length <= MAX_MESSAGE_LENGTH,
  (u, c) => (typeof u === 'string' && u.length <= MAX_MESSAGE_LENGTH ? tt.success(u) : tt.failure(u, c, expected(`a string of at most ${MAX_MESSAGE_LENGTH} characters`, u))),
  (a) => a,
);
const Revision: Codec<string> = new tt.Type<string, unknown, unknown>(
  'revision',
  (u): u is string => typeof u === 'string' && /^[0-9a-f]{8}$/.test(u),
  (u, c) => (typeof u === 'string' && /^[0-9a-f]{8}$/.test(u) ? tt.success(u) : tt.failure(u, c, expected('8 hex digits', u))),
  (a) => a,
);
const NonNegative: Codec<number> = new tt.Type<number, unknown, unknown>(
  'non-negative number',
  (u): u is number => typeof u === 'number' && Number.isFinite(u) && u >= 0,
  (u, c) => (typeof u === 'number' && Number.isFinite(u) && u >= 0 ? tt.success(u) : tt.failure(u, c, expected('a non-negative number', u))),
  (a) => a,
);
const Version: Codec<typeof ROLLOUT_STATE_VERSION> = new tt.Type<typeof ROLLOUT_STATE_VERSION, unknown, unknown>(
  String(ROLLOUT_STATE_VERSION),
  (u): u is typeof ROLLOUT_STATE_VERSION => u === ROLLOUT_STATE_VERSION,
  (u, c) => (u === ROLLOUT_STATE_VERSION ? tt.success(ROLLOUT_STATE_VERSION) : tt.failure(u, c, expected(`version ${ROLLOUT_STATE_VERSION}`, u))),
  (a) => a,
);

export const Transition = struct(
  'transition',
  { at: Millis, to: oneOf(PHASES), step: StepIndex, weight: Percent, reason: oneOf(TRANSITION_REASONS) },
  { from: oneOf(PHASES), message: Message },
);
/** One change of phase or step, with the weight the canary got by it. */
export type Transition = tt.TypeOf<typeof Transition>;

export const StepMeasurement = struct(
  'step measurement',
  { step: StepIndex, at: Millis, passed: Count, failed: Count, inconclusive: Count },
  // The latest metrics judged at this step (absent when no metrics were given).
  { requests: Count, errorRate: NonNegative, p99Ms: NonNegative },
);
/** Analysis results of one step: counts of interval verdicts and the latest measured values. */
export type StepMeasurement = tt.TypeOf<typeof StepMeasurement>;

export const RolloutState = struct(
  'rollout state',
  {
    v: Version,
    /** Hash of what a rollout is about (strategy, services, steps, the caller's revision); a change restarts. */
    revision: Revision,
    phase: oneOf(PHASES),
    /** Canary: index of the current step (steps.length once all are done). Blue-green: 0 before the switch, 1 after. */
    step: StepIndex,
    /** Share of the new service, 0..100 (0 in Failed and Aborted). */
    weight: Percent,
    /** Pre-rollout webhooks have passed (true at once without any). */
    gatePassed: bool,
    stepStartedAt: Millis,
    /** When the next analysis interval (or pre-rollout attempt) is judged. */
    nextTickAt: Millis,
    /** Failed intervals in a row at this step. */
    failures: Count,
    measurements: listOf(StepMeasurement, { max: MAX_CANARY_STEPS + 1 }),
    history: listOf(Transition, { max: MAX_HISTORY }),
  },
  {
    /** Verdict of the latest interval at this step. */
    lastOutcome: oneOf(OUTCOMES),
    promotedAt: Millis,
    /** Why the rollout is Failed or Aborted. */
    reason: oneOf(TRANSITION_REASONS),
    message: Message,
  },
);
export type RolloutState = tt.TypeOf<typeof RolloutState>;

/** Shorten a message to what the state may hold. */
export function clip(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...`;
}

/** Compact JSON, at most MAX_ENCODED_STATE_BYTES (the oldest history entries are dropped if ever needed). */
export function encodeRolloutState(state: RolloutState): string {
  let s = state;
  let text = JSON.stringify(RolloutState.encode(s));
  while (utf8Length(text) > MAX_ENCODED_STATE_BYTES && s.history.length > 0) {
    s = { ...s, history: s.history.slice(1) };
    text = JSON.stringify(RolloutState.encode(s));
  }
  return text;
}

export function decodeRolloutState(text: string): E.Either<string, RolloutState> {
  if (utf8Length(text) > MAX_ENCODED_STATE_BYTES) return E.left(`rollout state is larger than ${MAX_ENCODED_STATE_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return E.left('rollout state is not JSON');
  }
  return E.mapLeft((issues: readonly { path: readonly (string | number)[]; message: string }[]) =>
    issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`).join('; '),
  )(decode(RolloutState, json));
}

function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}
