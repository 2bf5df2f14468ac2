import { Observable, Subscription, defer } from 'rxjs';
import type { ObservableInput, OperatorFunction } from 'rxjs';

/**
 * Run one job per trigger, one at a time, with at most one run queued behind it.
 *
 * Why not the stock flattening operators:
 * - `switchMap` unsubscribes the running job when a new trigger arrives; for a reconcile run that
 *   is a half-done write (a config created but the service not yet updated). Never cancel.
 * - `exhaustMap` ignores triggers that arrive while a job runs; the change that caused such a
 *   trigger may not have been visible to the run's snapshot, so it would be lost until the next
 *   resync. Never drop.
 * - `concatMap` keeps every trigger, so a burst of N events costs N full runs even though one
 *   run after the burst already sees the whole state.
 *
 * The loop is level-triggered (each run reads the whole state), so every trigger that arrives
 * during a run is satisfied by ONE run that starts after it: triggers arriving during a run are
 * coalesced into a single queued run, which receives the latest of them and starts as soon as
 * the current run ends. A trigger that arrives while idle starts a run at once.
 *
 * Errors: a job that errors errors the output (the reconcile loop wraps its job so that it never
 * errors; see loop.ts). A source error waits for the running job to finish, so that even then no
 * write is cut in half, drops any queued run, and is then forwarded. Completion of the source
 * likewise waits for the running and the queued run. Unsubscribing from the output is the one
 * thing that does cancel the running job: that is shutdown, the caller asked for it.
 */
export function oneRunPlusOneQueued<T, R>(job: (trigger: T) => ObservableInput<R>): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      // Owns the source subscription and the running job; a finished job removes itself from it.
      const subscriptions = new Subscription();
      let running = false;
      let queued: { readonly trigger: T } | undefined;
      let sourceDone = false;
      let sourceError: { readonly error: unknown } | undefined;

      const afterRun = (): void => {
        running = false;
        if (sourceError !== undefined) {
          subscriber.error(sourceError.error);
          return;
        }
        if (queued !== undefined) {
          const { trigger } = queued;
          queued = undefined;
          start(trigger);
          return;
        }
        if (sourceDone) subscriber.complete();
      };

      const start = (trigger: T): void => {
        running = true;
        // `defer` turns a job that throws synchronously into an error notification.
        subscriptions.add(
          defer(() => job(trigger)).subscribe({
            next: (value) => subscriber.next(value),
            error: (err: unknown) => subscriber.error(err),
            complete: afterRun,
          }),
        );
      };

      subscriptions.add(
        source.subscribe({
          next: (trigger) => {
            if (running) {
              // Latest wins: the value is only a hint, the run reads the whole state anyway.
              queued = { trigger };
            } else {
              start(trigger);
            }
          },
          error: (err: unknown) => {
            if (running) {
              queued = undefined;
              sourceError = { error: err };
            } else {
              subscriber.error(err);
            }
          },
          complete: () => {
            sourceDone = true;
            if (!running) subscriber.complete();
          },
        }),
      );

      return subscriptions;
    });
}
