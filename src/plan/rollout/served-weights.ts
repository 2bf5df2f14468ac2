/**
 * The weights the proxies serve now, derived from the stored rollout states (the label the core
 * writes on each rolling-out Route's config after every advance): what `diff`, `render` and `get`
 * route by, so they show what is served rather than 100 % stable. The core does not use this: it
 * advances each rollout first and passes the weights it just decided.
 */
import type { RolloutState } from '../../domain/rollout-state';
import type { DesiredState } from '../inputs';
import { weightsOf, type Weights } from './advance';

/** By route name: the served weights of each route with `spec.canary` and a stored state (others: 100 % stable). */
export function servedWeights(desired: DesiredState, states: ReadonlyMap<string, RolloutState>): Map<string, Weights> {
  const weights = new Map<string, Weights>();
  for (const r of desired.routes) {
    const name = r.object.metadata.name;
    const state = states.get(name);
    if (r.object.spec.canary !== undefined && state !== undefined) weights.set(name, weightsOf(state));
  }
  return weights;
}
