/**
 * Structural equality of plain data (what specs, snapshots and pipeline inputs are made of):
 * primitives, arrays, plain objects, Maps, Sets, Dates and byte arrays. Identical references are
 * equal at once, so comparing inputs that share most of their objects (the spec reader caches
 * decoded specs by config ID) costs little more than walking the lists.
 * An own property whose value is undefined counts as absent (JSON's view, which is how models,
 * specs and snapshots are serialised and hashed).
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    // A loop, not every(): this runs per element of large models (ADR 0043 compares hosts with it).
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (a instanceof Map) return b instanceof Map && a.size === b.size && [...a].every(([k, v]) => b.has(k) && sameData(v, b.get(k)));
  if (a instanceof Set) return b instanceof Set && a.size === b.size && [...a].every((x) => b.has(x));
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (ArrayBuffer.isView(a)) {
    if (!ArrayBuffer.isView(b) || a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.every((v, i) => v === y[i]);
  }
  if (b instanceof Map || b instanceof Set || b instanceof Date || ArrayBuffer.isView(b)) return false;
  return sameRecords(a as Record<string, unknown>, b as Record<string, unknown>, NONE);
}

const NONE: ReadonlySet<string> = new Set();

/** Two plain objects equal (sameData) in every own property but those named in `except`. */
export function sameDataExcept(a: unknown, b: unknown, except: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) || Array.isArray(b)) return sameData(a, b);
  return sameRecords(a as Record<string, unknown>, b as Record<string, unknown>, except);
}

function sameRecords(ra: Record<string, unknown>, rb: Record<string, unknown>, except: ReadonlySet<string>): boolean {
  let na = 0;
  for (const k in ra) {
    if (!Object.prototype.hasOwnProperty.call(ra, k) || ra[k] === undefined || except.has(k)) continue;
    if (!Object.prototype.hasOwnProperty.call(rb, k) || !sameData(ra[k], rb[k])) return false;
    na++;
  }
  let nb = 0;
  for (const k in rb) if (Object.prototype.hasOwnProperty.call(rb, k) && rb[k] !== undefined && !except.has(k)) nb++;
  return na === nb;
}
