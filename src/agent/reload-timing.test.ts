import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LATE_FLAG_MIN_CHECK_MS, MIN_CONFIRM_MS, describeLimit, reloadTiming } from './reload-timing';

describe('reloadTiming: limits that scale with the config', () => {
  it('keeps the 10 s limit and the flag-first drain for configs that check quickly', () => {
    expect(reloadTiming(40, 50)).toEqual({ confirmMs: MIN_CONFIRM_MS, flagAfterSignalMs: 0 });
    expect(reloadTiming(Number.NaN, 50)).toEqual({ confirmMs: MIN_CONFIRM_MS, flagAfterSignalMs: 0 });
  });

  it('gives a 15 s check (a 10,000-route config on a loaded machine) more than three times that to reload', () => {
    const t = reloadTiming(15_000, 50);
    expect(t.confirmMs).toBe(50_000);
    expect(t.flagAfterSignalMs).toBe(7_450);
    expect(describeLimit(t.confirmMs)).toBe('50 s');
  });

  it('never waits less than 3× the check, and raises the flag at least the lead before half the check', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600_000 }), fc.integer({ min: 0, max: 500 }), (checkMs, leadMs) => {
        const t = reloadTiming(checkMs, leadMs);
        expect(t.confirmMs).toBeGreaterThanOrEqual(Math.max(MIN_CONFIRM_MS, 3 * checkMs));
        expect(t.flagAfterSignalMs).toBeGreaterThanOrEqual(0);
        if (checkMs < LATE_FLAG_MIN_CHECK_MS) expect(t.flagAfterSignalMs).toBe(0);
        else expect(t.flagAfterSignalMs + leadMs).toBeLessThanOrEqual(Math.max(leadMs, checkMs / 2));
      }),
    );
  });

  it('grows with the check time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300_000 }), fc.integer({ min: 0, max: 300_000 }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(reloadTiming(lo, 50).confirmMs).toBeLessThanOrEqual(reloadTiming(hi, 50).confirmMs);
        expect(reloadTiming(lo, 50).flagAfterSignalMs).toBeLessThanOrEqual(reloadTiming(hi, 50).flagAfterSignalMs);
      }),
    );
  });
});
