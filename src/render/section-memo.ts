/**
 * Memoised section elements (ADR 0048): the text one element of an array section renders to (NGINX: a
 * `split_clients` block, an SNI or certificate map line), kept per element object and reused when a
 * later render meets the same object in the same section again. The config-wide sections are printed
 * whole on every render, but their elements are the views a memoised host built (ADR 0043): the same
 * objects render after render.
 *
 * The text of an element is a function of its tokens, the element (a view: plain data, never changed
 * once built), the partials, the escape function, and the values of the names it looks up that the
 * element does not hold (Mustache looks a name up the context stack). While an element is rendered, the
 * context above it is a barrier that answers every name from the real stack and records the name and
 * its answer; a kept text is reused only when those names answer the same now (the same value, or equal
 * data). Same inputs ⇒ same bytes. Sections whose tokens use a dotted name (its lookup semantics across
 * the stack differ from a name at a time) or include a memoised partial (fragment-memo.ts measures its
 * stack depth) are rendered normally.
 *
 * Bounded by the elements themselves: texts are kept in a WeakMap by element, so they go with the views
 * that hold them (a scope keeps its last render's hosts, ADR 0043).
 */
import Mustache from 'mustache';
import { sameData } from '../plan/same-data';

interface Kept {
  readonly partials: object;
  readonly escape: unknown;
  /** The names looked up outside the element, with their answers, in order. */
  readonly reads: readonly (readonly [string, unknown])[];
  readonly text: string;
}

export class SectionMemo {
  private readonly texts = new WeakMap<object, Map<readonly unknown[], Kept>>();
  hits = 0;
  misses = 0;

  /** Element `element` of section `token` in `context` (the section's context): the kept text if its inputs are the same, else render(context for the element). */
  element(token: readonly unknown[], element: object, context: Mustache.Context, partials: object, escape: unknown, render: (elementContext: Mustache.Context) => string): string {
    let byToken = this.texts.get(element);
    const kept = byToken?.get(token);
    if (kept !== undefined && kept.partials === partials && kept.escape === escape && kept.reads.every(([name, value]) => sameAnswer(context.lookup(name), value))) {
      this.hits++;
      return kept.text;
    }
    this.misses++;
    const reads: [string, unknown][] = [];
    // Every name the element's stack does not answer reaches this view: answered from the real stack, recorded.
    const outside = new Proxy(
      {},
      {
        has: () => true,
        get: (_target, name) => {
          if (typeof name !== 'string') return undefined;
          const value: unknown = context.lookup(name);
          reads.push([name, value]);
          return value;
        },
      },
    );
    const text = render(new Mustache.Context(element, new Mustache.Context(outside)));
    if (byToken === undefined) {
      byToken = new Map();
      this.texts.set(element, byToken);
    }
    byToken.set(token, { partials, escape, reads, text });
    return text;
  }
}

function sameAnswer(now: unknown, then: unknown): boolean {
  return now === then || sameData(now, then);
}
