import { defer, of, retry, throwError, timer } from 'rxjs';
import type { MonoTypeOperatorFunction, Observable, SchedulerLike } from 'rxjs';

/**
 * How a failed attempt is retried.
 * - `transient`: the engine was busy, a socket dropped, a manager was re-electing: wait, try again,
 *   waiting longer each time so a struggling engine is not hammered.
 * - `conflict`: Docker's `update out of sequence`: someone changed the object after we read its
 *   version. Waiting fixes nothing; the fix is to re-read state, which the next attempt does
 *   (every attempt takes a fresh snapshot), so it is retried at once.
 * - `terminal`: retrying cannot help (the request itself is invalid); fail now.
 */
export type ErrorClass = 'transient' | 'conflict' | 'terminal';
export type Classify = (error: unknown) => ErrorClass;

/**
 * Marks an error that retrying cannot fix (controller-runtime's terminal-error idea). Edges wrap
 * errors they know are permanent, e.g. a 400 from the engine, so the core needs no Docker knowledge.
 */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

const OUT_OF_SEQUENCE = /update out of sequence/i;

/** Anything not known to be terminal or a conflict is assumed transient: retrying is the safe default. */
export const defaultClassify: Classify = (error) => {
  if (error instanceof TerminalError) return 'terminal';
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  return OUT_OF_SEQUENCE.test(message) ? 'conflict' : 'transient';
};

export const DEFAULT_INITIAL_DELAY_MS = 100;
export const DEFAULT_MAX_DELAY_MS = 5_000;
/** 100+200+400+800+1600+3200+5000+5000 ms: about 16 s of retrying before a run reports `failed`. */
export const DEFAULT_MAX_RETRIES = 8;
/** Immediate retries for conflicts; a conflict that keeps recurring means a writer fights us. */
export const DEFAULT_MAX_CONFLICT_RETRIES = 3;

export interface BackoffOptions {
  readonly scheduler: SchedulerLike;
  readonly classify?: Classify;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Retries after transient errors (so at most maxRetries + 1 transient attempts). */
  readonly maxRetries?: number;
  /** Immediate retries after conflicts; counted separately so conflicts do not eat the backoff budget. */
  readonly maxConflictRetries?: number;
}

/**
 * Raised when retrying stops, carrying why, so the loop can report a precise reason instead of
 * a bare error: which class of error ended it, after how many attempts, and the last error.
 */
export class GaveUp extends Error {
  readonly errorClass: ErrorClass;
  readonly attempts: number;
  readonly lastError: unknown;

  constructor(errorClass: ErrorClass, attempts: number, lastError: unknown) {
    super(lastError instanceof Error ? lastError.message : String(lastError), { cause: lastError });
    this.name = 'GaveUp';
    this.errorClass = errorClass;
    this.attempts = attempts;
    this.lastError = lastError;
  }
}

/**
 * Delay before the `retry`-th transient retry (1-based): initial, doubling, capped.
 * Pure so the schedule can be read and tested without running anything.
 */
export function backoffDelay(retry: number, initialDelayMs: number, maxDelayMs: number): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry must be an integer >= 1, got ${retry}`);
  // 2 ** large is Infinity, never NaN, so the cap always applies.
  return Math.min(maxDelayMs, initialDelayMs * 2 ** (retry - 1));
}

/**
 * Resubscribe to the source (i.e. re-run the attempt) after errors, by error class: transient
 * errors with exponential backoff on the injected scheduler, conflicts at once, terminal errors
 * never. When it stops it errors with a `GaveUp`; turning that into a `failed` outcome (so the loop
 * keeps listening) is the loop's job, which keeps this operator reusable.
 *
 * The counters live inside `defer`, so each subscription (each run) starts with a fresh budget.
 */
export function retryWithBackoff<T>(options: BackoffOptions): MonoTypeOperatorFunction<T> {
  const {
    scheduler,
    classify = defaultClassify,
    initialDelayMs = DEFAULT_INITIAL_DELAY_MS,
    maxDelayMs = DEFAULT_MAX_DELAY_MS,
    maxRetries = DEFAULT_MAX_RETRIES,
    maxConflictRetries = DEFAULT_MAX_CONFLICT_RETRIES,
  } = options;
  for (const [name, value] of [
    ['initialDelayMs', initialDelayMs],
    ['maxDelayMs', maxDelayMs],
    ['maxRetries', maxRetries],
    ['maxConflictRetries', maxConflictRetries],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  }

  return (source: Observable<T>) =>
    defer(() => {
      let attempts = 1;
      let transientRetries = 0;
      let conflictRetries = 0;
      return source.pipe(
        retry({
          delay: (error: unknown) => {
            const errorClass = classify(error);
            if (errorClass === 'conflict' && conflictRetries < maxConflictRetries) {
              conflictRetries++;
              attempts++;
              return of(0);
            }
            if (errorClass === 'transient' && transientRetries < maxRetries) {
              transientRetries++;
              attempts++;
              return timer(backoffDelay(transientRetries, initialDelayMs, maxDelayMs), scheduler);
            }
            return throwError(() => new GaveUp(errorClass, attempts, error));
          },
        }),
      );
    });
}
