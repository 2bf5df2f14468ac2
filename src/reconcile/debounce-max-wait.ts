import { Observable } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscription } from 'rxjs';

/** Production hold-off: wait this long after the last dirty signal before running (architecture §4). */
export const DEFAULT_QUIET_MS = 100;
/** Production ceiling: a burst never delays a run by more than this after its first signal. */
export const DEFAULT_MAX_WAIT_MS = 500;

/**
 * Debounce with a ceiling.
 *
 * Plain `debounceTime` waits for silence, so a source that never goes quiet (a service flapping,
 * a rolling update emitting an event every 50 ms) would starve the reconcile loop forever.
 * Here a "burst" starts with the first value after an emission; the latest value of the burst is
 * emitted when the source has been quiet for `quietMs`, or at the latest `maxWaitMs` after the
 * burst's first value, whichever comes first. The next value after that starts a new burst with
 * its own deadline. This is the hold-off / max-wait shape of Contour's event handler.
 *
 * Only the latest value is kept: the loop is level-triggered, a value only means "look again".
 * On completion a pending value is flushed first (as `debounceTime` does), so a final change is
 * never lost. Time comes from the injected scheduler so marble tests control it.
 */
export function debounceWithMaxWait<T>(
  quietMs: number,
  maxWaitMs: number,
  scheduler: SchedulerLike,
): MonoTypeOperatorFunction<T> {
  if (!Number.isFinite(quietMs) || quietMs < 0) {
    throw new RangeError(`quietMs must be a finite number >= 0, got ${quietMs}`);
  }
  // A ceiling below the quiet period would silently turn this into a fixed-delay throttle;
  // reject the configuration instead of guessing what was meant.
  if (!Number.isFinite(maxWaitMs) || maxWaitMs < quietMs) {
    throw new RangeError(`maxWaitMs must be a finite number >= quietMs (${quietMs}), got ${maxWaitMs}`);
  }

  return (source) =>
    new Observable<T>((subscriber) => {
      // Boxed so that `undefined` is a legal value of T and still distinguishable from "nothing pending".
      let pending: { readonly value: T } | undefined;
      let burstStartedAt = 0;
      // One timer is enough: its due time is min(last value + quiet, burst start + max wait).
      let timer: Subscription | undefined;

      const emitPending = (): void => {
        if (pending === undefined) return;
        const { value } = pending;
        pending = undefined;
        subscriber.next(value);
      };

      const cancelTimer = (): void => {
        timer?.unsubscribe();
        timer = undefined;
      };

      const sourceSubscription = source.subscribe({
        next: (value) => {
          const now = scheduler.now();
          if (pending === undefined) burstStartedAt = now;
          pending = { value };
          const untilDeadline = burstStartedAt + maxWaitMs - now;
          const delay = Math.max(0, Math.min(quietMs, untilDeadline));
          cancelTimer();
          timer = scheduler.schedule(() => {
            timer = undefined;
            emitPending();
          }, delay);
        },
        error: (err: unknown) => {
          cancelTimer();
          subscriber.error(err);
        },
        complete: () => {
          cancelTimer();
          emitPending();
          subscriber.complete();
        },
      });

      return () => {
        sourceSubscription.unsubscribe();
        cancelTimer();
      };
    });
}
