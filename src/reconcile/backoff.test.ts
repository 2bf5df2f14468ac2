import { defer, of, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { GaveUp, TerminalError, backoffDelay, defaultClassify, retryWithBackoff } from './backoff';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const conflict = (): Error => new Error('rpc error: code = Unknown desc = update out of sequence');
const transient = (): Error => new Error('connect ECONNRESET');

/**
 * An attempt that fails with the given errors in order, then succeeds with 'ok' (if the list runs out).
 * Records the virtual time of every attempt, which is what the backoff schedule is about.
 */
function scriptedAttempts(ts: TestScheduler, errors: readonly Error[]): { attempt$: Observable<string>; times: number[] } {
  const times: number[] = [];
  const attempt$ = defer(() => {
    const error = errors[times.length];
    times.push(ts.now());
    return error === undefined ? of('ok') : throwError(() => error);
  });
  return { attempt$, times };
}

describe('backoffDelay', () => {
  it('starts at the initial delay, doubles, and is capped', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, 100, 5_000))).toEqual([
      100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000,
    ]);
    // Far beyond the exponent range the cap still holds (2 ** 2000 is Infinity, not NaN).
    expect(backoffDelay(2_000, 100, 5_000)).toBe(5_000);
    expect(() => backoffDelay(0, 100, 5_000)).toThrow(RangeError);
  });
});

describe('defaultClassify', () => {
  it('classifies update-out-of-sequence as conflict, TerminalError as terminal, the rest as transient', () => {
    expect(defaultClassify(conflict())).toBe('conflict');
    expect(defaultClassify('update out of sequence')).toBe('conflict');
    expect(defaultClassify(new TerminalError('invalid spec'))).toBe('terminal');
    expect(defaultClassify(transient())).toBe('transient');
    expect(defaultClassify(42)).toBe('transient');
  });
});

describe('retryWithBackoff', () => {
  it('retries transient errors after 100, 200, 400 … ms, capped at 5 s, then gives up with GaveUp', () => {
    const ts = newScheduler();
    const { attempt$, times } = scriptedAttempts(ts, Array.from({ length: 20 }, transient));
    let gaveUp: unknown;
    let gaveUpAt = -1;
    ts.run(() => {
      // Default budget: 8 retries. One subscription, observed directly so the error object can be inspected.
      attempt$.pipe(retryWithBackoff<string>({ scheduler: ts })).subscribe({
        error: (e: unknown) => {
          gaveUp = e;
          gaveUpAt = ts.now();
        },
      });
    });
    expect(gaveUpAt).toBe(16_300);
    // Gaps: 100, 200, 400, 800, 1600, 3200, 5000 (cap), 5000.
    expect(times).toEqual([0, 100, 300, 700, 1_500, 3_100, 6_300, 11_300, 16_300]);
    expect(gaveUp).toBeInstanceOf(GaveUp);
    expect(gaveUp).toMatchObject({ errorClass: 'transient', attempts: 9, message: 'connect ECONNRESET' });
  });

  it('succeeds once an attempt succeeds, after the backoff waits', () => {
    const ts = newScheduler();
    const { attempt$, times } = scriptedAttempts(ts, [transient(), transient()]);
    ts.run(({ expectObservable }) => {
      expectObservable(attempt$.pipe(retryWithBackoff<string>({ scheduler: ts }))).toBe('300ms (v|)', { v: 'ok' });
    });
    expect(times).toEqual([0, 100, 300]);
  });

  it('retries a conflict at once, without waiting and without advancing the backoff exponent', () => {
    const ts = newScheduler();
    const { attempt$, times } = scriptedAttempts(ts, [conflict(), transient(), conflict(), transient()]);
    ts.run(({ expectObservable }) => {
      expectObservable(attempt$.pipe(retryWithBackoff<string>({ scheduler: ts }))).toBe('300ms (v|)', { v: 'ok' });
    });
    // conflict → same frame; transient → +100; conflict → same frame; transient → +200 (second transient retry).
    expect(times).toEqual([0, 0, 100, 100, 300]);
  });

  it('gives up after maxConflictRetries immediate retries of a recurring conflict', () => {
    const ts = newScheduler();
    const { attempt$, times } = scriptedAttempts(ts, Array.from({ length: 10 }, conflict));
    let gaveUp: unknown;
    ts.run(() => {
      attempt$.pipe(retryWithBackoff<string>({ scheduler: ts, maxConflictRetries: 2 })).subscribe({
        error: (e: unknown) => (gaveUp = e),
      });
    });
    expect(times).toEqual([0, 0, 0]);
    expect(gaveUp).toMatchObject({ errorClass: 'conflict', attempts: 3 });
  });

  it('does not retry a terminal error', () => {
    const ts = newScheduler();
    const { attempt$, times } = scriptedAttempts(ts, [new TerminalError('bad request')]);
    let gaveUp: unknown;
    ts.run(() => {
      attempt$.pipe(retryWithBackoff<string>({ scheduler: ts })).subscribe({ error: (e: unknown) => (gaveUp = e) });
    });
    expect(times).toEqual([0]);
    expect(gaveUp).toMatchObject({ errorClass: 'terminal', attempts: 1, message: 'bad request' });
  });

  it('uses the injected classifier and tuning', () => {
    const ts = newScheduler();
    // Every error is a conflict according to this classifier, so even a "transient-looking" error is retried at once.
    const { attempt$, times } = scriptedAttempts(ts, [transient(), transient()]);
    ts.run(() => {
      attempt$.pipe(retryWithBackoff<string>({ scheduler: ts, classify: () => 'conflict' })).subscribe();
    });
    expect(times).toEqual([0, 0, 0]);

    const ts2 = newScheduler();
    const scripted = scriptedAttempts(ts2, Array.from({ length: 10 }, transient));
    ts2.run(() => {
      scripted.attempt$
        .pipe(retryWithBackoff<string>({ scheduler: ts2, initialDelayMs: 10, maxDelayMs: 25, maxRetries: 4 }))
        .subscribe({ error: () => undefined });
    });
    expect(scripted.times).toEqual([0, 10, 30, 55, 80]);
  });

  it('gives each subscription a fresh retry budget', () => {
    const ts = newScheduler();
    const { attempt$, times } = scriptedAttempts(ts, [transient(), transient(), transient(), transient()]);
    const retried = attempt$.pipe(retryWithBackoff<string>({ scheduler: ts, maxRetries: 1 }));
    ts.run(() => {
      retried.subscribe({ error: () => undefined }); // attempts at 0 and 100, then gives up
      // A later subscription gets a new budget: a first attempt and one retry again.
      ts.schedule(() => retried.subscribe({ error: () => undefined }), 1_000);
    });
    expect(times).toEqual([0, 100, 1_000, 1_100]);
  });
});
