/**
 * Hash collisions on demand, for tests of generated names: a birthday search over gen(0), gen(1), …
 * (deterministic; a 24-bit hash takes a few thousand tries, a 32-bit one some 100 000 — well under a
 * second, which is also all it takes an attacker).
 */
export function hashCollision(gen: (i: number) => string, hash: (s: string) => string, limit = 1 << 21): [string, string] {
  const seen = new Map<string, string>();
  for (let i = 0; i < limit; i++) {
    const s = gen(i);
    const h = hash(s);
    const earlier = seen.get(h);
    if (earlier !== undefined && earlier !== s) return [earlier, s];
    seen.set(h, s);
  }
  throw new Error('no collision found');
}

/** Base-3 digits of i as separators between letters: every result folds ([^A-Za-z0-9] → "_") to the same "w_a_a_…_a". */
export function separatorVariant(i: number): string {
  let out = 'w';
  let n = i;
  for (let k = 0; k < 16; k++) {
    out += ['.', '-', '_'][n % 3] ?? '_';
    out += 'a';
    n = Math.floor(n / 3);
  }
  return out;
}
