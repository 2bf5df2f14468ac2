/** A hash split is drawn in basis points: NGINX split_clients has two decimals of a percent. */
export const SPLIT_UNITS = 10000;

/**
 * Weights → shares in basis points (out of SPLIT_UNITS), summing to exactly SPLIT_UNITS when any
 * weight is positive. Each share is weight/Σweights floored to 0.01 %, except that a positive weight
 * never gets 0 (NGINX refuses a `0.00%` line, and HAProxy would never pick the backend): it gets
 * 0.01 %, taken from the largest shares. The last target takes the rest, so it absorbs the floors.
 * At most SPLIT_UNITS targets (a rule has at most 32 backends).
 */
export function splitShares(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return [];
  const shares = weights.map((w) => (w > 0 ? Math.max(1, Math.floor((w * SPLIT_UNITS) / total)) : 0));
  const last = shares.length - 1;
  // The last target takes the rest; it too must keep at least 1 when its weight is positive.
  const lastMin = (weights[last] ?? 0) > 0 ? 1 : 0;
  let excess = shares.slice(0, last).reduce((a, b) => a + b, 0) + lastMin - SPLIT_UNITS;
  while (excess > 0) {
    // Take one unit from the largest share among the others (the first one on ties): it stays >= 1.
    let largest = 0;
    for (let i = 1; i < last; i++) if ((shares[i] ?? 0) > (shares[largest] ?? 0)) largest = i;
    shares[largest] = (shares[largest] ?? 0) - 1;
    excess--;
  }
  shares[last] = SPLIT_UNITS - shares.slice(0, last).reduce((a, b) => a + b, 0);
  return shares;
}

/**
 * Weights → percentages for a hash split (NGINX split_clients, HAProxy thresholds alike): the
 * shares of splitShares as "12.34%", the last target as "*" (the rest). Every positive weight gets a
 * nonzero share and the listed shares never sum above 100 %.
 */
export function splitPercentages(weights: readonly number[]): string[] {
  const shares = splitShares(weights);
  return shares.map((s, i) => (i === shares.length - 1 ? '*' : `${(s / 100).toFixed(2)}%`));
}
