/**
 * Progressive delivery, the pure half: the rollout state machine of `spec.canary` and its
 * serialisable state. The core drives it once per run (src/core/rollouts.ts) and stores the
 * state on the Route's config (see docs/reference/canary.md).
 */
export { advanceRollout, rolloutRevision, weightsOf, ROLLOUT_COMMANDS } from './advance';
export type { RolloutCommand, RolloutInput, RolloutResult, WebhookCall, Weights } from './advance';
export { judgeInterval } from './analysis';
export type { BackendMetrics, Verdict, WebhookResults } from './analysis';
export { decodeRolloutState, encodeRolloutState, MAX_ENCODED_STATE_BYTES, PHASES, TRANSITION_REASONS } from '../../domain/rollout-state';
export type { Outcome, Phase, RolloutState, StepMeasurement, Transition, TransitionReason } from '../../domain/rollout-state';
export { servedWeights } from './served-weights';
