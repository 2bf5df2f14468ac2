/**
 * What `swarmgate wait --for=…` waits for, parsed once: a condition (kubectl's
 * `condition=Programmed[=True]`, or the short `Programmed[=True]`), `delete`, or a route's rollout
 * phase (`canary=PHASE`, see ./canary-wait.ts). A misspelt condition is a usage error with a
 * suggestion, not a wait that can only time out.
 */
import { CONDITION_TYPES, type ConditionStatus, type ConditionType, type Reason } from '../domain/conditions';
import { didYouMean } from '../domain/did-you-mean';
import type { Phase } from '../plan/rollout';
import type { StatusCondition } from '../domain/status-label';
import { parseCanaryFor, type Probe } from './canary-wait';

export type WaitGoal =
  | { readonly kind: 'condition'; readonly type: ConditionType; readonly status: ConditionStatus }
  | { readonly kind: 'delete' }
  | { readonly kind: 'canary'; readonly phase: Phase };

const STATUSES: readonly ConditionStatus[] = ['True', 'False', 'Unknown'];
const FORMS = 'condition=TYPE[=True|False|Unknown], TYPE[=STATUS], delete or canary=PHASE';

export function parseWaitFor(raw: string): WaitGoal | { readonly error: string } {
  const text = raw.trim();
  if (text.toLowerCase() === 'delete') return { kind: 'delete' };
  const canary = parseCanaryFor(text);
  if (canary !== undefined) return 'error' in canary ? canary : { kind: 'canary', phase: canary.phase };
  const parts = text.split('=');
  if (parts[0]?.toLowerCase() === 'condition') parts.shift();
  const [type = '', status = 'True', ...rest] = parts;
  if (rest.length > 0 || type === '') return { error: `--for "${raw}": expected ${FORMS}` };
  const known = CONDITION_TYPES.find((t) => t.toLowerCase() === type.toLowerCase());
  if (known === undefined) {
    const hint = didYouMean(type, CONDITION_TYPES);
    return { error: `--for: unknown condition "${type}"${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}; one of ${CONDITION_TYPES.join(', ')}` };
  }
  const wanted = STATUSES.find((s) => s.toLowerCase() === status.toLowerCase());
  if (wanted === undefined) return { error: `--for ${known}=${status}: the status must be True, False or Unknown` };
  return { kind: 'condition', type: known, status: wanted };
}

/** The text a goal is shown as in messages: `Programmed=True`, `delete`, `canary=Succeeded`. */
export function goalText(goal: WaitGoal): string {
  switch (goal.kind) {
    case 'condition':
      return `${goal.type}=${goal.status}`;
    case 'delete':
      return 'delete';
    case 'canary':
      return `canary=${goal.phase}`;
  }
}

/**
 * `Accepted=False` reasons that only a new spec can change: the object is left out for good, so a
 * wait for any other condition ends at once (exit 1) instead of running into its timeout. Missing
 * references (ServiceClusterNotFound, BackendNotFound, SecretNotFound…) are worth waiting for: the
 * missing object may be created meanwhile.
 */
export const FINAL_REJECTIONS: readonly Reason[] = ['Invalid', 'HostConflict', 'DefaultBackendConflict', 'UnsupportedValue'];

/**
 * `Programmed=False` reasons that waiting cannot change either: the cluster's rendered config failed
 * validation (`Invalid`: the proxies keep the last good one until a spec changes), or Docker refused the
 * write for good (`Rejected`: the core does not retry the same write, docs/adr/0010). Other reasons
 * (`Pending`, `DockerUnavailable`, `Conflict`, a cluster not Ready because Swarm finds no node) can clear.
 */
export const FINAL_PROGRAMMED_FAILURES: readonly Reason[] = ['Invalid', 'Rejected'];

/** A condition goal against the conditions of the object's current generation (undefined: not observed yet). */
export function probeConditionGoal(goal: Extract<WaitGoal, { kind: 'condition' }>, generation: number, conditions: readonly StatusCondition[] | undefined): Probe {
  if (conditions === undefined) return { verdict: 'pending', last: `generation ${generation} not observed by the core yet` };
  const c = conditions.find((x) => x.type === goal.type);
  if (c !== undefined && c.status === goal.status) return { verdict: 'met', message: `${c.type}=${c.status}` };
  const rejected = conditions.find((x) => x.type === 'Accepted' && x.status === 'False' && (FINAL_REJECTIONS as readonly string[]).includes(x.reason));
  if (rejected !== undefined) {
    return { verdict: 'lost', message: `generation ${generation} is not accepted (${rejected.reason}): ${rejected.message}; apply a corrected spec` };
  }
  const refused = conditions.find((x) => x.type === 'Programmed' && x.status === 'False' && (FINAL_PROGRAMMED_FAILURES as readonly string[]).includes(x.reason));
  if (refused !== undefined) {
    return { verdict: 'lost', message: `generation ${generation} cannot be programmed (${refused.reason}): ${refused.message}; apply a corrected spec` };
  }
  // The cause is often on another condition (a missing secret on ResolvedRefs while Programmed is Pending): name those too.
  const causes = conditions.filter((x) => x !== c && x.type !== goal.type && (x.type === 'Accepted' || x.type === 'ResolvedRefs') && x.status !== 'True').map((x) => `; ${x.type}=${x.status} (${x.reason}): ${x.message}`);
  return { verdict: 'pending', last: `${c === undefined ? `generation ${generation} has no ${goal.type} condition` : `${c.type}=${c.status} (${c.reason}): ${c.message}`}${causes.join('')}` };
}
