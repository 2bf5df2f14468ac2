/**
 * Generated identifiers (upstream names, NGINX map variables, HAProxy ACLs, cookie tags) that are
 * injective by construction: a NameTable hands each distinct identity its own name, never one that
 * an earlier identity holds.
 *
 * A name starts from a readable base (a short hash of the identity, the service name folded to
 * letters, digits and "_"), because operators read these names in configs, logs and metrics and
 * because NGINX finds upstreams fastest when names differ early. The base is only a proposal: short
 * hashes and folded strings collide — by chance, or because someone picked a service name or match
 * value to collide on purpose, which takes seconds for a 24- or 32-bit hash. When the base is taken
 * by another identity, the later identity gets the base plus `_x2`, `_x3`, … (the first one free).
 * Uniqueness therefore never rests on the hash: two identities can share a base, never a name.
 *
 * Deterministic: the same identities asked for in the same order get the same names, so a converged
 * cluster renders byte-identical configs. Callers ask in a deterministic order: upstream names as
 * routes are compiled (oldest first, rules and backends in spec order), so an older route's upstream
 * keeps its name when a younger one with a colliding base appears; renderer names in the order the
 * view model is built. Only colliding identities ever carry a suffix, so names without a collision
 * are exactly the readable bases (and did not change when this table was introduced).
 *
 * `base` must be a function of `identity` (every caller derives it from the same values).
 */
export class NameTable {
  private readonly byIdentity = new Map<string, string>();
  private readonly taken = new Set<string>();

  /**
   * @param fold how the consumer compares names: NGINX compares upstream and variable names without
   *   regard to case, so two names that differ only in case would be one there (pass toLowerCase).
   */
  constructor(private readonly fold: (name: string) => string = (name) => name) {}

  /** The name of `identity` (a complete, unambiguous encoding of what the name stands for; see identityKey). */
  name(identity: string, base: string): string {
    const known = this.byIdentity.get(identity);
    if (known !== undefined) return known;
    let name = base;
    for (let k = 2; this.taken.has(this.fold(name)); k++) name = `${base}_x${k}`;
    this.byIdentity.set(identity, name);
    this.taken.add(this.fold(name));
    return name;
  }
}

/** An unambiguous encoding of a tuple of values (JSON: every string is quoted and escaped, so no separator can be forged). */
export function identityKey(...parts: readonly (string | number | boolean | undefined | readonly string[])[]): string {
  return JSON.stringify(parts.map((p) => (p === undefined ? null : p)));
}

export const lowerCase = (name: string): string => name.toLowerCase();
