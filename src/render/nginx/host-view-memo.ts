/**
 * Memoised host views (ADR 0043): the `server` views of one virtual host, kept between renders of a
 * cluster and reused when the render meets the same host again, so that a route change builds the
 * views of the hosts it touches and not of every host.
 *
 * A host's views are a function of exactly three things, and a kept entry is reused only when all three
 * are the same:
 * - the VirtualHost itself (compared as data: same object, or equal content — its routes, paths, rules,
 *   actions, policies and TLS);
 * - the render context: the options, the cluster's spec and ACME files (one string per render, the
 *   caller's), and the host's role: whether it is the default server, whether the SNI router exists,
 *   and its TLS role (own, shared, holder);
 * - what it read of the state shared across hosts: the generated names it was given, the config-wide
 *   map entries it set and the facts it read (which upstreams have a running task). Those are replayed
 *   into this render's journal (src/render/registry-journal.ts); reuse needs every one to come out as
 *   recorded.
 * Same three ⇒ the same (deterministic) build over the same answers ⇒ the same views. The views are
 * never changed once built, so the kept objects are returned as they are (which also lets the template
 * memo, src/render/fragment-memo.ts, find their text by identity).
 *
 * Bounded like the template memo: a scope (cluster × options) keeps the hosts of its last render only;
 * at most MAX_SCOPES scopes, the oldest dropped first.
 */
import type { VirtualHost } from '../../plan/model';
import { sameData } from '../../plan/same-data';
import type { Journal, JournalEntry } from '../registry-journal';
import type { ServerView } from './view-types';

const MAX_SCOPES = 64;

/** What the view model keeps of one host: its `server` views, and the upstreams its rules reach over a protocol other than HTTP/1. */
export interface HostViews {
  readonly views: readonly ServerView[];
  readonly nonHttp: readonly string[];
}

interface Kept {
  readonly vh: VirtualHost;
  readonly role: string;
  readonly entries: readonly JournalEntry[];
  readonly value: HostViews;
}

export class HostViewMemo {
  private readonly scopes = new Map<string, { readonly context: string; readonly hosts: Map<string, Kept> }>();
  private current: { readonly previous: ReadonlyMap<string, Kept>; readonly next: Map<string, Kept> } | undefined;
  hits = 0;
  misses = 0;

  /**
   * Run `f` as one render in `scope`: hosts of this scope's last render may be reused if that render
   * had the same `context` (what every host's view reads of the render: options, cluster spec, ...).
   */
  scoped<T>(scope: string, context: string, f: () => T): T {
    const last = this.scopes.get(scope);
    // Compared once per render, not per host: the context string is long (it holds the cluster's spec).
    const same = last !== undefined && last.context === context;
    this.current = { previous: same ? last.hosts : new Map(), next: new Map() };
    this.hits = 0;
    this.misses = 0;
    try {
      const value = f();
      // Kept only after a complete render: a render that threw leaves the scope as it was.
      this.scopes.delete(scope);
      this.scopes.set(scope, { context, hosts: this.current.next });
      while (this.scopes.size > MAX_SCOPES) {
        const oldest = this.scopes.keys().next().value;
        if (oldest === undefined) break;
        this.scopes.delete(oldest);
      }
      return value;
    } finally {
      this.current = undefined;
    }
  }

  /**
   * The views of host `key` (unique in the render) built from `vh` in its `role` (default server or not,
   * TLS role): the kept ones when all their inputs are the same (their journal entries replayed into
   * `journal`), else `build()`, recorded.
   */
  host(key: string, vh: VirtualHost, role: string, journal: Journal, build: () => HostViews): HostViews {
    const c = this.current;
    if (c === undefined) return build();
    const kept = c.previous.get(key);
    if (kept !== undefined && kept.role === role && sameData(kept.vh, vh) && journal.replay(kept.entries)) {
      this.hits++;
      // The new VirtualHost is kept: a model that shares it with the next build is then compared by identity.
      c.next.set(key, kept.vh === vh ? kept : { ...kept, vh });
      return kept.value;
    }
    this.misses++;
    const { value, entries } = journal.record(build);
    c.next.set(key, { vh, role, entries, value });
    return value;
  }
}
