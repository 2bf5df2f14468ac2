import { firstValueFrom, from, map, tap, timer, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { oneRunPlusOneQueued } from './one-run-plus-one-queued';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('oneRunPlusOneQueued', () => {
  it('coalesces three triggers that arrive during a long run into exactly one extra run, with the latest trigger', () => {
    const ts = newScheduler();
    const starts: [string, number][] = [];
    ts.run(({ hot, expectObservable }) => {
      // a@0 starts a 100 ms run; b@10, c@20, d@30 arrive while it runs; source completes at 40.
      const triggers = hot<string>('a 9ms b 9ms c 9ms d 9ms |');
      const job = (t: string) => {
        starts.push([t, ts.now()]);
        return timer(100, ts).pipe(map(() => t));
      };
      // Output completes only after the queued run ended, not when the source completed.
      expectObservable(triggers.pipe(oneRunPlusOneQueued(job))).toBe('100ms a 99ms (d|)');
    });
    expect(starts).toEqual([
      ['a', 0],
      ['d', 100],
    ]);
  });

  it('never cancels a running job when a new trigger arrives (unlike switchMap)', () => {
    const ts = newScheduler();
    ts.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      // The job writes in two steps: s (start) at +50, e (end) at +100.
      const steps = cold('50ms s 49ms (e|)');
      const triggers = hot('a 59ms b 9ms |'); // b@60 arrives between a's two steps
      const job = (t: string) => steps.pipe(map((step) => `${t}${step}`));
      expectObservable(triggers.pipe(oneRunPlusOneQueued(job))).toBe('50ms w 49ms x 49ms y 49ms (z|)', {
        w: 'as',
        x: 'ae',
        y: 'bs',
        z: 'be',
      });
      // a's job ran its full 100 frames (to its own completion), then b's job started right after.
      expectSubscriptions(steps.subscriptions).toBe(['^ 99ms !', '100ms ^ 99ms !']);
    });
  });

  it('starts at once when idle, and queues again for triggers that arrive during the queued run', () => {
    const ts = newScheduler();
    const starts: [string, number][] = [];
    ts.run(({ hot, expectObservable }) => {
      // a@0 runs 0-100; b@50 is queued → 100-200; c@150 arrives during b → 200-300; d@400 finds it idle.
      const triggers = hot<string>('a 49ms b 99ms c 249ms d 9ms |');
      const job = (t: string) => {
        starts.push([t, ts.now()]);
        return timer(100, ts).pipe(map(() => t));
      };
      expectObservable(triggers.pipe(oneRunPlusOneQueued(job))).toBe('100ms a 99ms b 99ms c 199ms (d|)');
    });
    expect(starts).toEqual([
      ['a', 0],
      ['b', 100],
      ['c', 200],
      ['d', 400],
    ]);
  });

  it('lets the running job finish before forwarding a source error, and drops the queued run', () => {
    const ts = newScheduler();
    const started: string[] = [];
    ts.run(({ hot, expectObservable }) => {
      const triggers = hot<string>('a 9ms b 9ms #', undefined, new Error('events stream closed'));
      const job = (t: string) => timer(100, ts).pipe(
        tap({ subscribe: () => started.push(t) }),
        map(() => t),
      );
      expectObservable(triggers.pipe(oneRunPlusOneQueued(job))).toBe('100ms (a#)', undefined, new Error('events stream closed'));
    });
    expect(started).toEqual(['a']);
  });

  it('accepts Promise jobs and coalesces triggers that arrive while the promise is pending', async () => {
    const started: number[] = [];
    const job = async (t: number): Promise<number> => {
      started.push(t);
      await Promise.resolve();
      return t * 10;
    };
    // 1, 2 and 3 arrive synchronously: 1 runs, 2 is queued, 3 replaces 2 in the queue.
    const results = await firstValueFrom(from([1, 2, 3]).pipe(oneRunPlusOneQueued(job), toArray()));
    expect(results).toEqual([10, 30]);
    expect(started).toEqual([1, 3]);
  });

  it('turns a job that throws synchronously into an error of the output', async () => {
    const job = (): Promise<number> => {
      throw new Error('sync throw');
    };
    await expect(firstValueFrom(from([1]).pipe(oneRunPlusOneQueued(job)))).rejects.toThrow('sync throw');
  });
});
