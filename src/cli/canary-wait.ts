/**
 * `swarmgate wait route/NAME --for=canary=PHASE`: the rollout's phase as a wait condition, for CI.
 * Met when the stored phase equals PHASE; lost at once when the rollout rests in another terminal
 * phase (waiting for Succeeded when it Failed), since only a retry or a new apply moves it again.
 */
import { didYouMean } from '../domain/did-you-mean';
import { PHASES, type Phase } from '../plan/rollout';
import { TERMINAL_PHASES } from './canary-view';
import type { RolloutLookup } from './route-rollout';

/** Undefined: not a canary condition. */
export function parseCanaryFor(forCondition: string): { readonly phase: Phase } | { readonly error: string } | undefined {
  const [type, phase, ...rest] = forCondition.split('=');
  if (type?.toLowerCase() !== 'canary') return undefined;
  if (phase === undefined || phase === '' || rest.length > 0) return { error: `--for canary: expected canary=PHASE, one of ${PHASES.join(', ')}` };
  if ((PHASES as readonly string[]).includes(phase)) return { phase: phase as Phase };
  const hint = didYouMean(phase, PHASES);
  return { error: `--for canary: unknown phase "${phase}"${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}; one of ${PHASES.join(', ')}` };
}

/** met: exit 0; lost: exit 1 at once (it cannot happen any more); pending: poll again, `last` explains a timeout. */
export type Probe =
  | { readonly verdict: 'met'; readonly message: string }
  | { readonly verdict: 'lost'; readonly message: string }
  | { readonly verdict: 'pending'; readonly last: string };

export function probeCanary(lookup: RolloutLookup, wanted: Phase): Probe {
  if (!lookup.ok) {
    // A route without spec.canary never gets a rollout: waiting would only end in a timeout.
    return lookup.problem === 'noCanary' ? { verdict: 'lost', message: lookup.message } : { verdict: 'pending', last: lookup.message };
  }
  const r = lookup.rollout;
  // The state is carried over from the previous generation on apply; only trust it once the core saw this one.
  if (r.observedGeneration !== r.generation) return { verdict: 'pending', last: `generation ${r.generation} not observed yet` };
  if (r.state === undefined) return { verdict: 'pending', last: r.stateError !== undefined ? `rollout state unreadable: ${r.stateError}` : 'the core has not started the rollout yet' };
  const { phase, reason, message } = r.state;
  const detail = [reason, message].filter((x) => x !== undefined && x !== '').join(': ');
  const described = `${phase}${detail !== '' ? ` (${detail})` : ''}, step ${r.state.step}, weight ${r.state.weight}%`;
  if (phase === wanted) return { verdict: 'met', message: `canary=${phase}` };
  if (TERMINAL_PHASES.includes(phase)) return { verdict: 'lost', message: `the rollout ended ${described}, not ${wanted}` };
  return { verdict: 'pending', last: described };
}
