import { catchError, defer, map, merge, of, takeLast, throwIfEmpty } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import { GaveUp, TerminalError, retryWithBackoff } from './backoff';
import type { BackoffOptions, Classify } from './backoff';
import { DEFAULT_MAX_WAIT_MS, DEFAULT_QUIET_MS, debounceWithMaxWait } from './debounce-max-wait';
import { oneRunPlusOneQueued } from './one-run-plus-one-queued';

/** What one successful run reports: did it write anything, and a short CamelCase reason. */
export interface RunResult {
  readonly result: 'applied' | 'unchanged';
  /** Defaults to `Applied` / `Unchanged`. */
  readonly reason?: string;
}

/**
 * One record per run, in run order. `seq` increases by one per run, so tests and the status API
 * can wait for "the run after my change" instead of sleeping. Times come from the scheduler.
 */
export interface Outcome {
  readonly seq: number;
  readonly result: 'applied' | 'unchanged' | 'failed';
  /** When the run's first attempt started. */
  readonly startedAt: number;
  /** When the run ended: after the last attempt, including any backoff waits. */
  readonly finishedAt: number;
  /** Message of the last error; only on `failed`. */
  readonly error?: string;
  /**
   * `Applied`/`Unchanged` (or the run's own reason), or why it failed: `TerminalError`,
   * `RetriesExhausted` (transient errors), `ConflictRetriesExhausted`.
   */
  readonly reason: string;
}

export interface ReconcileLoopOptions {
  /** Dirty signals (docker events, spec changes, task poll, resync); their values are ignored. */
  readonly triggers: readonly Observable<unknown>[];
  /**
   * One full reconcile: snapshot, model, diff, apply, status. Called again with the SAME seq
   * when an attempt is retried. A Promise in production; an Observable lets marble tests give a
   * run a duration in virtual time. An Observable run ends when it completes; its last value wins.
   */
  readonly run: (seq: number) => Promise<RunResult> | Observable<RunResult>;
  readonly scheduler: SchedulerLike;
  readonly quietMs?: number;
  readonly maxWaitMs?: number;
  readonly classify?: Classify;
  /** Backoff tuning; defaults are in backoff.ts (100 ms doubling to 5 s, 8 retries). */
  readonly backoff?: Omit<BackoffOptions, 'scheduler' | 'classify'>;
  /**
   * Told when a trigger stream errors. The loop itself survives: the error counts as one last
   * "look again" (something may have changed unseen) and that trigger ends; resubscribing it
   * (e.g. reconnecting the docker event stream) belongs to whoever owns the stream.
   */
  readonly onTriggerError?: (index: number, error: unknown) => void;
}

function failureReason(error: unknown): string {
  if (!(error instanceof GaveUp)) return 'Error';
  switch (error.errorClass) {
    case 'terminal':
      return 'TerminalError';
    case 'conflict':
      return 'ConflictRetriesExhausted';
    case 'transient':
      return 'RetriesExhausted';
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The reconcile loop (architecture §4):
 *   merge(triggers) → debounce 100 ms / max 500 ms → one run at a time + at most one queued → outcome$
 * with each run's attempts retried by error class. Errors are data: every run ends in exactly one
 * Outcome, a failed run included, and the loop keeps listening. The output completes only when
 * every trigger has completed and the last run has ended (in production the resync never ends).
 */
export function reconcileLoop(options: ReconcileLoopOptions): Observable<Outcome> {
  const { triggers, run, scheduler, onTriggerError } = options;
  const quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const backoff: BackoffOptions = {
    ...options.backoff,
    scheduler,
    ...(options.classify === undefined ? {} : { classify: options.classify }),
  };

  const dirty$ = merge(
    ...triggers.map((trigger, index) =>
      trigger.pipe(
        catchError((error: unknown) => {
          onTriggerError?.(index, error);
          return of(undefined);
        }),
      ),
    ),
  );

  // Built here, not per subscription, so a bad configuration throws at once where it is passed.
  const debounce = debounceWithMaxWait<unknown>(quietMs, maxWaitMs, scheduler);
  const retryRun = retryWithBackoff<RunResult>(backoff);

  // Per subscription: each subscriber of the returned observable is its own loop with its own seq.
  return defer(() => {
    let lastSeq = 0;
    const oneRun = (): Observable<Outcome> =>
      defer(() => {
        const seq = ++lastSeq;
        const startedAt = scheduler.now();
        // Inner defer: every retry calls `run` again, i.e. takes a fresh snapshot.
        return defer(() => run(seq)).pipe(
          takeLast(1),
          // A run that completes without a result is a bug in the run, not something to retry.
          throwIfEmpty(() => new TerminalError(`run ${seq} completed without a result`)),
          retryRun,
          map(
            (r): Outcome => ({
              seq,
              result: r.result,
              startedAt,
              finishedAt: scheduler.now(),
              reason: r.reason ?? (r.result === 'applied' ? 'Applied' : 'Unchanged'),
            }),
          ),
          catchError((error: unknown) =>
            of<Outcome>({
              seq,
              result: 'failed',
              startedAt,
              finishedAt: scheduler.now(),
              error: errorMessage(error),
              reason: failureReason(error),
            }),
          ),
        );
      });

    return dirty$.pipe(debounce, oneRunPlusOneQueued(oneRun));
  });
}
