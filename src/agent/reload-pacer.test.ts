import { describe, expect, it } from 'vitest';
import { DEFAULT_PACER, ReloadPacer, type PacerClock } from './reload-pacer';

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

const OPTIONS = DEFAULT_PACER;

function recorder(clock: PacerClock) {
  const applied: { at: number; item: number }[] = [];
  const pacer = new ReloadPacer<number>(async (item) => {
    applied.push({ at: clock.now(), item });
    return true;
  }, OPTIONS, clock);
  return { applied, pacer };
}

async function burst(clock: ReturnType<typeof manualClock>, pacer: ReloadPacer<number>, n: number, gapMs: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    pacer.offer(i);
    await clock.advance(gapMs);
  }
}

describe('ReloadPacer', () => {
  it('turns 100 changes in 10 s into 3 reloads, the last one with the latest change', async () => {
    const clock = manualClock();
    const { applied, pacer } = recorder(clock);
    await burst(clock, pacer, 100, 100);
    await clock.advance(10_000);
    expect(applied.map((a) => a.at)).toEqual([0, 5100, 10100]);
    expect(applied.map((a) => a.item)).toEqual([0, 50, 99]);
  });

  it('keeps any 10 s of a longer burst (100 changes 200 ms apart) to at most 3 reloads', async () => {
    const clock = manualClock();
    const { applied, pacer } = recorder(clock);
    await burst(clock, pacer, 100, 200);
    await clock.advance(10_000);
    expect(applied.at(-1)?.item).toBe(99);
    for (const a of applied) expect(applied.filter((b) => b.at >= a.at && b.at < a.at + 10_000).length).toBeLessThanOrEqual(3);
  });

  it('applies changes a calm period (2 s) apart at once, and a close second one after 1.5 s of quiet', async () => {
    const clock = manualClock();
    const { applied, pacer } = recorder(clock);
    pacer.offer(1);
    await clock.advance(2000);
    pacer.offer(2);
    await clock.advance(300);
    pacer.offer(3);
    await clock.advance(2000);
    expect(applied).toEqual([{ at: 0, item: 1 }, { at: 2000, item: 2 }, { at: 3800, item: 3 }]);
  });

  it('applies an urgent item at once, even inside a burst', async () => {
    const clock = manualClock();
    const { applied, pacer } = recorder(clock);
    pacer.offer(1);
    await clock.advance(100);
    pacer.offer(2);
    await clock.advance(100);
    pacer.offer(3, true);
    await clock.advance(0);
    expect(applied).toEqual([{ at: 0, item: 1 }, { at: 200, item: 3 }]);
    // The waiting item was replaced by the urgent one: nothing more to apply.
    await clock.advance(10_000);
    expect(applied.length).toBe(2);
  });
});
