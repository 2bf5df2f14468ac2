import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { poll$, resync$ } from './triggers';

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('triggers', () => {
  it('resync$ fires at startup and then every period', () => {
    const ts = newScheduler();
    ts.run(({ expectObservable }) => {
      expectObservable(resync$(30_000, ts), '^ 60000ms !').toBe('a 29999ms b 29999ms c', { a: 0, b: 1, c: 2 });
    });
  });

  it('poll$ fires every period, first after one period', () => {
    const ts = newScheduler();
    ts.run(({ expectObservable }) => {
      expectObservable(poll$(1_000, ts), '^ 3000ms !').toBe('1000ms a 999ms b 999ms c', { a: 0, b: 1, c: 2 });
    });
  });

  it('rejects periods that would spin or never fire', () => {
    const ts = newScheduler();
    expect(() => poll$(0, ts)).toThrow(RangeError);
    expect(() => resync$(Number.POSITIVE_INFINITY, ts)).toThrow(RangeError);
  });
});
