/**
 * Checks a PEM certificate and private key before `swarmgate tls apply` stores them: every
 * certificate of the chain parses, the key is an unencrypted private key, the key belongs to the
 * first (leaf) certificate, and the certificate has not expired. A bad pair stored as a new version
 * would move every route using the name to it, and NGINX would refuse the config for all of them.
 *
 * Messages name the file and the problem only. The key's text, and OpenSSL's error text about it,
 * never appear in them: a user pastes errors into tickets.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import type { UtcTimestamp } from '../domain/snapshot';

/** Docker refuses secrets larger than 500 KiB. */
export const MAX_SECRET_BYTES = 500 * 1024;

export interface PemFile {
  /** How the user named it (only ever printed). */
  readonly file: string;
  readonly text: string;
}

export interface PairInfo {
  readonly notAfter: UtcTimestamp;
  readonly notBefore: UtcTimestamp;
  /** `sha256:<hex>` of the leaf certificate's DER form. */
  readonly fingerprint: string;
  readonly subject: string;
  /** DNS names of the subjectAltName extension. */
  readonly dnsNames: readonly string[];
  /** Certificates in the chain file, the leaf included. */
  readonly chainLength: number;
}

export type PairCheck = { readonly ok: true; readonly info: PairInfo } | { readonly ok: false; readonly errors: readonly string[] };

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function utc(text: string): UtcTimestamp | undefined {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : (new Date(ms).toISOString().replace('.000Z', 'Z') as UtcTimestamp);
}

function parseKey(key: PemFile): KeyObject | string {
  if (key.text.trim() === '') return `${key.file}: empty file (expected a PEM private key)`;
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.text)) return `${key.file}: no PEM private key found (expected "-----BEGIN PRIVATE KEY-----" or "-----BEGIN EC/RSA PRIVATE KEY-----")`;
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(key.text))
    return `${key.file}: the private key is encrypted; NGINX cannot use it without its passphrase (decrypt it first, e.g. openssl pkey -in KEY -out KEY.plain)`;
  try {
    // An empty passphrase makes an encrypted key fail here instead of prompting.
    return createPrivateKey({ key: key.text, format: 'pem', passphrase: '' });
  } catch {
    // OpenSSL's message is not passed on: it is about the key's bytes, and nothing about them belongs in output.
    return `${key.file}: not a valid PEM private key`;
  }
}

function keyMatches(leaf: X509Certificate, key: KeyObject): boolean {
  if (key.asymmetricKeyType !== leaf.publicKey.asymmetricKeyType) return false;
  try {
    return leaf.checkPrivateKey(key);
  } catch {
    return false;
  }
}

export function checkPemPair(cert: PemFile, key: PemFile, now: Date): PairCheck {
  const errors: string[] = [];
  for (const f of [cert, key]) if (Buffer.byteLength(f.text) > MAX_SECRET_BYTES) errors.push(`${f.file}: larger than ${MAX_SECRET_BYTES / 1024} KiB (Docker's limit for a secret)`);
  if (errors.length > 0) return { ok: false, errors };
  // The certificate secret is mounted for NGINX like any file; a key in it would be one more copy of the key.
  if (/PRIVATE KEY-----/.test(cert.text)) errors.push(`${cert.file}: contains a private key; pass the key with --key and keep only certificates in --cert`);
  const blocks = cert.text.match(CERT_BLOCK) ?? [];
  const chain: X509Certificate[] = [];
  if (blocks.length === 0) errors.push(`${cert.file}: no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")`);
  blocks.forEach((block, i) => {
    try {
      chain.push(new X509Certificate(block));
    } catch {
      errors.push(`${cert.file}: certificate ${i + 1} of ${blocks.length} is not a valid X.509 certificate`);
    }
  });
  const parsedKey = parseKey(key);
  if (typeof parsedKey === 'string') errors.push(parsedKey);
  const leaf = chain[0];
  if (errors.length > 0 || leaf === undefined || typeof parsedKey === 'string') return { ok: false, errors };
  if (!keyMatches(leaf, parsedKey))
    return { ok: false, errors: [`${key.file}: the private key does not belong to the certificate in ${cert.file} (the first certificate of the file must be the server's own)`] };
  const notAfter = utc(leaf.validTo);
  const notBefore = utc(leaf.validFrom);
  if (notAfter === undefined || notBefore === undefined) return { ok: false, errors: [`${cert.file}: the certificate's validity dates cannot be read`] };
  if (Date.parse(notAfter) < now.getTime()) return { ok: false, errors: [`${cert.file}: the certificate expired at ${notAfter}; clients would reject it`] };
  const dnsNames = (leaf.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  return {
    ok: true,
    info: { notAfter, notBefore, fingerprint: `sha256:${leaf.fingerprint256.replace(/:/g, '').toLowerCase()}`, subject: leaf.subject.replace(/\n/g, ', '), dnsNames, chainLength: chain.length },
  };
}
