import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReloadEstimate } from './reload-estimate';
import { reloadTiming } from './reload-timing';

describe('ReloadEstimate: limits from the last confirmed reload', () => {
  it('has none before a reload was measured (the agent then checks first)', () => {
    const e = new ReloadEstimate();
    expect(e.timing(1_000_000, 50)).toBeUndefined();
    e.record({ bytes: 0, ms: 500 });
    expect(e.timing(1_000_000, 50)).toBeUndefined();
  });

  it('gives the same config the limits its check time gave before', () => {
    const e = new ReloadEstimate();
    e.record({ bytes: 1_500_000, ms: 1_300 });
    expect(e.timing(1_500_000, 50)).toEqual(reloadTiming(1_300, 50));
  });

  it('scales the confirmation limit up with a larger config, and the flag delay never beyond the measured reload', () => {
    const e = new ReloadEstimate();
    e.record({ bytes: 1_000_000, ms: 2_000 });
    // Ten times the config: a limit for a 20 s parse, the flag half of the 2 s seen, less the lead.
    expect(e.timing(10_000_000, 50)).toEqual({ confirmMs: 65_000, flagAfterSignalMs: 950 });
    // A tenth: the limit the measured reload had (never shorter), and no late flag for a 200 ms parse.
    expect(e.timing(100_000, 50)).toEqual({ confirmMs: 11_000, flagAfterSignalMs: 0 });
  });

  it('never waits less than the measured reload allows, nor raises the flag later than a measured one would', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50_000_000 }), fc.integer({ min: 0, max: 120_000 }), fc.integer({ min: 1, max: 50_000_000 }), (bytes, ms, next) => {
        const e = new ReloadEstimate();
        e.record({ bytes, ms });
        const t = e.timing(next, 50);
        const measured = reloadTiming(ms, 50);
        expect(t?.confirmMs).toBeGreaterThanOrEqual(measured.confirmMs);
        expect(t?.flagAfterSignalMs).toBeLessThanOrEqual(measured.flagAfterSignalMs);
      }),
    );
  });
});
