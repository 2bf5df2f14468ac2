import { describe, expect, it } from 'vitest';
import { ReloadPacer, type PacerClock } from './reload-pacer';

/** A manual clock: timers fire when the test advances time. */
function manualClock(): PacerClock & { advance(ms: number): Promise<void> } {
  let now = 0;
  let timers: { at: number; f: () => void; id: number }[] = [];
  let next = 1;
  return {
    now: () => now,
    setTimeout: (f, ms) => {
      const id = next++;
      timers.push({ at: now + ms, f, id });
      return id;
    },
    clearTimeout: (h) => {
      timers = timers.filter((t) => t.id !== h);
    },
    async advance(ms: number) {
      // Let work started at the current time finish before time moves.
      await new Promise((r) => setImmediate(r));
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.f();
        await new Promise((r) => setImmediate(r));
      }
      now = end;
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('ReloadPacer', () => {
  it('applies a lone change at once and paces a burst with a doubling gap, latest wins', async () => {
    const clock = manualClock();
    const applied: { at: number; item: number }[] = [];
    const pacer = new ReloadPacer<number>(async (item) => {
      applied.push({ at: clock.now(), item });
      return true;
    }, { firstGapMs: 1500, maxGapMs: 8000 }, clock);
    // 100 changes 200 ms apart (the bench's burst).
    for (let i = 0; i < 100; i++) {
      pacer.offer(i);
      await clock.advance(200);
    }
    await clock.advance(20_000);
    expect(applied[0]).toEqual({ at: 0, item: 0 });
    expect(applied.map((a) => a.at)).toEqual([0, 1500, 4500, 10500, 18500, 26500]);
    expect(applied.at(-1)?.item).toBe(99);
    // Any 10 s window of the burst has at most 3 reloads.
    for (const a of applied) expect(applied.filter((b) => b.at >= a.at && b.at < a.at + 10_000).length).toBeLessThanOrEqual(3);
    // After a quiet period a change applies at once again.
    await clock.advance(20_000);
    const before = clock.now();
    pacer.offer(1000);
    await clock.advance(0);
    expect(applied.at(-1)).toEqual({ at: before, item: 1000 });
  });

  it('does not count items that did not reload (same config, refused config)', async () => {
    const clock = manualClock();
    const applied: number[] = [];
    const pacer = new ReloadPacer<number>(async (item) => {
      applied.push(item);
      return item % 2 === 0;
    }, { firstGapMs: 1000, maxGapMs: 8000 }, clock);
    pacer.offer(1);
    await clock.advance(10);
    pacer.offer(3);
    await clock.advance(10);
    pacer.offer(4);
    await clock.advance(10);
    expect(applied).toEqual([1, 3, 4]);
    pacer.offer(6);
    await clock.advance(10);
    expect(applied).toEqual([1, 3, 4]);
    await clock.advance(1000);
    expect(applied).toEqual([1, 3, 4, 6]);
  });

  it('applies an urgent item at once, even inside a gap', async () => {
    const clock = manualClock();
    const applied: { at: number; item: number }[] = [];
    const pacer = new ReloadPacer<number>(async (item) => {
      applied.push({ at: clock.now(), item });
      return true;
    }, { firstGapMs: 1500, maxGapMs: 8000 }, clock);
    pacer.offer(1);
    await clock.advance(100);
    pacer.offer(2);
    await clock.advance(100);
    pacer.offer(3, true);
    await clock.advance(0);
    expect(applied).toEqual([{ at: 0, item: 1 }, { at: 200, item: 3 }]);
    // The paced item was replaced by the urgent one: nothing more to apply.
    await clock.advance(10_000);
    expect(applied.length).toBe(2);
  });
});
