/**
 * A read-only map that is another one with a few keys set or deleted, without copying it: the task
 * fast path's index after a task change is the last one with the changed services' entries replaced
 * (ADR 0047), and copying its two maps of 20,000 services cost more than everything else it does.
 * Overlays on overlays are flattened into a plain Map past MAX_DEPTH, so a lookup never walks more
 * than that many layers (the copy then happens once per MAX_DEPTH changes).
 */
const MAX_DEPTH = 8;
const GONE = Symbol('gone');

export class OverlayMap<K, V> implements ReadonlyMap<K, V> {
  private readonly base: ReadonlyMap<K, V>;
  private readonly changes: ReadonlyMap<K, V | typeof GONE>;
  readonly depth: number;
  readonly size: number;

  private constructor(base: ReadonlyMap<K, V>, changes: ReadonlyMap<K, V | typeof GONE>, depth: number) {
    this.base = base;
    this.changes = changes;
    this.depth = depth;
    let size = base.size;
    changes.forEach((v, k) => {
      if (v === GONE) {
        if (base.has(k)) size--;
      } else if (!base.has(k)) size++;
    });
    this.size = size;
  }

  /** `base` with `set` set and `remove` deleted (a key in both: set). */
  static of<K, V>(base: ReadonlyMap<K, V>, set: ReadonlyMap<K, V>, remove: Iterable<K>): ReadonlyMap<K, V> {
    const changes = new Map<K, V | typeof GONE>();
    for (const k of remove) changes.set(k, GONE);
    set.forEach((v, k) => changes.set(k, v));
    const depth = base instanceof OverlayMap ? base.depth + 1 : 1;
    const layered = new OverlayMap(base, changes, depth);
    return depth > MAX_DEPTH ? new Map(layered) : layered;
  }

  get(key: K): V | undefined {
    const v = this.changes.get(key);
    if (v === GONE) return undefined;
    return v !== undefined || this.changes.has(key) ? v : this.base.get(key);
  }

  has(key: K): boolean {
    const v = this.changes.get(key);
    if (v === GONE) return false;
    return this.changes.has(key) || this.base.has(key);
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [k, v] of this.entries()) callback(v, k, this);
  }

  *entries(): MapIterator<[K, V]> {
    for (const [k, v] of this.base.entries()) if (!this.changes.has(k)) yield [k, v];
    for (const [k, v] of this.changes.entries()) if (v !== GONE) yield [k, v];
  }

  *keys(): MapIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }
}
