/**
 * When the core renews an ACME certificate and when it tries an order again after a failure. Pure
 * (time is an input), so the rules are unit- and property-tested, and the same after a core restart:
 * the jitter comes from the certificate's identity, not from a random draw.
 */
import { sha256Hex } from '../domain/sha256';
import type { Renewal } from '../domain/issuer';

/**
 * The moment to renew: notBefore + lifetime × percentOfLifetime/100 + jitter, where the jitter is a
 * fixed fraction (from `seed`) of lifetime × jitterPercent/100. Never after notAfter − 1% of the
 * lifetime, so a certificate is always renewed while it is still valid.
 */
export function renewalTime(notBefore: number, notAfter: number, renewal: Renewal, seed: string): number {
  const lifetime = Math.max(0, notAfter - notBefore);
  const base = notBefore + (lifetime * renewal.percentOfLifetime) / 100;
  const jitter = (lifetime * renewal.jitterPercent * unitFraction(seed)) / 100;
  return Math.floor(Math.min(base + jitter, notAfter - lifetime / 100));
}

/** A number in [0, 1) from a string, the same on every run. */
export function unitFraction(seed: string): number {
  return parseInt(sha256Hex(seed).slice(0, 8), 16) / 0x1_0000_0000;
}

/** First retry after 30 s, doubling, at most 1 h apart: a misconfiguration cannot burn a CA's rate limits. */
export const ORDER_BACKOFF = { firstMs: 30_000, maxMs: 3_600_000 } as const;

/**
 * When to try again after `failures` consecutive failed orders (1 = the first failure): the
 * backoff, or the server's Retry-After when that is later (never earlier than asked).
 */
export function nextAttemptAt(now: number, failures: number, retryAfterMs?: number, b: { readonly firstMs: number; readonly maxMs: number } = ORDER_BACKOFF): number {
  const exp = Math.min(b.maxMs, b.firstMs * 2 ** Math.max(0, Math.min(30, failures - 1)));
  return now + Math.max(exp, retryAfterMs ?? 0);
}
