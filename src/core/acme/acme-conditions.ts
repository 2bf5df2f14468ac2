/**
 * The ACME conditions: CertificateReady on a Route (what its certificate is now, and the order's
 * progress or why it failed) and Ready on an Issuer (its account). Messages carry absolute times and
 * the CA's problem detail, never key material.
 */
import { condition, type Condition } from '../../domain/conditions';
import type { AcmeOrder } from '../../plan/acme-routes';
import type { StoredCertificate } from './acme-state-store';
import type { OrderStep } from './acme-order';

/** The order in flight for a route, or the last failed one. */
export interface OrderProgress {
  readonly step: OrderStep;
  readonly renewing: boolean;
  readonly startedAt: number;
  readonly failures: number;
  readonly retryAt?: number;
  readonly error?: string;
  readonly retryAfterMs?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A refusal for too many orders (RFC 8555 urn:ietf:params:acme:error:rateLimited, or its usual wording). */
export function isRateLimit(detail: string, retryAfterMs: number | undefined): boolean {
  return retryAfterMs !== undefined || /rate ?limit|too many/i.test(detail);
}

export function certificateCondition(o: AcmeOrder, held: StoredCertificate | undefined, p: OrderProgress | undefined, now: number, renewAt?: number): Condition {
  const valid = held !== undefined && held.issuer === o.issuer && held.notAfter > now;
  const what = valid ? `certificate from issuer "${o.issuer}" valid until ${iso(held.notAfter)}` : `no certificate from issuer "${o.issuer}" yet`;
  if (p?.error !== undefined) {
    const next = p.retryAt !== undefined ? `; next attempt at ${iso(p.retryAt)}` : '';
    const failed = `${p.renewing ? 'renewal' : 'order'} failed while ${p.step} (attempt ${p.failures}): ${p.error}${next}`;
    const reason = isRateLimit(p.error, p.retryAfterMs) ? 'RateLimited' : p.step === 'waiting for the CA to validate' || p.step === 'presenting the challenges' ? 'ChallengeFailed' : 'OrderFailed';
    const rateNote = reason === 'RateLimited' && p.retryAfterMs !== undefined ? ` (the CA asked to retry after ${Math.ceil(p.retryAfterMs / 1000)} s)` : '';
    return condition('CertificateReady', valid ? 'True' : 'False', reason, `${what}; ${failed}${rateNote}`);
  }
  if (p !== undefined) return condition('CertificateReady', valid ? 'True' : 'False', p.renewing ? 'Renewing' : 'Issuing', `${what}; ${p.renewing ? 'renewing' : 'ordering'} for ${o.hosts.join(', ')}: ${p.step}`);
  if (valid) return condition('CertificateReady', 'True', 'Issued', `${what}, covering ${held.hosts.join(', ')}${renewAt !== undefined ? `; next renewal at ${iso(renewAt)}` : ''}`);
  return condition('CertificateReady', 'False', 'Issuing', `${what}; an order for ${o.hosts.join(', ')} is queued`);
}

export function issuerCondition(name: string, account: { ok: boolean; message: string } | undefined, durable: boolean): Condition {
  const storage = durable ? '' : '; the core runs without TLS (--insecure), so the account and certificates are kept in memory only and ordered again after a restart';
  if (account === undefined) return condition('Ready', 'Unknown', 'Pending', `issuer "${name}": registering the ACME account${storage}`);
  return account.ok ? condition('Ready', 'True', 'AccountRegistered', `${account.message}${storage}`) : condition('Ready', 'False', 'AccountFailed', `${account.message}${storage}`);
}
