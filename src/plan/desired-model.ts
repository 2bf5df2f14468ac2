/**
 * The model half of the pipeline (src/plan/pipeline.ts): desired-state sources, then buildModel, and
 * no rendering. Its own module so that readers of conditions (`get`, `describe` computing label routes'
 * status) load neither the renderers nor their templates: a plain `get` must start fast.
 */
import type { AcmeCertificates } from './acme-routes';
import type { RolloutState } from '../domain/rollout-state';
import type { Snapshot } from '../domain/snapshot';
import { buildModel } from './build-model';
import type { DesiredState } from './inputs';
import type { ModelResult } from './model';
import { withRolloutWeights } from './rollout/apply-weights';
import type { Weights } from './rollout/advance';
import { servedWeights } from './rollout/served-weights';
import { withLabelRoutes } from './sources/interlock';

/**
 * How rolling-out Routes are weighted: `weights` as the core just advanced them, or `states` as stored
 * (the weights the proxies serve now). Absent: every route at 100 % stable.
 */
export type RolloutInput = { readonly weights: ReadonlyMap<string, Weights> } | { readonly states: ReadonlyMap<string, RolloutState> };

export interface ModelInputs {
  /** Stored specs (or specs from files), with their generations. */
  readonly specs: DesiredState;
  readonly snapshot: Snapshot;
  /** When the model is built for (certificate expiry); absent for byte-stable output (goldens, render). */
  readonly now?: Date;
  readonly rollouts?: RolloutInput;
  /** ACME certificates the core's issuer holds, by route (absent: routes with an issuer wait). */
  readonly acme?: AcmeCertificates;
  /** Whether proxy agents can reach the core (BuildOptions.agents; default true). */
  readonly agents?: boolean;
  /** BuildOptions.reuse: 'whole' builds every route and host (the reference the reuse must equal). */
  readonly reuse?: 'memo' | 'whole';
}

export interface DesiredModel {
  /** The desired state after every source (label routes, blue-green previews): what conditions are reported for. */
  readonly desired: DesiredState;
  readonly result: ModelResult;
  /** By route name: the weights each rolling-out route is built with. */
  readonly weights: ReadonlyMap<string, Weights>;
}

/** Sources 1–4 of the pipeline (stored specs, rollout weights, Interlock labels, the default cluster), then the model. */
export function desiredModel(inputs: ModelInputs): DesiredModel {
  const { specs, snapshot } = inputs;
  const r = inputs.rollouts;
  const weights = r === undefined ? new Map<string, Weights>() : 'weights' in r ? r.weights : servedWeights(specs, r.states);
  const desired = withLabelRoutes(withRolloutWeights(specs, weights), snapshot);
  const result = buildModel(desired, snapshot, { ...(inputs.now !== undefined ? { now: inputs.now } : {}), ...(inputs.acme !== undefined ? { acme: inputs.acme } : {}), ...(inputs.agents !== undefined ? { agents: inputs.agents } : {}), ...(inputs.reuse !== undefined ? { reuse: inputs.reuse } : {}) });
  return { desired, result, weights };
}
