/**
 * The journal of a view model's shared state (ADR 0043): every way one host's view can depend on the
 * hosts built before it goes through here — a generated name asked of a NameTable (the table is shared,
 * so a name depends on who asked first), an entry set in a config-wide map (the http-level `map`s,
 * `split_clients`, `geo`s), and a read of a config-wide fact (which upstreams have a running task).
 *
 * While a host's view is built, the journal records these calls. A later render that meets the same
 * host (same content, same render context) replays them into that render's tables and maps: the tables
 * answer the same names and the facts read the same values ⇔ the host's view is the one a build from
 * scratch would make here, so it is reused; the recorded entries are set again, so the config-wide maps
 * end up as a build from scratch leaves them. A name that differs (a host added before this one took its
 * base) stops the replay and the host is built again; the calls replayed so far are a prefix of the ones
 * that build makes (same inputs and same answers so far ⇒ same calls), so they change nothing it would
 * not change itself.
 *
 * The names are still assigned by one NameTable in one order (src/plan/names.ts), so they stay
 * collision-free by construction and equal to a build from scratch.
 */
import { NameTable } from '../plan/names';

export type JournalEntry =
  | { readonly kind: 'name'; readonly table: string; readonly identity: string; readonly base: string; readonly name: string }
  | { readonly kind: 'set'; readonly map: string; readonly key: string; readonly value: unknown }
  | { readonly kind: 'read'; readonly source: string; readonly arg: string; readonly value: unknown };

export class Journal {
  private log: JournalEntry[] | undefined;
  private readonly tables = new Map<string, NameTable>();
  private readonly maps = new Map<string, Map<string, unknown>>();
  private readonly sources = new Map<string, (arg: string) => unknown>();

  /** A NameTable of this journal (`id` unique in it): ask names through the function returned. */
  table(id: string, fold?: (name: string) => string): (identity: string, base: string) => string {
    const t = new NameTable(fold);
    this.tables.set(id, t);
    return (identity, base) => {
      const name = t.name(identity, base);
      this.log?.push({ kind: 'name', table: id, identity, base, name });
      return name;
    };
  }

  /** A config-wide map of this journal (`id` unique in it): its `set`s are recorded. */
  map<V>(id: string): Map<string, V> {
    const log = (key: string, value: unknown): void => void this.log?.push({ kind: 'set', map: id, key, value });
    const m = new (class extends Map<string, V> {
      override set(key: string, value: V): this {
        log(key, value);
        return super.set(key, value);
      }
    })();
    this.maps.set(id, m as Map<string, unknown>);
    return m;
  }

  /** A config-wide fact read by argument (`id` unique in it); its values must compare with ===. */
  source<V extends string | number | boolean>(id: string, read: (arg: string) => V): (arg: string) => V {
    this.sources.set(id, read);
    return (arg) => {
      const value = read(arg);
      this.log?.push({ kind: 'read', source: id, arg, value });
      return value;
    };
  }

  /** Runs `build` and returns what it returned with the calls it made here. Not nested. */
  record<T>(build: () => T): { readonly value: T; readonly entries: readonly JournalEntry[] } {
    if (this.log !== undefined) throw new Error('Journal.record is not reentrant');
    const entries: JournalEntry[] = [];
    this.log = entries;
    try {
      return { value: build(), entries };
    } finally {
      this.log = undefined;
    }
  }

  /**
   * Makes the recorded calls again, in order. True: every name and fact came out as recorded (and the
   * maps hold the recorded entries). False: one differed, and the replay stopped there.
   */
  replay(entries: readonly JournalEntry[]): boolean {
    for (const e of entries) {
      if (e.kind === 'name') {
        if (this.tables.get(e.table)?.name(e.identity, e.base) !== e.name) return false;
      } else if (e.kind === 'set') {
        const m = this.maps.get(e.map);
        if (m === undefined) return false;
        Map.prototype.set.call(m, e.key, e.value);
      } else {
        const read = this.sources.get(e.source);
        if (read === undefined || read(e.arg) !== e.value) return false;
      }
    }
    return true;
  }
}
