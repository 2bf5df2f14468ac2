/**
 * Memoised fragments (ADR 0034): the text of one use of a partial (NGINX: one `server` block, so one
 * host's routes) is kept between renders and reused when the render asks for the same fragment again.
 *
 * The key is the fragment's complete input, not a proxy for it: the view object the partial is
 * rendered from (as JSON: views are plain data built by the view model, strings, numbers, booleans,
 * arrays and objects) plus every field of the enclosing view that a name in the partial could resolve
 * to (Mustache looks a name up the context stack), plus the place of use (indentation). Same key ⇒ the
 * same tokens rendered over the same values ⇒ the same bytes, so there is no invalidation rule to get
 * wrong: a route's new generation, a renamed map variable, a changed default or option changes the
 * view, hence the key. A view object met again (the view model reuses a host's view, ADR 0043) is
 * the same input without comparing its JSON: views are never changed once built.
 *
 * Bounded: each scope (cluster and options) keeps only the fragments its last render used.
 */
import type Mustache from 'mustache';

/** The Mustache tag types that look a name up the context stack (section, inverted, variable, unescaped). */
export const LOOKUP_TAGS: ReadonlySet<string> = new Set(['name', '&', '{', '#', '^']);
/** At most this many scopes (cluster × options) keep fragments; the oldest is dropped first. */
const MAX_SCOPES = 64;

/** Every first segment of a name the tokens (and the partials they include) look up. */
export function namesLookedUp(tokens: readonly (readonly unknown[])[], partial: (name: string) => readonly (readonly unknown[])[] | undefined, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  const walk = (ts: readonly (readonly unknown[])[]): void => {
    for (const t of ts) {
      const [type, value, , , children] = t as [string, string, number, number, unknown];
      if (LOOKUP_TAGS.has(type)) out.add(value.split('.')[0] ?? value);
      if (type === '>' && !seen.has(value)) {
        seen.add(value);
        const sub = partial(value);
        if (sub !== undefined) walk(sub);
      }
      if (Array.isArray(children)) walk(children as (readonly unknown[])[]);
    }
  };
  walk(tokens);
  return out;
}

/**
 * A fragment kept between renders: its input — the place, the partial's view (the object, and its
 * JSON once asked) and the enclosing fields it reads (JSON) — and its text; `id` narrows the search.
 */
interface Kept {
  readonly id: string;
  readonly place: string;
  readonly view: object;
  json: string | undefined;
  readonly outer: string;
  readonly text: string;
}

/** The kept view's JSON, computed the first time it is compared by content. */
function jsonOf(k: Kept): string {
  k.json ??= JSON.stringify(k.view);
  return k.json;
}

/** One scope's fragments: by short id (to compare content), and by view object (the same object is the same view). */
interface Fragments {
  readonly byId: Map<string, Kept[]>;
  readonly byView: Map<object, Kept>;
}

export class FragmentMemo {
  private readonly scopes = new Map<string, Fragments>();
  private current: { readonly scope: string; readonly previous: Fragments; readonly next: Fragments } | undefined;
  /** The enclosing view's fields a partial may read, as JSON, per (enclosing view, partial). */
  private readonly outer = new WeakMap<object, Map<string, string>>();
  /** The last enclosing fields' JSON per place (a few places): equal strings are interned to it. */
  private readonly lastOuter = new Map<string, string>();
  hits = 0;
  misses = 0;

  /**
   * @param identify a short name for a view (NGINX: a server's name and listeners), only to find the
   *   kept fragments to compare with: a fragment is reused when its whole input is equal, whatever the name.
   */
  constructor(private readonly identify: (view: Record<string, unknown>) => string = () => '') {}

  /** Start a render in `scope`: fragments of this scope's last render may be reused. */
  begin(scope: string): void {
    this.current = { scope, previous: this.scopes.get(scope) ?? { byId: new Map(), byView: new Map() }, next: { byId: new Map(), byView: new Map() } };
    this.hits = 0;
    this.misses = 0;
  }

  /** End the render: the scope keeps the fragments this render used, nothing else. */
  end(): void {
    const c = this.current;
    this.current = undefined;
    if (c === undefined) return;
    // A kept view's JSON is a copy of the view it keeps (about 8 KB a host, ADR 0044): dropped here and
    // made again only if a later render compares that fragment by content (its host's view is new).
    for (const k of c.next.byView.values()) k.json = undefined;
    this.scopes.delete(c.scope);
    this.scopes.set(c.scope, c.next);
    while (this.scopes.size > MAX_SCOPES) {
      const oldest = this.scopes.keys().next().value;
      if (oldest === undefined) break;
      this.scopes.delete(oldest);
    }
  }

  /**
   * The fragment for `place` (partial name and place of use) rendered over `context`, from the memo
   * or from `render`. Only a two-level stack (the partial's view inside the main view) is memoised.
   */
  fragment(place: string, context: Mustache.Context, names: () => ReadonlySet<string>, render: () => string): string {
    const c = this.current;
    const parent = context.parent;
    if (c === undefined || parent === undefined || parent.parent !== undefined || !isRecord(context.view) || !isRecord(parent.view)) return render();
    // The input is the partial's view, the enclosing fields its names can reach, and the place. The same
    // view object is the same view (views are never changed once built; ADR 0043 reuses a host's view
    // object between renders), so its JSON is only made and compared when the object is a new one.
    const view = context.view;
    const outer = this.outerJson(parent.view, place, names);
    const mine = (k: Kept | undefined): k is Kept => k !== undefined && k.outer === outer && k.place === place;
    const same = c.next.byView.get(view) ?? c.previous.byView.get(view);
    if (mine(same)) {
      this.hits++;
      this.keep(c.next, same);
      return same.text;
    }
    const id = `${place}\u0000${this.identify(view)}`;
    const input = JSON.stringify(view);
    const equal = (k: Kept): boolean => k.outer === outer && jsonOf(k) === input;
    const found = c.next.byId.get(id)?.find(equal) ?? c.previous.byId.get(id)?.find(equal);
    const text = found?.text ?? render();
    if (found === undefined) this.misses++;
    else this.hits++;
    this.keep(c.next, { id, place, view, json: input, outer, text });
    return text;
  }

  /** Characters of view JSON the memo holds between renders (none: ADR 0044); for tests and benchmarks. */
  keptJsonChars(): number {
    let n = 0;
    for (const f of this.scopes.values()) for (const k of f.byView.values()) n += k.json?.length ?? 0;
    return n;
  }

  private keep(next: Fragments, k: Kept): void {
    next.byView.set(k.view, k);
    const list = next.byId.get(k.id);
    if (list === undefined) next.byId.set(k.id, [k]);
    else if (!list.includes(k)) list.push(k);
  }

  private outerJson(view: Record<string, unknown>, place: string, names: () => ReadonlySet<string>): string {
    let byPlace = this.outer.get(view);
    if (byPlace === undefined) {
      byPlace = new Map();
      this.outer.set(view, byPlace);
    }
    let json = byPlace.get(place);
    if (json === undefined) {
      const picked: Record<string, unknown> = {};
      for (const n of [...names()].sort()) if (n in view) picked[n] = view[n];
      json = JSON.stringify(picked);
      // The last equal string itself, so that the per-fragment comparisons are of one object, not of its characters.
      const last = this.lastOuter.get(place);
      if (last === json) json = last;
      else this.lastOuter.set(place, json);
      byPlace.set(place, json);
    }
    return json;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
