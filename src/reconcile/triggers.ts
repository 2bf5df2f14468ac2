import { interval, timer } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';

/**
 * Time-based triggers. Docker events are lossy (a 256-event replay buffer, slow consumers are
 * dropped, no task events in swarm scope), so the loop cannot rely on them alone:
 * - a task poll (≤ 1 s) notices tasks starting, failing and draining; its consumer (the observed
 *   layer) hashes the task list and only signals "dirty" when the hash changed;
 * - a full resync (30 s) bounds how long any missed change can go unnoticed.
 * They only say "look again"; the emitted tick counts carry no meaning for the plan.
 */

/** Half a second: the poll is one task listing, and it bounds how soon a new task is routed. */
export const DEFAULT_TASK_POLL_MS = 500;
export const DEFAULT_RESYNC_MS = 30_000;

function checkPeriod(periodMs: number): void {
  if (!Number.isFinite(periodMs) || periodMs <= 0) {
    throw new RangeError(`periodMs must be a finite number > 0, got ${periodMs}`);
  }
}

/**
 * Full resync: fires at subscription and then every `periodMs`. The first tick is the startup
 * sync, so a restarted core converges without waiting a whole period for its first run.
 */
export function resync$(periodMs: number, scheduler: SchedulerLike): Observable<number> {
  checkPeriod(periodMs);
  return timer(0, periodMs, scheduler);
}

/** Poll tick: every `periodMs`, first after one period (startup is covered by `resync$`). */
export function poll$(periodMs: number, scheduler: SchedulerLike): Observable<number> {
  checkPeriod(periodMs);
  return interval(periodMs, scheduler);
}
