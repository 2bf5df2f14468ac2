import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drainedReload } from './nginx-drain';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const options = () => ({ flagPath: join(mkdtempSync(join(tmpdir(), 'sg-drain-')), 'run', 'drain'), leadMs: 20, holdMs: 200 });

describe('drainedReload: when the drain flag is up', () => {
  it('raises the flag before the signal by default, and removes it once the old workers are gone', async () => {
    const o = options();
    let flagAtSignal: boolean | undefined;
    const ok = await drainedReload(o, async () => {
      flagAtSignal = existsSync(o.flagPath);
      await sleep(30);
      return new Set([1]);
    }, () => false);
    expect([ok, flagAtSignal, existsSync(o.flagPath)]).toEqual([true, true, false]);
  });

  it('with flagAfterSignalMs, signals first and raises the flag while the master is still parsing', async () => {
    const o = options();
    const seen: boolean[] = [];
    const ok = await drainedReload(o, async () => {
      seen.push(existsSync(o.flagPath)); // at the signal
      await sleep(400);
      seen.push(existsSync(o.flagPath)); // when the new workers run
      return new Set([1]);
    }, () => false, 150);
    expect([ok, ...seen, existsSync(o.flagPath)]).toEqual([true, false, true, false]);
  });

  it('raises the flag at once when the reload is confirmed before the delay, and holds it while old workers live', async () => {
    const o = options();
    let oldAlive = true;
    let flagWhileOldAlive = false;
    const pending = drainedReload(o, async () => new Set([7]), (pid) => {
      if (pid === 7 && oldAlive) flagWhileOldAlive ||= existsSync(o.flagPath);
      return pid === 7 && oldAlive;
    }, 10_000);
    await sleep(50);
    oldAlive = false;
    const started = Date.now();
    expect(await pending).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000); // not the 10 s delay
    expect([flagWhileOldAlive, existsSync(o.flagPath)]).toEqual([true, false]);
  });

  it('reports an unconfirmed reload and still removes the flag', async () => {
    const o = options();
    expect(await drainedReload(o, async () => undefined, () => false, 50)).toBe(false);
    expect(existsSync(o.flagPath)).toBe(false);
  });
});
