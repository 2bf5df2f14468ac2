import { describe, expect, it } from 'vitest';
import { runStatus } from '../../src/cli/commands/status';
import { colourStates, fitFrame, WatchScreen } from '../../src/cli/watch-screen';
import { FakeDocker } from '../fakes/fake-docker';

function capture() {
  const out: string[] = [];
  return { out, io: { out: (t: string) => out.push(t), err: () => undefined } };
}

const T = new Date('2026-01-01T00:00:00Z');

describe('WatchScreen', () => {
  it('prints a block per change of the facts when not on a terminal, without escape sequences', () => {
    const c = capture();
    const screen = new WatchScreen(c.io, { tty: false });
    screen.show('a True 3s', 'a', T);
    screen.show('a True 4s', 'a', T);
    screen.show('b False', 'b', T);
    expect(c.out).toEqual(['--- 2026-01-01T00:00:00.000Z\na True 3s', '\n--- 2026-01-01T00:00:00.000Z\nb False']);
  });

  it('redraws in place on a terminal, colouring states unless NO_COLOR', () => {
    const c = capture();
    new WatchScreen(c.io, { tty: true, colour: true }).show('Ready True\nProgrammed False', 'x', T);
    expect(c.out).toEqual(['\x1b[HReady \x1b[32mTrue\x1b[0m\x1b[K\nProgrammed \x1b[31mFalse\x1b[0m\x1b[K\x1b[J']);
    const plain = capture();
    const before = process.env['NO_COLOR'];
    process.env['NO_COLOR'] = '1';
    try {
      new WatchScreen(plain.io, { tty: true }).show('Ready True', 'x', T);
    } finally {
      if (before === undefined) delete process.env['NO_COLOR'];
      else process.env['NO_COLOR'] = before;
    }
    expect(plain.out).toEqual(['\x1b[HReady True\x1b[K\x1b[J']);
  });

  it('fits a frame to the terminal: no wrapped line, no line below the last row', () => {
    const text = Array.from({ length: 30 }, (_, i) => `line ${i} ${'x'.repeat(200)}`).join('\n');
    const lines = fitFrame(text, 100, 12);
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toBe('… 20 more lines (enlarge the terminal to see them)');
    expect(lines.every((l) => [...l].length <= 100)).toBe(true);
    expect(lines[0]?.endsWith('…')).toBe(true);
    expect(fitFrame('short\nframe', 100, 12)).toEqual(['short', 'frame']);
    expect(fitFrame('unknown size', undefined, undefined)).toEqual(['unknown size']);
  });

  it('colours whole words only', () => {
    expect(colourStates('Truest Falsehood')).toBe('Truest Falsehood');
  });
});

describe('status --watch', () => {
  it('prints only changes when piped, and stops on Ctrl-C', async () => {
    const docker = FakeDocker.singleNode();
    const c = capture();
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 120);
    expect(await runStatus(docker, true, c.io, { intervalMs: 10, signal: ctl.signal, screen: new WatchScreen(c.io, { tty: false }) })).toBe(0);
    expect(c.out).toHaveLength(1);
    expect(c.out[0]).toMatch(/^--- \S+Z\ncore: not installed as a service/);
  });
});
