/**
 * The rollout state machine of `spec.canary`, as one pure function:
 *
 *   advanceRollout(spec, state | undefined, { now, revision?, metrics?, command?, webhookResults? })
 *     → { state, weights, transitions, command?, awaiting, notify, nextWakeAt? }
 *
 * The core calls it on every reconcile of a Route with `spec.canary`, stores `state` (see
 * state.ts), routes `weights` (percent of the rolled-out rules' traffic: stable/active vs
 * canary/preview), and reconciles again at `nextWakeAt`. When `awaiting` is not empty, the
 * machine needs webhook answers before it can judge: the core calls those hooks and calls
 * advanceRollout again at once with the returned state and `webhookResults` (by hook name; a hook
 * missing from a given `webhookResults` counts as "no answer"). `notify` lists the postRollout
 * hooks to call once (their answers change nothing).
 *
 * Canary: start (pre-rollout hooks must pass) → steps in order: `setWeight` applies at once,
 * `pause: {duration}` ends when the duration has passed and — while analysis is judging — the
 * latest interval passed, `pause: {}` waits in Paused for a promote → after the last step 100 %
 * (Promoted while `scaleDownDelay` runs, then Succeeded).
 * Blue-green: start → Paused (preview on its own host, analysis judges it) → promote: 100 % at once
 * (Promoted) → after `scaleDownDelay` Succeeded.
 * Analysis ticks every `interval` while the new service takes traffic; more than `failureLimit`
 * failed intervals in a row → Failed, weight back to 0. Commands: promote (finish the current
 * pause / switch), promoteFull (to the end), abort (→ Aborted, 0 %), retry (Failed/Aborted → step 0).
 * A change of strategy, services, steps or the caller's `revision` restarts from step 0.
 * Failed and Aborted always yield 100 % stable.
 */
import { durationMs } from '../../domain/brands';
import { ANALYSIS_DEFAULTS, rolloutNew, rolloutStable, type Analysis, type CanarySpec, type CanaryStep, type Webhook, type WebhookType } from '../../domain/canary';
import type { RolloutCommand } from '../../domain/rollout-labels';
import { canonicalJson, fnv1a32 } from '../hash';
import { judgeInterval, webhookFailures, type BackendMetrics, type WebhookResults } from './analysis';
import { clip, MAX_HISTORY, ROLLOUT_STATE_VERSION, type Phase, type RolloutState, type StepMeasurement, type Transition, type TransitionReason } from '../../domain/rollout-state';

export { ROLLOUT_COMMANDS, type RolloutCommand } from '../../domain/rollout-labels';

export interface RolloutInput {
  /** Epoch milliseconds. */
  readonly now: number;
  /**
   * What identifies the version being rolled out beyond the spec (e.g. the new service's image
   * digest); a change restarts the rollout. Pass the same value on every call.
   */
  readonly revision?: string;
  /**
   * Counters since `stepStartedAt` of the state passed in. Only `canary` is judged: the new service
   * (canary, or blue-green's preview); `stable` is accepted for a later relative check and ignored.
   */
  readonly metrics?: { readonly stable?: BackendMetrics; readonly canary?: BackendMetrics };
  readonly command?: RolloutCommand;
  /** Answers to the `awaiting` calls of the previous result: HTTP status by hook name, 0 = no answer. */
  readonly webhookResults?: WebhookResults;
}

export interface WebhookCall {
  readonly name: string;
  readonly type: WebhookType;
  readonly url: string;
  readonly timeoutMs: number;
}

export interface Weights {
  /** Percent for the stable (canary) or active (blue-green) service. */
  readonly stable: number;
  /** Percent for the canary (canary) or preview (blue-green) service. */
  readonly canary: number;
}

export interface RolloutResult {
  readonly state: RolloutState;
  readonly weights: Weights;
  /** Changes made by this call (also appended to `state.history`). */
  readonly transitions: readonly Transition[];
  /** The verdict on `input.command`, for the CLI. */
  readonly command?: { readonly accepted: boolean; readonly message: string };
  /** Hooks to call now, then call advanceRollout again with their `webhookResults`. */
  readonly awaiting: readonly WebhookCall[];
  /** postRollout hooks to call once (fire and forget). */
  readonly notify: readonly WebhookCall[];
  /** When to call again for time-based progress; absent: only a command or a spec change moves it. */
  readonly nextWakeAt?: number;
}

/** The part of a spec a rollout is about; a change of it (or of `revision`) restarts the rollout. */
export function rolloutRevision(spec: CanarySpec, revision?: string): string {
  const identity = { strategy: spec.strategy, from: rolloutStable(spec), to: rolloutNew(spec), steps: spec.strategy === 'canary' ? spec.steps : undefined, revision: revision ?? '' };
  return fnv1a32(canonicalJson(identity));
}

export function weightsOf(state: RolloutState): Weights {
  const canary = state.phase === 'Failed' || state.phase === 'Aborted' ? 0 : Math.min(100, Math.max(0, state.weight));
  return { stable: 100 - canary, canary };
}

const TERMINAL: readonly Phase[] = ['Failed', 'Aborted', 'Succeeded'];
const isTerminal = (p: Phase): boolean => TERMINAL.includes(p);
/** A spec that missed its checks never shifts traffic on its own: missing steps act as one manual pause. */
const MANUAL_PAUSE: CanaryStep = { pause: {} };

interface Ctx {
  readonly spec: CanarySpec;
  readonly input: RolloutInput;
  readonly now: number;
  readonly analysis: Analysis;
  readonly intervalMs: number;
  readonly steps: readonly CanaryStep[];
  s: RolloutState;
  readonly transitions: Transition[];
  readonly notify: WebhookCall[];
}

const call = (h: Webhook): WebhookCall => ({ name: h.name, type: h.type, url: h.url, timeoutMs: durationMs(h.timeout) });
const hooksOf = (spec: CanarySpec, type: WebhookType): Webhook[] => (spec.webhooks ?? []).filter((h) => h.type === type);

function withoutOutcome(s: RolloutState): RolloutState {
  const { lastOutcome: _dropped, ...rest } = s;
  return rest;
}

function record(ctx: Ctx, to: Phase, reason: TransitionReason, message?: string): void {
  const from = ctx.s.phase;
  const t: Transition = { at: ctx.now, from, to, step: ctx.s.step, weight: ctx.s.weight, reason, ...(message !== undefined ? { message: clip(message) } : {}) };
  ctx.transitions.push(t);
  ctx.s = { ...ctx.s, phase: to, history: [...ctx.s.history, t].slice(-MAX_HISTORY) };
}

function enterStep(ctx: Ctx, step: number): void {
  ctx.s = withoutOutcome({ ...ctx.s, step, stepStartedAt: ctx.now, nextTickAt: ctx.now + ctx.intervalMs, failures: 0 });
}

/** A new rollout at step 0 (first start, spec change, retry); the history is kept. */
function start(ctx: Ctx, revision: string, previous: RolloutState | undefined, reason: TransitionReason, message?: string): void {
  const gatePassed = hooksOf(ctx.spec, 'preRollout').length === 0;
  ctx.s = {
    v: ROLLOUT_STATE_VERSION,
    revision,
    phase: previous?.phase ?? 'Progressing',
    step: 0,
    weight: 0,
    gatePassed,
    stepStartedAt: ctx.now,
    nextTickAt: gatePassed ? ctx.now + ctx.intervalMs : ctx.now,
    failures: 0,
    measurements: [],
    history: previous?.history ?? [],
  };
  if (previous === undefined) {
    const t: Transition = { at: ctx.now, to: 'Progressing', step: 0, weight: 0, reason, ...(message !== undefined ? { message: clip(message) } : {}) };
    ctx.transitions.push(t);
    ctx.s = { ...ctx.s, history: [t] };
  } else record(ctx, 'Progressing', reason, message);
}

function terminate(ctx: Ctx, to: 'Failed' | 'Aborted', reason: TransitionReason, message: string): void {
  const { promotedAt: _p, ...rest } = withoutOutcome(ctx.s);
  ctx.s = { ...rest, weight: 0, reason, message: clip(message) };
  record(ctx, to, reason, message);
  ctx.notify.push(...hooksOf(ctx.spec, 'postRollout').map(call));
}

function succeed(ctx: Ctx, reason: TransitionReason): void {
  record(ctx, 'Succeeded', reason);
  ctx.notify.push(...hooksOf(ctx.spec, 'postRollout').map(call));
}

/** How long the old service is kept after 100 %: canary without scaleDownDelay none, blue-green without one forever. */
function scaleDownMs(spec: CanarySpec): number {
  if (spec.scaleDownDelay !== undefined) return durationMs(spec.scaleDownDelay);
  return spec.strategy === 'canary' ? 0 : Number.POSITIVE_INFINITY;
}

function promoteTo100(ctx: Ctx, reason: TransitionReason, step: number, message?: string): void {
  ctx.s = { ...ctx.s, weight: 100 };
  enterStep(ctx, step);
  if (ctx.spec.strategy === 'canary' && ctx.spec.scaleDownDelay === undefined) {
    succeed(ctx, reason);
    return;
  }
  ctx.s = { ...ctx.s, promotedAt: ctx.now };
  record(ctx, 'Promoted', reason, message);
  checkScaleDown(ctx);
}

function checkScaleDown(ctx: Ctx): void {
  if (ctx.s.phase !== 'Promoted' || ctx.s.promotedAt === undefined) return;
  if (ctx.now >= ctx.s.promotedAt + scaleDownMs(ctx.spec)) succeed(ctx, 'ScaleDownDelayElapsed');
}

/** Analysis judges intervals while the new service takes traffic (blue-green: its preview host too). */
function judging(ctx: Ctx): boolean {
  const s = ctx.s;
  return ctx.spec.analysis !== undefined && s.gatePassed && (s.phase === 'Progressing' || s.phase === 'Paused' || s.phase === 'Promoted') && (ctx.spec.strategy === 'blueGreen' || s.weight > 0);
}

function tick(ctx: Ctx, results: WebhookResults): void {
  const verdict = judgeInterval(ctx.analysis, hooksOf(ctx.spec, 'rollout'), results, ctx.input.metrics?.canary);
  const s = ctx.s;
  const old = s.measurements.find((m) => m.step === s.step);
  const m: StepMeasurement = {
    step: s.step,
    at: ctx.now,
    passed: (old?.passed ?? 0) + (verdict.outcome === 'pass' ? 1 : 0),
    failed: (old?.failed ?? 0) + (verdict.outcome === 'fail' ? 1 : 0),
    inconclusive: (old?.inconclusive ?? 0) + (verdict.outcome === 'inconclusive' ? 1 : 0),
    ...(verdict.measured !== undefined
      ? { requests: verdict.measured.requests, errorRate: verdict.measured.errorRate, p99Ms: verdict.measured.p99Ms }
      : old?.requests !== undefined && old.errorRate !== undefined && old.p99Ms !== undefined
        ? { requests: old.requests, errorRate: old.errorRate, p99Ms: old.p99Ms }
        : {}),
  };
  const measurements = [...s.measurements.filter((x) => x.step !== s.step), m].sort((a, b) => a.step - b.step);
  const failures = verdict.outcome === 'fail' ? s.failures + 1 : verdict.outcome === 'pass' ? 0 : s.failures;
  ctx.s = { ...s, measurements, failures, lastOutcome: verdict.outcome, nextTickAt: ctx.now + ctx.intervalMs };
  if (verdict.outcome === 'fail' && failures > ctx.analysis.failureLimit)
    terminate(ctx, 'Failed', verdict.failure ?? 'AnalysisFailed', `${failures} failed intervals in a row: ${verdict.message}`);
}

/** Runs the pre-rollout gate; returns the hooks to call when their answers are needed and missing. */
function gate(ctx: Ctx): WebhookCall[] {
  if (ctx.s.gatePassed || ctx.s.phase !== 'Progressing' || ctx.now < ctx.s.nextTickAt) return [];
  const hooks = hooksOf(ctx.spec, 'preRollout');
  const results = ctx.input.webhookResults;
  if (results === undefined) return hooks.map(call);
  const problems = webhookFailures(hooks, results);
  if (problems.length === 0) {
    ctx.s = { ...ctx.s, gatePassed: true };
    enterStep(ctx, 0);
    record(ctx, 'Progressing', 'PreRolloutPassed');
    return [];
  }
  const failures = ctx.s.failures + 1;
  ctx.s = { ...ctx.s, failures, nextTickAt: ctx.now + ctx.intervalMs };
  if (failures > ctx.analysis.failureLimit) terminate(ctx, 'Failed', 'PreRolloutFailed', `${failures} failed attempts in a row: ${problems.join('; ')}`);
  return [];
}

/** Moves through steps that need no input; stops at a pause that has not ended, or a phase change. */
function progress(ctx: Ctx): void {
  if (!ctx.s.gatePassed || isTerminal(ctx.s.phase)) return;
  if (ctx.s.phase === 'Promoted') {
    checkScaleDown(ctx);
    return;
  }
  if (ctx.spec.strategy === 'blueGreen') {
    if (ctx.s.phase === 'Progressing') record(ctx, 'Paused', 'PausedForPromotion', `preview is served on ${ctx.spec.previewHost ?? 'its preview host'}`);
    return;
  }
  if (ctx.s.phase !== 'Progressing') return;
  for (let guard = 0; guard <= ctx.steps.length; guard++) {
    const step = ctx.steps[ctx.s.step];
    if (step === undefined) {
      promoteTo100(ctx, 'AllStepsCompleted', ctx.steps.length);
      return;
    }
    if (step.setWeight !== undefined) {
      ctx.s = { ...ctx.s, weight: step.setWeight };
      enterStep(ctx, ctx.s.step + 1);
      record(ctx, 'Progressing', 'StepAdvanced', `weight ${step.setWeight}%`);
      continue;
    }
    const duration = step.pause?.duration;
    if (duration === undefined) {
      record(ctx, 'Paused', 'PausedForPromotion', `steps[${ctx.s.step}] waits for a promote`);
      return;
    }
    const ended = ctx.now >= ctx.s.stepStartedAt + durationMs(duration);
    if (!ended || (judging(ctx) && ctx.s.lastOutcome !== 'pass')) return;
    enterStep(ctx, ctx.s.step + 1);
    record(ctx, 'Progressing', 'StepAdvanced', `pause of ${duration} done`);
  }
}

type CommandVerdict = { readonly accepted: boolean; readonly message: string };

function applyCommand(ctx: Ctx, command: RolloutCommand, revision: string): CommandVerdict {
  const phase = ctx.s.phase;
  const reject = (message: string): CommandVerdict => ({ accepted: false, message });
  switch (command) {
    case 'abort':
      if (phase === 'Failed' || phase === 'Aborted') return reject(`the rollout is already ${phase}`);
      if (phase === 'Succeeded') return reject('the rollout has succeeded and the old service may be gone; change spec.canary to roll back');
      terminate(ctx, 'Aborted', 'Aborted', 'aborted by command');
      return { accepted: true, message: 'aborted: all traffic back to the stable service' };
    case 'retry':
      if (phase !== 'Failed' && phase !== 'Aborted') return reject(`retry restarts a Failed or Aborted rollout; this one is ${phase}`);
      start(ctx, revision, ctx.s, 'Retried');
      return { accepted: true, message: 'restarted from step 0' };
    case 'promote':
    case 'promoteFull': {
      if (phase === 'Failed' || phase === 'Aborted') return reject(`the rollout is ${phase}; use retry to start it again`);
      if (phase === 'Promoted' || phase === 'Succeeded') return reject(`nothing to promote: the rollout is ${phase}`);
      if (!ctx.s.gatePassed) return reject('the pre-rollout webhooks have not passed yet');
      if (ctx.spec.strategy === 'blueGreen') {
        promoteTo100(ctx, command === 'promoteFull' ? 'PromotedFully' : 'Promoted', 1, 'all traffic switched to the preview');
        return { accepted: true, message: 'switched all traffic to the preview service' };
      }
      if (command === 'promoteFull') {
        promoteTo100(ctx, 'PromotedFully', ctx.steps.length, 'remaining steps skipped');
        return { accepted: true, message: 'promoted to 100%' };
      }
      // Settle first, so "the current step" is the pause the rollout rests at.
      progress(ctx);
      const s = ctx.s;
      if (s.phase !== 'Progressing' && s.phase !== 'Paused') return { accepted: true, message: `nothing left to promote: the rollout is ${s.phase}` };
      enterStep(ctx, s.step + 1);
      record(ctx, 'Progressing', 'Promoted', `steps[${s.step}] ended by promote`);
      return { accepted: true, message: `steps[${s.step}] ended by promote` };
    }
  }
}

function nextWake(ctx: Ctx, awaiting: readonly WebhookCall[]): number | undefined {
  const s = ctx.s;
  if (isTerminal(s.phase)) return undefined;
  if (awaiting.length > 0) return ctx.now;
  const candidates: number[] = [];
  if (!s.gatePassed && hooksOf(ctx.spec, 'preRollout').length > 0) candidates.push(s.nextTickAt);
  if (judging(ctx)) candidates.push(s.nextTickAt);
  if (s.phase === 'Promoted' && s.promotedAt !== undefined) candidates.push(s.promotedAt + scaleDownMs(ctx.spec));
  const duration = ctx.spec.strategy === 'canary' && s.phase === 'Progressing' && s.gatePassed ? ctx.steps[s.step]?.pause?.duration : undefined;
  if (duration !== undefined) candidates.push(s.stepStartedAt + durationMs(duration));
  // A pause that has ended but waits for a passing interval is woken by that interval, not by its end.
  const future = candidates.filter((t) => t > ctx.now && Number.isFinite(t));
  return future.length === 0 ? undefined : Math.min(...future);
}

export function advanceRollout(spec: CanarySpec, state: RolloutState | undefined, input: RolloutInput): RolloutResult {
  const analysis = spec.analysis ?? { ...ANALYSIS_DEFAULTS };
  const ctx: Ctx = {
    spec,
    input,
    now: input.now,
    analysis,
    intervalMs: durationMs(analysis.interval),
    steps: spec.strategy === 'canary' ? (spec.steps ?? [MANUAL_PAUSE]) : [],
    // Replaced below: a missing or outdated state starts a new rollout.
    s: state as RolloutState,
    transitions: [],
    notify: [],
  };
  const revision = rolloutRevision(spec, input.revision);
  if (state === undefined) start(ctx, revision, undefined, 'RolloutStarted');
  else if (state.revision !== revision) start(ctx, revision, state, 'SpecChanged', 'spec.canary or the new version changed; restarting from step 0');

  const command = input.command !== undefined ? applyCommand(ctx, input.command, revision) : undefined;

  let awaiting = gate(ctx);
  if (awaiting.length === 0 && judging(ctx) && ctx.now >= ctx.s.nextTickAt) {
    const hooks = hooksOf(spec, 'rollout');
    if (hooks.length > 0 && input.webhookResults === undefined) awaiting = hooks.map(call);
    else tick(ctx, input.webhookResults ?? {});
  }
  if (awaiting.length === 0) progress(ctx);

  return {
    state: ctx.s,
    weights: weightsOf(ctx.s),
    transitions: ctx.transitions,
    ...(command !== undefined ? { command } : {}),
    awaiting,
    notify: ctx.notify,
    ...(() => {
      const at = nextWake(ctx, awaiting);
      return at !== undefined ? { nextWakeAt: at } : {};
    })(),
  };
}
