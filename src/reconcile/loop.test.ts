import { EMPTY, asyncScheduler, firstValueFrom, map, of, take, timer, toArray } from 'rxjs';
import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { TerminalError } from './backoff';
import { reconcileLoop } from './loop';
import type { Outcome, RunResult } from './loop';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** A run that takes `ms` of virtual time and reports `result`. */
const takes = (ts: TestScheduler, ms: number, result: RunResult['result'] = 'applied'): Observable<RunResult> =>
  timer(ms, ts).pipe(map(() => ({ result })));

describe('reconcileLoop', () => {
  it('merges triggers, debounces them, and gives every run one outcome with an increasing seq', () => {
    const ts = newScheduler();
    const calls: number[] = [];
    ts.run(({ hot, expectObservable }) => {
      const events = hot('a 299ms b'); // a@0, b@300
      const specs = hot('10ms c 299ms d'); // c@10, d@310: each lands in the same quiet window as a / b
      const outcomes = reconcileLoop({
        triggers: [events, specs],
        scheduler: ts,
        run: (seq) => {
          calls.push(seq);
          return takes(ts, 50, seq === 1 ? 'applied' : 'unchanged');
        },
      });
      const x: Outcome = { seq: 1, result: 'applied', startedAt: 110, finishedAt: 160, reason: 'Applied' };
      const y: Outcome = { seq: 2, result: 'unchanged', startedAt: 410, finishedAt: 460, reason: 'Unchanged' };
      expectObservable(outcomes).toBe('160ms x 299ms y', { x, y });
    });
    expect(calls).toEqual([1, 2]);
  });

  it('runs at most one extra time for triggers that arrive during a long run', () => {
    const ts = newScheduler();
    const calls: number[] = [];
    ts.run(({ hot, expectObservable }) => {
      // Debounced signals at 100, 300, 500, 700; the first run lasts 1000 ms.
      const events = hot('a 199ms b 199ms c 199ms d');
      const outcomes = reconcileLoop({
        triggers: [events],
        scheduler: ts,
        run: (seq) => {
          calls.push(seq);
          return takes(ts, 1_000);
        },
      });
      expectObservable(outcomes.pipe(map((o) => [o.seq, o.startedAt, o.finishedAt]))).toBe('1100ms x 999ms y', {
        x: [1, 100, 1_100],
        y: [2, 1_100, 2_100],
      });
    });
    expect(calls).toEqual([1, 2]);
  });

  it('is not starved by a constant event stream (max wait), and completes after the last run once triggers complete', () => {
    const ts = newScheduler();
    ts.run(({ expectObservable }) => {
      const flapping = timer(0, 30, ts).pipe(take(40)); // every 30 ms until 1170, then complete
      const outcomes = reconcileLoop({ triggers: [flapping], scheduler: ts, run: () => takes(ts, 10) });
      expectObservable(outcomes.pipe(map((o) => o.startedAt))).toBe('510ms x 509ms y 159ms (z|)', {
        x: 500,
        y: 1_010,
        z: 1_170,
      });
    });
  });

  it('survives a run that keeps throwing: retries with backoff, reports failed, and serves the next trigger', () => {
    const ts = newScheduler();
    const calls: number[] = [];
    ts.run(({ hot, expectObservable }) => {
      const events = hot('a 999ms b'); // debounced to 100 and 1100
      const outcomes = reconcileLoop({
        triggers: [events],
        scheduler: ts,
        backoff: { maxRetries: 2 },
        run: (seq) => {
          calls.push(seq);
          if (seq === 1) throw new Error('connect ECONNRESET');
          return takes(ts, 10);
        },
      });
      // Attempts of run 1 at 100, 200 (+100) and 400 (+200); then it fails and the loop lives on.
      const x: Outcome = {
        seq: 1,
        result: 'failed',
        startedAt: 100,
        finishedAt: 400,
        error: 'connect ECONNRESET',
        reason: 'RetriesExhausted',
      };
      const y: Outcome = { seq: 2, result: 'applied', startedAt: 1_100, finishedAt: 1_110, reason: 'Applied' };
      expectObservable(outcomes).toBe('400ms x 709ms y', { x, y });
    });
    expect(calls).toEqual([1, 1, 1, 2]);
  });

  it('fails a terminal error at once, without retrying', () => {
    const ts = newScheduler();
    const calls: number[] = [];
    ts.run(({ cold, expectObservable }) => {
      const outcomes = reconcileLoop({
        triggers: [cold('a 199ms |')],
        scheduler: ts,
        run: (seq) => {
          calls.push(seq);
          throw new TerminalError('invalid service spec');
        },
      });
      const x: Outcome = {
        seq: 1,
        result: 'failed',
        startedAt: 100,
        finishedAt: 100,
        error: 'invalid service spec',
        reason: 'TerminalError',
      };
      // The trigger (a@0, complete@200) is debounced to 100; the loop completes with its trigger.
      expectObservable(outcomes).toBe('100ms x 99ms |', { x });
    });
    expect(calls).toEqual([1]);
  });

  it('re-runs a conflict at once with the same seq (a fresh snapshot, no backoff)', () => {
    const ts = newScheduler();
    const calls: number[] = [];
    ts.run(({ cold, expectObservable }) => {
      const outcomes = reconcileLoop({
        triggers: [cold('a 199ms |')],
        scheduler: ts,
        run: (seq) => {
          calls.push(seq);
          if (calls.length === 1) throw new Error('rpc error: code = Unknown desc = update out of sequence');
          return takes(ts, 10);
        },
      });
      const x: Outcome = { seq: 1, result: 'applied', startedAt: 100, finishedAt: 110, reason: 'Applied' };
      expectObservable(outcomes).toBe('110ms x 89ms |', { x });
    });
    expect(calls).toEqual([1, 1]);
  });

  it('keeps running when a trigger stream errors, treating the error as one last dirty signal', () => {
    const ts = newScheduler();
    const reported: [number, unknown][] = [];
    const boom = new Error('event stream closed');
    ts.run(({ cold, hot, expectObservable }) => {
      const outcomes = reconcileLoop({
        triggers: [cold('50ms #', undefined, boom), hot('300ms b')],
        scheduler: ts,
        run: () => takes(ts, 10),
        onTriggerError: (index, error) => reported.push([index, error]),
      });
      expectObservable(outcomes.pipe(map((o) => o.seq))).toBe('160ms x 249ms y', { x: 1, y: 2 });
    });
    expect(reported).toEqual([[0, boom]]);
  });

  it('reports a run that completes without a result as a terminal failure', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const outcomes = reconcileLoop({ triggers: [cold('a 199ms |')], scheduler: ts, run: () => EMPTY });
      expectObservable(outcomes.pipe(map((o) => [o.result, o.reason, o.error]))).toBe('100ms x 99ms |', {
        x: ['failed', 'TerminalError', 'run 1 completed without a result'],
      });
    });
  });

  it('works with Promise runs on a real scheduler: a rejected attempt is retried, then applied', async () => {
    let attempts = 0;
    const outcomes = reconcileLoop({
      triggers: [of('startup')],
      scheduler: asyncScheduler,
      quietMs: 0,
      maxWaitMs: 0,
      backoff: { initialDelayMs: 1 },
      run: async () => {
        attempts++;
        if (attempts === 1) throw new Error('socket hang up');
        return { result: 'applied', reason: 'ConfigsUpdated' };
      },
    });
    const all = await firstValueFrom(outcomes.pipe(toArray()));
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ seq: 1, result: 'applied', reason: 'ConfigsUpdated' });
    expect(all[0]?.finishedAt).toBeGreaterThanOrEqual(all[0]?.startedAt ?? Number.POSITIVE_INFINITY);
    expect(attempts).toBe(2);
  });

  it('rejects a bad timing configuration when built, not later', () => {
    expect(() => reconcileLoop({ triggers: [], scheduler: asyncScheduler, run: () => EMPTY, quietMs: 600 })).toThrow(
      RangeError,
    );
  });
});
