/** The journal of ADR 0043: what a replay accepts, what it refuses, and the state it leaves. */
import { describe, expect, it } from 'vitest';
import { lowerCase } from '../../src/plan/names';
import { Journal } from '../../src/render/registry-journal';

function registry(serving: ReadonlySet<string>): { journal: Journal; name: (identity: string, base: string) => string; maps: Map<string, string>; serves: (u: string) => boolean } {
  const journal = new Journal();
  return { journal, name: journal.table('t', lowerCase), maps: journal.map<string>('m'), serves: journal.source('serving', (u) => serving.has(u)) };
}

describe('registry journal', () => {
  it('records the names, map entries and reads of a build, and a replay in an equal state repeats them', () => {
    const first = registry(new Set(['u1']));
    const { value, entries } = first.journal.record(() => {
      const n = first.name('id-a', 'a');
      first.maps.set(n, 'block a');
      return [n, first.serves('u1')];
    });
    expect(value).toEqual(['a', true]);
    expect(entries.map((e) => e.kind)).toEqual(['name', 'set', 'read']);
    const next = registry(new Set(['u1']));
    expect(next.journal.replay(entries)).toBe(true);
    expect([...next.maps]).toEqual([['a', 'block a']]);
    // The table holds the replayed name: another identity with the same base gets the suffix.
    expect(next.name('id-b', 'a')).toBe('a_x2');
  });

  it('refuses a replay when a name comes out differently, and when a fact reads differently', () => {
    const first = registry(new Set(['u1']));
    const { entries } = first.journal.record(() => [first.name('id-a', 'a'), first.serves('u1')]);
    const taken = registry(new Set(['u1']));
    taken.name('id-other', 'A'); // holds the base (names compare without regard to case)
    expect(taken.journal.replay(entries)).toBe(false);
    expect(registry(new Set()).journal.replay(entries)).toBe(false);
  });

  it('does not nest recordings', () => {
    const r = registry(new Set());
    expect(() => r.journal.record(() => r.journal.record(() => 1))).toThrow(/reentrant/);
  });
});
