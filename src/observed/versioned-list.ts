/**
 * One Docker listing converted incrementally (ADR 0047): an object whose ID, Version.Index and
 * conversion context are those of the last listing keeps its converted value — the same object — and
 * its dropped lines; only new or changed objects are converted. Swarm bumps an object's version on
 * every change, so same version means same content. The output is sorted as the whole conversion sorts
 * it (to-snapshot.ts), and is the previous array itself when nothing in it changed.
 */

export interface ListSpec<R, T> {
  id(raw: R): string;
  /** Undefined (a daemon or fake that sends none): converted every time. */
  version(raw: R): number | undefined;
  /**
   * What the conversion reads besides the object itself (e.g. the task's service name): same text, same
   * conversion. Or the line saying why the object is dropped unconverted.
   */
  context(raw: R): string | { readonly drop: string };
  convert(raw: R, dropped: string[]): T | undefined;
  /** The sort key of the whole conversion. */
  key(value: T): string;
}

interface Entry<T> {
  readonly version: number | undefined;
  /** The epoch of the caller's shared context (e.g. network names) it was converted under. */
  readonly epoch: number;
  readonly context: string;
  readonly value: T | undefined;
  readonly dropped: readonly string[];
  readonly key: string;
  /** The update that last listed it (reused entries only). */
  seen: number;
}

export interface ListUpdate<T> {
  readonly list: readonly T[];
  /** Values that are new in `list`, and values of the last list that are not in it; undefined when not known (a listing that repeats an ID). */
  readonly added?: readonly T[];
  readonly removed?: readonly T[];
}

export class VersionedList<R, T> {
  private entries = new Map<string, Entry<T>>();
  /** The last output's entries in output order, and whether two of them have equal keys (ties keep listing order: see below). */
  private sorted: readonly Entry<T>[] = [];
  private ties = false;
  private list: readonly T[] = [];
  private updates = 0;

  constructor(private readonly spec: ListSpec<R, T>) {}

  /**
   * The list for `raws` (every object's dropped lines appended to `dropped`, in listing order); `epoch`
   * names the shared context. `visit` sees each converted object's value (undefined: dropped) in listing order.
   */
  update(raws: readonly R[], epoch: number, dropped: string[], visit?: (raw: R, value: T | undefined) => void): ListUpdate<T> {
    const { spec } = this;
    const gen = ++this.updates;
    const next = new Map<string, Entry<T>>();
    const lines: string[] = [];
    const listed: Entry<T>[] = [];
    const added: Entry<T>[] = [];
    const removed: T[] = [];
    let duplicate = false;
    for (const raw of raws) {
      const context = spec.context(raw);
      if (typeof context !== 'string') {
        lines.push(context.drop);
        continue;
      }
      const id = spec.id(raw);
      const version = spec.version(raw);
      if (next.has(id)) duplicate = true;
      const last = this.entries.get(id);
      let e: Entry<T>;
      if (last !== undefined && version !== undefined && last.version === version && last.epoch === epoch && last.context === context && last.seen !== gen) {
        e = last;
        e.seen = gen;
      } else {
        const d: string[] = [];
        const value = spec.convert(raw, d);
        e = { version, epoch, context, value, dropped: d, key: value === undefined ? '' : spec.key(value), seen: gen };
        if (value !== undefined) added.push(e);
      }
      for (const line of e.dropped) lines.push(line);
      next.set(id, e);
      visit?.(raw, e.value);
      if (e.value !== undefined) listed.push(e);
    }
    for (const line of lines) dropped.push(line);
    // The last output's values not reused: replaced by a new version, or no longer listed.
    const kept = listed.length - added.length;
    if (kept < this.sorted.length) for (const e of this.sorted) if (e.seen !== gen && e.value !== undefined) removed.push(e.value);
    this.entries = next;
    if (duplicate) {
      // Never from Swarm (IDs are unique); converted again next time (its output's entries then all count
      // as removed), sorted as the whole conversion sorts.
      this.entries = new Map();
      this.sortAll(listed);
      return { list: this.list };
    }
    if (added.length === 0 && removed.length === 0 && kept === this.sorted.length && !this.ties) return { list: this.list, added: [], removed: [] };
    const survivors = this.sorted.filter((e) => e.seen === gen);
    const fresh = [...added].sort(compareEntries);
    const merged = merge(survivors, fresh);
    if (merged === undefined || this.ties) this.sortAll(listed);
    else {
      this.sorted = merged;
      this.list = merged.map((e) => e.value as T);
    }
    return { list: this.list, added: added.map((e) => e.value as T), removed };
  }

  /** A stable sort of the listed entries by key: equal keys keep listing order, as Array.prototype.sort does in the whole conversion. */
  private sortAll(listed: readonly Entry<T>[]): void {
    const sorted = [...listed].sort(compareEntries);
    this.ties = sorted.some((e, i) => i > 0 && sorted[i - 1]?.key === e.key);
    this.sorted = sorted;
    this.list = sorted.map((e) => e.value as T);
  }
}

function compareEntries<T>(a: Entry<T>, b: Entry<T>): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * The two sorted lists merged; undefined when a key of one equals a key of the other (their order
 * would be the listing's, which the merge does not know).
 */
function merge<T>(a: readonly Entry<T>[], b: readonly Entry<T>[]): Entry<T>[] | undefined {
  const out: Entry<T>[] = new Array<Entry<T>>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  let last: string | undefined;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const e = y === undefined || (x !== undefined && x.key < y.key) ? (i++, x) : (j++, y);
    if (e === undefined) break;
    if (last === e.key) return undefined;
    last = e.key;
    out[k++] = e;
  }
  return out;
}
