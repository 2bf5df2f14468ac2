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
import { FragmentMemo, namesLookedUp } from './fragment-memo';

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

  /**
   * @param memoised partials whose rendered text is kept between renders (fragment-memo.ts, ADR 0034),
   *   used by renderScoped.
   */
  constructor(private readonly memoised: ReadonlySet<string> = new Set(), readonly memo: FragmentMemo = new FragmentMemo()) {
    super();
  }

  /** Mustache's render, reusing the memoised partials' fragments of the last render in `scope`. */
  renderScoped(scope: string, template: string, view: unknown, partials: Record<string, string>, config: Mustache.RenderOptions): string {
    this.memo.begin(scope);
    try {
      return this.render(template, view, partials, config);
    } finally {
      this.memo.end();
    }
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
    return this.memo.fragment(key, context, names, render);
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
