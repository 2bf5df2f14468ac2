/** The section memo of ADR 0048: an element's text is reused only when the element and every name it read outside itself are the same. */
import Mustache from 'mustache';
import { describe, expect, it } from 'vitest';
import { PartialCacheWriter } from '../../src/render/partial-cache-writer';

const PARTIALS = { row: '{{name}}={{#parts}}{{p}}{{outer}}{{/parts}}{{suffix}};' };

function renderer(main: string, sections = new Set(['rows'])): { writer: PartialCacheWriter; memo: (view: unknown) => string; whole: (view: unknown) => string } {
  const writer = new PartialCacheWriter(new Set(), undefined, sections);
  const config = { escape: (s: string) => s };
  return { writer, memo: (view) => writer.renderScoped('s', main, view, PARTIALS, config), whole: (view) => Mustache.render(main, view, PARTIALS, config) };
}

describe('section memo', () => {
  it('reuses the text of an element met again, and renders a new element', () => {
    const { writer, memo, whole } = renderer('{{#rows}}{{>row}}{{/rows}}');
    const a = { name: 'a', parts: [{ p: 1 }] };
    const view = { suffix: '!', outer: '', rows: [a, { name: 'b', parts: [] }] };
    expect(memo(view)).toBe(whole(view));
    expect([writer.sections.hits, writer.sections.misses]).toEqual([0, 2]);
    const next = { ...view, rows: [a, { name: 'c', parts: [] }] };
    expect(memo(next)).toBe(whole(next));
    expect([writer.sections.hits, writer.sections.misses]).toEqual([1, 1]);
  });

  it('renders an element again when a name it read outside itself answers differently (also from inside a nested section)', () => {
    const { writer, memo, whole } = renderer('{{#rows}}{{>row}}{{/rows}}');
    const a = { name: 'a', parts: [{ p: 1 }] };
    memo({ suffix: '!', outer: 'x', rows: [a] });
    for (const view of [{ suffix: '?', outer: 'x', rows: [a] }, { suffix: '?', outer: 'y', rows: [a] }]) {
      expect(memo(view)).toBe(whole(view));
      expect(writer.sections.hits).toBe(0);
    }
    // Equal answers as new objects count as the same.
    const withObject = (o: unknown) => ({ suffix: o, outer: 'y', rows: [a] });
    memo(withObject({ k: 1 }));
    expect(memo(withObject({ k: 1 }))).toBe(whole(withObject({ k: 1 })));
    expect(writer.sections.hits).toBe(1);
  });

  it('renders normally outside a scoped render, in sections it is not given, and in sections with a dotted name', () => {
    const view = { suffix: '', outer: '', o: { v: 'z' }, rows: [{ name: 'a', parts: [] }] };
    const other = renderer('{{#rows}}{{>row}}{{/rows}}', new Set(['other']));
    other.memo(view);
    other.memo(view);
    expect(other.writer.sections.misses + other.writer.sections.hits).toBe(0);
    const dotted = renderer('{{#rows}}{{name}}{{o.v}};{{/rows}}');
    expect(dotted.memo(view)).toBe('az;');
    expect(dotted.memo(view)).toBe('az;');
    expect(dotted.writer.sections.misses + dotted.writer.sections.hits).toBe(0);
    const plain = new PartialCacheWriter(new Set(), undefined, new Set(['rows']));
    expect(plain.render('{{#rows}}{{name}};{{/rows}}', view, PARTIALS, { escape: (s: string) => s })).toBe('a;');
    expect(plain.sections.misses).toBe(0);
  });
});
