/**
 * The agent's delta of two NGINX endpoint sets (ADR 0038): whatever the two sets, applying the delta
 * to the first (a line sets its upstream, "-NAME" deletes it — what the balancer does) gives the
 * second; the walk over sorted texts gives the same delta as comparing maps, also where it skips
 * identical stretches a chunk at a time; an unsorted text is left to the map comparison. The set
 * pushed before a reload (ADR 0041) is the new one plus the upstreams it drops, and the delta after
 * the reload removes exactly those.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { endpointDelta, endpointLines, keepingDropped, sortedTextDelta } from '../../src/agent/nginx-endpoints';
import { endpointsText } from '../../src/render/nginx/render';

const NAMES = Array.from({ length: 300 }, (_, i) => `u_${(i * 7919) % 100000}_svc${i}_8080`);
const line = fc.subarray(['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:8080', '[fd00::4]:80'], { minLength: 1 }).map((m) => `1 10 - ${m.join(' ')}`);
/** A set as the renderer writes it: sorted lines, each name once. */
const set = fc.dictionary(fc.constantFrom(...NAMES), line, { maxKeys: 300 }).map((d) => endpointsText(Object.entries(d).map(([n, l]) => `${n} ${l}`)));
/** Mostly small changes of a big set (the case the chunk skip is for), sometimes another set altogether. */
const pair = fc.oneof(
  set.chain((a) => fc.tuple(fc.constant(a), fc.array(fc.tuple(fc.constantFrom(...NAMES), fc.option(line, { nil: undefined })), { maxLength: 4 }))).map(([a, edits]) => {
    const m = endpointLines(a);
    for (const [n, l] of edits) if (l === undefined) m.delete(n);
    else m.set(n, `${n} ${l}`);
    return [a, endpointsText([...m.values()])] as const;
  }),
  fc.tuple(set, set),
);

function applied(before: string, delta: readonly string[]): string[] {
  const m = endpointLines(before);
  for (const d of delta) if (d.startsWith('-')) m.delete(d.slice(1));
  else m.set(d.slice(0, d.indexOf(' ')), d);
  return [...m.values()].sort();
}

describe('endpoint deltas', () => {
  it('turn the first set into the second, and the sorted walk agrees with the map comparison', () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const walk = sortedTextDelta(a, b);
        expect(walk).toBeDefined();
        expect(applied(a, walk ?? [])).toEqual([...endpointLines(b).values()].sort());
        expect([...(walk ?? [])].sort()).toEqual([...endpointDelta(endpointLines(a), endpointLines(b))].sort());
      }),
      { numRuns: 400 },
    );
  });

  it('finds one changed line in a large set (past the chunk skip) and nothing in an equal one', () => {
    const lines = NAMES.map((n) => `${n} 1 10 - 10.0.0.1:80 10.0.0.2:80`);
    const a = endpointsText(lines);
    expect(a.length).toBeGreaterThan(3 * 4096);
    const changed = lines.map((l, i) => (i === 250 ? l.replace('10.0.0.2:80', '10.0.0.9:80') : l));
    const target = changed[250] ?? '';
    expect(sortedTextDelta(a, endpointsText(changed))).toEqual([target]);
    expect(sortedTextDelta(a, a)).toEqual([]);
  });

  it('leaves unsorted text to the map comparison', () => {
    // The same set in another order: a merge of the two would delete u_a.
    expect(sortedTextDelta('u_b 1 10 - 10.0.0.1:80\nu_a 1 10 - 10.0.0.1:80\n', 'u_a 1 10 - 10.0.0.1:80\nu_b 1 10 - 10.0.0.1:80\n')).toBeUndefined();
    expect(sortedTextDelta('u_a 1 10 - 10.0.0.1:80\nu_a 1 10 - 10.0.0.2:80\n', 'u_a 1 10 - 10.0.0.1:80\n')).toBeUndefined();
  });

  it('before a reload keeps every upstream the new set drops, with the new lines for the others; the delta after removes only those', () => {
    fc.assert(
      fc.property(pair, ([live, next]) => {
        const kept = keepingDropped(live, next);
        const k = endpointLines(kept);
        const n = endpointLines(next);
        const l = endpointLines(live);
        // Every upstream of either set, each once; the new set's line where both have one.
        expect(new Set(k.keys())).toEqual(new Set([...l.keys(), ...n.keys()]));
        for (const [name, line] of n) expect(k.get(name)).toBe(line);
        for (const [name, line] of l) if (!n.has(name)) expect(k.get(name)).toBe(line);
        // Nothing dropped: the new set itself (same bytes, so the push after the reload sends nothing).
        if ([...l.keys()].every((name) => n.has(name))) expect(kept).toBe(next);
        // Written as the renderer writes a set, so the fast walk applies; it removes the dropped names only.
        const after = sortedTextDelta(kept, next);
        expect(after).toBeDefined();
        expect([...(after ?? [])].sort()).toEqual([...l.keys()].filter((name) => !n.has(name)).map((name) => `-${name}`).sort());
      }),
      { numRuns: 400 },
    );
  });
});
