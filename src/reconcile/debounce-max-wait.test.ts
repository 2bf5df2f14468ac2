import { take, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { debounceWithMaxWait } from './debounce-max-wait';

// Marble frames are milliseconds: a value takes one frame, `Nms ` advances N frames.
const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('debounceWithMaxWait', () => {
  it('emits only the latest value, once the source has been quiet for quietMs', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable }) => {
      // a@0, b@50, c@250, complete@550
      const source = hot('a 49ms b 199ms c 299ms |');
      // a is superseded by b; b goes out 100 ms after b, c 100 ms after c.
      expectObservable(source.pipe(debounceWithMaxWait(100, 500, ts))).toBe('150ms b 199ms c 199ms |');
    });
  });

  it('emits at maxWait after the first value of a burst when the source never goes quiet', () => {
    const ts = newScheduler();
    ts.run(({ expectObservable }) => {
      // A value every 30 ms (0, 30, …, 1170), then completion at 1170: never 100 ms of quiet.
      // Plain debounceTime(100) would emit nothing before 1170.
      const constant = timer(0, 30, ts).pipe(take(40));
      // Burst 1 starts at 0 → emit the latest (16, sent at 480) at 500.
      // Burst 2 starts with 17 at 510 → its own deadline 1010 → emit 33 (sent at 990).
      // Burst 3 (34…39) is flushed when the source completes.
      expectObservable(constant.pipe(debounceWithMaxWait(100, 500, ts))).toBe('500ms a 509ms b 159ms (c|)', {
        a: 16,
        b: 33,
        c: 39,
      });
    });
  });

  it('keeps undefined as a value (boxing) and flushes it on completion', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('u 9ms |', { u: undefined });
      expectObservable(source.pipe(debounceWithMaxWait(100, 500, ts))).toBe('10ms (u|)', { u: undefined });
    });
  });

  it('cancels the pending emission on unsubscribe', () => {
    const ts = newScheduler();
    ts.run(({ hot, expectObservable }) => {
      const source = hot('a 99ms b');
      // Unsubscribed at 60: the value a would have left at 100, so nothing is emitted.
      expectObservable(source.pipe(debounceWithMaxWait(100, 500, ts)), '60ms !').toBe('');
    });
  });

  it('forwards errors at once and drops the pending value', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const source = cold('a 9ms #', undefined, new Error('boom'));
      expectObservable(source.pipe(debounceWithMaxWait(100, 500, ts))).toBe('10ms #', undefined, new Error('boom'));
    });
  });

  it('rejects a max wait below the quiet period and negative times', () => {
    const ts = newScheduler();
    expect(() => debounceWithMaxWait(100, 50, ts)).toThrow(RangeError);
    expect(() => debounceWithMaxWait(-1, 500, ts)).toThrow(RangeError);
    expect(() => debounceWithMaxWait(100, Number.NaN, ts)).toThrow(RangeError);
  });
});
