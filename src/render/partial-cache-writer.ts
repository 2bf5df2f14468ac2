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

interface Parsed {
  readonly text: string;
  /** The text as included (re-indented), which Mustache hands on as the original template. */
  readonly indented: string;
  readonly tokens: string[][];
}

export class PartialCacheWriter extends Mustache.Writer {
  private readonly parsed = new Map<string, Parsed>();

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
    return this.renderTokens(p.tokens, context, partials, p.indented, config);
  }

}
