/** The fragment memo of ADR 0034: what it reuses, what it keeps, and when it stays out of the way. */
import Mustache from 'mustache';
import { describe, expect, it } from 'vitest';
import { FragmentMemo, namesLookedUp } from '../../src/render/fragment-memo';
import { PartialCacheWriter } from '../../src/render/partial-cache-writer';

const MAIN = '{{#items}}\n{{> item}}\n{{/items}}\n';
const PARTIALS = { item: '[{{name}}:{{suffix}}{{#sub}}{{> leaf}}{{/sub}}]\n', leaf: '<{{deep}}>' };

function renderer(): { writer: PartialCacheWriter; render: (scope: string, view: unknown) => string } {
  const writer = new PartialCacheWriter(new Set(['item']));
  return { writer, render: (scope, view) => writer.renderScoped(scope, MAIN, view, PARTIALS, { escape: (s: string) => s }) };
}

describe('fragment memo', () => {
  it('reuses a fragment whose view and enclosing fields are unchanged, and renders the rest', () => {
    const { writer, render } = renderer();
    const view = { suffix: 's', items: [{ name: 'a' }, { name: 'b' }] };
    expect(render('c', view)).toBe('[a:s]\n[b:s]\n');
    expect([writer.memo.hits, writer.memo.misses]).toEqual([0, 2]);
    expect(render('c', { ...view, items: [{ name: 'a' }, { name: 'c' }] })).toBe('[a:s]\n[c:s]\n');
    expect([writer.memo.hits, writer.memo.misses]).toEqual([1, 1]);
  });

  it('keeps no copy of a view as JSON between renders, and still reuses a fragment whose new view is equal', () => {
    const { writer, render } = renderer();
    render('c', { suffix: 's', items: [{ name: 'a', sub: [{ deep: 'x'.repeat(1000) }] }] });
    expect(writer.memo.keptJsonChars()).toBe(0);
    // A new but equal view object: compared by content, the kept view's JSON made again for it.
    expect(render('c', { suffix: 's', items: [{ name: 'a', sub: [{ deep: 'x'.repeat(1000) }] }] })).toBe(`[a:s<${'x'.repeat(1000)}>]\n`);
    expect(writer.memo.hits).toBe(1);
    expect(writer.memo.keptJsonChars()).toBe(0);
  });

  it('renders again when a field of the enclosing view that the partial reads changes', () => {
    const { writer, render } = renderer();
    render('c', { suffix: 's', items: [{ name: 'a' }] });
    expect(render('c', { suffix: 't', items: [{ name: 'a' }] })).toBe('[a:t]\n');
    expect(writer.memo.hits).toBe(0);
    // A field the partial never names does not matter.
    expect(render('c', { suffix: 't', other: 1, items: [{ name: 'a' }] })).toBe('[a:t]\n');
    expect(writer.memo.hits).toBe(1);
  });

  it('keeps per scope only the fragments of its last render', () => {
    const { writer, render } = renderer();
    render('c', { suffix: 's', items: [{ name: 'a' }] });
    render('c', { suffix: 's', items: [{ name: 'b' }] });
    render('c', { suffix: 's', items: [{ name: 'a' }] });
    expect(writer.memo.hits).toBe(0);
    render('other', { suffix: 's', items: [{ name: 'a' }] });
    expect(writer.memo.hits).toBe(0);
    render('c', { suffix: 's', items: [{ name: 'a' }] });
    expect(writer.memo.hits).toBe(1);
  });

  it('renders without the memo outside renderScoped and below the first level', () => {
    const memo = new FragmentMemo();
    const ctx = new Mustache.Context({ x: 1 }, new Mustache.Context({ y: 2 }, new Mustache.Context({})));
    let calls = 0;
    const render = (): string => `r${++calls}`;
    memo.begin('s');
    expect(memo.fragment('p', ctx, () => new Set(), render)).toBe('r1');
    expect(memo.fragment('p', ctx, () => new Set(), render)).toBe('r2');
    memo.end();
    expect(memo.fragment('p', new Mustache.Context({ x: 1 }, new Mustache.Context({})), () => new Set(), render)).toBe('r3');
  });

  it('collects the names a partial and the partials it includes look up', () => {
    const names = namesLookedUp(Mustache.parse(PARTIALS.item) as unknown as string[][], (n) => (n === 'leaf' ? (Mustache.parse(PARTIALS.leaf) as unknown as string[][]) : undefined));
    expect([...names].sort()).toEqual(['deep', 'name', 'sub', 'suffix']);
  });
});
