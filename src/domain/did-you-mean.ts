/** Levenshtein distance, small inputs only (field names). */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min(up + 1, (prev[j - 1] ?? 0) + 1, diag + cost);
      diag = up;
    }
  }
  return prev[b.length] ?? 0;
}

/** Singular form for comparison, so `retry` meets `retries` and `backend` meets `backends`. */
function singular(s: string): string {
  return s.replace(/ies$/, 'y').replace(/s$/, '');
}

/** Longest string compared with the known names. */
const MAX_TYPO_LENGTH = 64;

/** The closest known name when it is close enough to be a typo, case-insensitively. */
export function didYouMean(unknown: string, known: readonly string[]): string | undefined {
  // Names are short; a long string is no typo of one, and the distance costs its length times theirs.
  if (unknown.length > MAX_TYPO_LENGTH) return undefined;
  const needle = unknown.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const lower = candidate.toLowerCase();
    const d = Math.min(distance(needle, lower), distance(singular(needle), singular(lower)));
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  const tolerance = Math.max(2, Math.floor(unknown.length / 3));
  return bestDistance <= tolerance ? best : undefined;
}
