/**
 * The agent's check of the certificate/key pairs the shared NGINX TLS server loads per handshake
 * (ADR 0028): read from the rendered config's SNI maps, checked with the real files, reported by
 * path and host only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSharedTlsPairs, pairProblem, sharedTlsPairs } from '../../src/validate/tls-pairs';
import { selfSigned } from '../helpers/tls-material';

const GOLDEN = readFileSync(join(__dirname, '../golden/19-tls-terminate/expected/default.nginx.conf'), 'utf8');
const shop = selfSigned('shop.example.com');
const other = selfSigned('other.example.com');

/** A file system of PEM texts by path. */
const files = (m: Record<string, string>) => (path: string): Buffer => {
  const text = m[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
  return Buffer.from(text);
};

describe('sharedTlsPairs: the pairs the SNI maps select', () => {
  it('reads one pair per distinct certificate and key, with the hosts that select it', () => {
    const pairs = sharedTlsPairs(GOLDEN);
    expect(pairs.find((p) => p.cert === '/run/secrets/shop-cert')).toEqual({ cert: '/run/secrets/shop-cert', key: '/run/secrets/shop-key', hosts: ['*.shop.example.com', 'shop.example.com'] });
    expect(new Set(pairs.map((p) => `${p.cert} ${p.key}`)).size).toBe(pairs.length);
  });

  it('finds nothing in a config without the shared TLS server', () => {
    expect(sharedTlsPairs('events {}\nhttp {\n    server { listen 80; }\n}\n')).toEqual([]);
    expect(checkSharedTlsPairs('events {}\n')).toEqual({ ok: true, output: '' });
  });
});

describe('pairProblem: what NGINX would fail to load at a handshake', () => {
  const pair = { cert: '/s/cert', key: '/s/key', hosts: ['shop.example.com'] };

  it('accepts a certificate with its own key', () => {
    expect(pairProblem(pair, files({ '/s/cert': shop.cert, '/s/key': shop.key }))).toBeUndefined();
  });

  it('names the files when the key belongs to another certificate', () => {
    expect(pairProblem(pair, files({ '/s/cert': shop.cert, '/s/key': other.key }))).toBe('the key /s/key does not belong to the certificate /s/cert');
  });

  it('names a missing file, or one that is not a PEM certificate or key', () => {
    expect(pairProblem(pair, files({ '/s/key': shop.key }))).toBe('/s/cert is not a readable PEM certificate (ENOENT)');
    expect(pairProblem(pair, files({ '/s/cert': shop.key, '/s/key': shop.key }))).toMatch(/^\/s\/cert is not a readable PEM certificate \(/);
    expect(pairProblem(pair, files({ '/s/cert': shop.cert, '/s/key': shop.cert }))).toMatch(/^\/s\/key is not a readable unencrypted PEM private key \(/);
  });
});

describe('checkSharedTlsPairs on the rendered config', () => {
  it("passes the golden's pairs when the secrets hold matching files, fails naming the hosts when not", () => {
    const good = Object.fromEntries(sharedTlsPairs(GOLDEN).flatMap((p) => [[p.cert, shop.cert], [p.key, shop.key]]));
    expect(checkSharedTlsPairs(GOLDEN, files(good))).toEqual({ ok: true, output: '' });
    const bad = checkSharedTlsPairs(GOLDEN, files({ ...good, '/run/secrets/shop-key': other.key }));
    expect(bad.ok).toBe(false);
    expect(bad.output).toContain('TLS certificate check: the key /run/secrets/shop-key does not belong to the certificate /run/secrets/shop-cert (served for *.shop.example.com, shop.example.com)');
  });

  it('never puts what the files hold into its message, whatever they hold', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 12 }), fc.string({ minLength: 12 }), fc.boolean(), (certText, keyText, realCert) => {
        const cert = realCert ? shop.cert : `-----BEGIN CERTIFICATE-----\n${certText}\n-----END CERTIFICATE-----\n`;
        const key = `-----BEGIN PRIVATE KEY-----\n${keyText}\n-----END PRIVATE KEY-----\n`;
        const r = checkSharedTlsPairs(GOLDEN, files({ '/run/secrets/shop-cert': cert, '/run/secrets/shop-key': key }));
        expect(r.ok).toBe(false);
        expect(r.output).not.toContain('-----BEGIN');
        if (keyText.trim().length >= 12) expect(r.output).not.toContain(keyText.trim());
      }),
      { numRuns: 200 },
    );
  });
});
