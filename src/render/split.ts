/**
 * Weights → percentages for a hash split (NGINX split_clients, HAProxy weights alike).
 * Shares are floored to 0.01 % so they never sum above 100; the last target takes the rest ("*"),
 * which keeps the declared weight/Σweights within 0.01 % for every target.
 */
export function splitPercentages(weights: readonly number[]): string[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return [];
  return weights.map((w, i) => (i === weights.length - 1 ? '*' : `${(Math.floor((w * 10000) / total) / 100).toFixed(2)}%`));
}
