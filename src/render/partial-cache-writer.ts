/**
 * A Mustache writer that parses each partial once per place it is used. Mustache's own writer, for
 * every use of a partial (every server, location, upstream of a config), re-indents the partial's
 * text (split and join), builds a cache key by concatenating that text with the tags and looks it up:
 * at 10,000 routes that was a large share of the render (issue 22). The tokens of a partial depend
 * only on its text, the indentation of the tag that includes it and whether that line has other
 * text, so they are kept per (partial, indentation, stand-alone); the output is byte for byte the
 * same as Mustache.render's (the goldens pin it).
 */
import Mustache from 'mustache';
import { FragmentMemo, LOOKUP_TAGS, namesLookedUp } from './fragment-memo';
import { SectionMemo } from './section-memo';

interface Parsed {
  readonly text: string;
  /** The text as included (re-indented), which Mustache hands on as the original template. */
  readonly indented: string;
  readonly tokens: string[][];
}

export class PartialCacheWriter extends Mustache.Writer {
  private readonly parsed = new Map<string, Parsed>();
  /** Names each memoised partial looks up (its text's tags and its partials'), by partial text. */
  private readonly lookups = new Map<string, ReadonlySet<string>>();
  /** Section elements' texts between renders (section-memo.ts, ADR 0048), used by renderScoped outside memoised partials. */
  readonly sections = new SectionMemo();
  /** Whether a scoped render is running, and how many memoised partials it is inside. */
  private scoped = false;
  private insideMemoised = 0;
  /** Per section token: whether its elements may be memoised (no dotted name, no memoised partial), for one partials object. */
  private readonly memoisable = new WeakMap<readonly unknown[], { readonly partials: object; readonly ok: boolean }>();

  /**
   * @param memoised partials whose rendered text is kept between renders (fragment-memo.ts, ADR 0034),
   *   used by renderScoped.
   */
  /**
   * @param sections array sections whose elements' texts are kept between renders (section-memo.ts,
   *   ADR 0048), used by renderScoped: sections whose elements are the same objects render after render
   *   (a section of fresh objects would pay the recording on every element for nothing).
   */
  constructor(private readonly memoised: ReadonlySet<string> = new Set(), readonly memo: FragmentMemo = new FragmentMemo(), private readonly memoisedSections: ReadonlySet<string> = new Set()) {
    super();
  }

  /** Mustache's render, reusing the memoised partials' fragments of the last render in `scope`. */
  renderScoped(scope: string, template: string, view: unknown, partials: Record<string, string>, config: Mustache.RenderOptions): string {
    this.memo.begin(scope);
    this.scoped = true;
    this.insideMemoised = 0;
    this.sections.hits = 0;
    this.sections.misses = 0;
    try {
      return this.render(template, view, partials, config);
    } finally {
      this.scoped = false;
      this.memo.end();
    }
  }

  override renderSection(token: string[], context: Mustache.Context, partials?: Mustache.PartialsOrLookupFn, originalTemplate?: string, config?: Mustache.RenderOptions): string {
    const children = (token as unknown[])[4];
    if (!this.scoped || this.insideMemoised > 0 || !this.memoisedSections.has(token[1] ?? '') || typeof partials !== 'object' || !Array.isArray(children) || !this.elementsMemoisable(token, partials)) return super.renderSection(token, context, partials, originalTemplate, config);
    const value: unknown = context.lookup(token[1] ?? '');
    if (!Array.isArray(value)) return super.renderSection(token, context, partials, originalTemplate, config);
    const tokens = children as string[][];
    const escape = config?.escape;
    let out = '';
    for (const element of value as unknown[]) {
      if (typeof element !== 'object' || element === null) out += this.renderTokens(tokens, context.push(element), partials, originalTemplate, config);
      else out += this.sections.element(token, element, context, partials, escape, (c) => this.renderTokens(tokens, c, partials, originalTemplate, config));
    }
    return out;
  }

  /** No dotted name and no memoised partial in the section's tokens (and the partials they include). */
  private elementsMemoisable(token: readonly unknown[], partials: Record<string, string>): boolean {
    const known = this.memoisable.get(token);
    if (known?.partials === partials) return known.ok;
    let ok = true;
    const seen = new Set<string>();
    const walk = (ts: readonly (readonly unknown[])[]): void => {
      for (const t of ts) {
        const [type, value, , , children] = t as [string, string, number, number, unknown];
        if (type === '>') {
          if (this.memoised.has(value)) ok = false;
          else if (!seen.has(value) && partials[value] !== undefined) {
            seen.add(value);
            walk(this.parse(partials[value] ?? '') as string[][]);
          }
        } else if (LOOKUP_TAGS.has(type) && value !== '.' && value.includes('.')) ok = false;
        if (Array.isArray(children)) walk(children as (readonly unknown[])[]);
      }
    };
    walk([token]);
    this.memoisable.set(token, { partials, ok });
    return ok;
  }

  override renderPartial(token: string[], context: Mustache.Context, partials?: Mustache.PartialsOrLookupFn, config?: Mustache.OpeningAndClosingTags | Mustache.RenderOptions): string {
    // Only the plain case is cached: a partials object and the default tags (what the renderers use).
    if (partials === undefined || typeof partials === 'function' || Array.isArray(config) || (config !== undefined && 'tags' in config && config.tags !== undefined)) return super.renderPartial(token, context, partials, config);
    const [, name = '', , , indentation = '', tagIndex = '', lineHasNonSpace = ''] = token as unknown as [string, string, number, number, string, number, boolean];
    const text = partials[name];
    if (text === undefined) return super.renderPartial(token, context, partials, config);
    const key = `${name}\u0000${indentation}\u0000${String(tagIndex)}\u0000${String(lineHasNonSpace)}`;
    let p = this.parsed.get(key);
    if (p?.text !== text) {
      const indented = Number(tagIndex) === 0 && indentation !== '' ? this.indentPartial(text, indentation, Boolean(lineHasNonSpace)) : text;
      p = { text, indented, tokens: this.parse(indented) as string[][] };
      this.parsed.set(key, p);
    }
    const parsed = p;
    const render = (): string => this.renderTokens(parsed.tokens, context, partials, parsed.indented, config);
    if (!this.memoised.has(name)) return render();
    const names = (): ReadonlySet<string> => this.namesOf(name, parsed, partials);
    this.insideMemoised++;
    try {
      return this.memo.fragment(key, context, names, render);
    } finally {
      this.insideMemoised--;
    }
  }

  private namesOf(name: string, p: Parsed, partials: Record<string, string>): ReadonlySet<string> {
    let names = this.lookups.get(p.indented);
    if (names === undefined) {
      names = namesLookedUp(p.tokens, (sub) => (partials[sub] === undefined ? undefined : (this.parse(partials[sub] ?? '') as string[][])), new Set([name]));
      this.lookups.set(p.indented, names);
    }
    return names;
  }

}
