/**
 * Renewal timing and order backoff (src/plan/acme-timing.ts): renewal is inside the certificate's
 * lifetime, at or after percentOfLifetime and within the jitter, the same for the same certificate;
 * retries double from the first delay up to the cap, and never come before the CA's Retry-After.
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextAttemptAt, ORDER_BACKOFF, renewalTime, unitFraction } from '../../src/plan/acme-timing';
import { certificateCondition, isRateLimit } from '../../src/core/acme/acme-conditions';

const renewal = fc.record({ percentOfLifetime: fc.integer({ min: 10, max: 95 }), jitterPercent: fc.integer({ min: 0, max: 20 }) });

describe('renewalTime', () => {
  it('lies after percentOfLifetime, within the jitter, and before notAfter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_000_000_000_000 }), fc.integer({ min: 60_000, max: 400 * 86_400_000 }), renewal, fc.string(), (notBefore, lifetime, r, seed) => {
        const notAfter = notBefore + lifetime;
        const at = renewalTime(notBefore, notAfter, r, seed);
        const base = notBefore + (lifetime * r.percentOfLifetime) / 100;
        expect(at).toBeGreaterThanOrEqual(Math.floor(Math.min(base, notAfter - lifetime / 100)));
        expect(at).toBeLessThanOrEqual(base + (lifetime * r.jitterPercent) / 100);
        expect(at).toBeLessThan(notAfter);
        expect(renewalTime(notBefore, notAfter, r, seed)).toBe(at);
      }),
    );
  });

  it('renews a 90-day certificate after 60 days with the default window (2/3 + up to 5%)', () => {
    const day = 86_400_000;
    const at = renewalTime(0, 90 * day, { percentOfLifetime: 66, jitterPercent: 5 }, 'shop');
    expect(at).toBeGreaterThanOrEqual(59.4 * day);
    expect(at).toBeLessThanOrEqual(63.9 * day);
  });

  it('spreads certificates issued together', () => {
    const seeds = Array.from({ length: 200 }, (_, i) => `route-${i}`);
    const fractions = seeds.map(unitFraction);
    expect(Math.min(...fractions)).toBeLessThan(0.1);
    expect(Math.max(...fractions)).toBeGreaterThan(0.9);
    expect(new Set(fractions).size).toBe(seeds.length);
  });
});

describe('nextAttemptAt', () => {
  it('doubles from the first delay up to the cap', () => {
    const delays = [1, 2, 3, 4, 8, 20, 100].map((n) => nextAttemptAt(0, n));
    expect(delays).toEqual([30_000, 60_000, 120_000, 240_000, 3_600_000, 3_600_000, 3_600_000]);
  });

  it('is never earlier than the Retry-After the CA asked for, never later than needed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 1, max: 50 }), fc.option(fc.integer({ min: 0, max: 86_400_000 }), { nil: undefined }), (now, failures, retryAfter) => {
        const at = nextAttemptAt(now, failures, retryAfter);
        expect(at - now).toBeGreaterThanOrEqual(Math.max(ORDER_BACKOFF.firstMs, retryAfter ?? 0));
        expect(at - now).toBeLessThanOrEqual(Math.max(ORDER_BACKOFF.maxMs, retryAfter ?? 0));
      }),
    );
  });
});

describe('CertificateReady', () => {
  const order = { route: 'shop', issuer: 'le', hosts: ['shop.example.com'] as never[], cluster: 'default' };
  it('says RateLimited with the retry-after when the CA refused with one', () => {
    const c = certificateCondition(order, undefined, { step: 'placing the order', renewing: false, startedAt: 0, failures: 1, retryAt: 3_600_000, error: 'too many certificates already issued', retryAfterMs: 3_600_000 }, 0);
    expect(c).toMatchObject({ type: 'CertificateReady', status: 'False', reason: 'RateLimited' });
    expect(c.message).toContain('retry after 3600 s');
    expect(c.message).toContain('next attempt at 1970-01-01T01:00:00.000Z');
    expect(isRateLimit('urn:ietf:params:acme:error:rateLimited', undefined)).toBe(true);
  });

  it('stays True while a renewal fails and the certificate is still valid', () => {
    const held = { issuer: 'le', hosts: ['shop.example.com'], certPem: '-----BEGIN CERTIFICATE-----', keyPem: '-----BEGIN PRIVATE KEY-----', notBefore: 0, notAfter: 10_000, issuedAt: 0, orders: 1 };
    const c = certificateCondition(order, held, { step: 'waiting for the CA to validate', renewing: true, startedAt: 0, failures: 2, retryAt: 5_000, error: 'connection refused' }, 1_000);
    expect(c).toMatchObject({ status: 'True', reason: 'ChallengeFailed' });
    expect(c.message).toContain('renewal failed');
    expect(c.message).not.toContain('-----BEGIN');
  });
});
