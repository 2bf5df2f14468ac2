/**
 * Writes Docker rejected for good (a terminal error: a 4xx that is not a race), remembered until an
 * input of the write changes, as controller-runtime does with a TerminalError: the run does not
 * retry them with backoff, and later runs (every trigger, every resync) do not send the same request
 * again. A write is "the same" when its step is (stepKey: target, observed version, whole spec or
 * content), so any change of the specs or the snapshot that changes the write re-attempts it.
 */
import type { Blocked, GroupOutcome, StepFailure } from '../apply/execute-plan';
import { stepKey } from '../plan/writes/steps';

export class TerminalFailures {
  private known = new Map<string, StepFailure>();

  readonly blocked: Blocked = (group, step) => this.known.get(`${group}\u0000${stepKey(step)}`);

  /** Remember this run's terminal failures (fresh and remembered); forget every other. */
  update(outcomes: readonly GroupOutcome[]): void {
    const next = new Map<string, StepFailure>();
    for (const g of outcomes) {
      for (const o of g.outcomes) {
        if (o.result === 'failed' && o.errorClass === 'terminal') next.set(`${g.key}\u0000${stepKey(o.step)}`, { error: o.error, errorClass: o.errorClass });
      }
    }
    this.known = next;
  }

  get size(): number {
    return this.known.size;
  }
}
