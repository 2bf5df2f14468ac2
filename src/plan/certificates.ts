/**
 * Certificates stored with `swarmgate tls apply`: how their versions are named as Docker secrets, which
 * version a route's `tls.certificate.name` resolves to, and when a route warns about expiry. Pure: the
 * CLI, the apply layer and the plan share these rules, so a name means the same thing everywhere.
 */
import type { CertificateName, SwarmName } from '../domain/brands';
import { condition, type Condition } from '../domain/conditions';
import type { CertificatePart, SnapshotSecret, UtcTimestamp } from '../domain/snapshot';

/** A route warns this many days before its certificate's notAfter (inclusive). */
export const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `sg-cert-<name>-v<version>.crt|.key`: the proxies mount each secret under its own name, so a new
 * version is a new file path in the rendered config, which is what makes the proxies move to it.
 */
export function certificateSecretName(name: string, version: number, part: CertificatePart): SwarmName {
  return `sg-cert-${name}-v${version}.${part === 'cert' ? 'crt' : 'key'}` as SwarmName;
}

/** One complete version: both secrets exist. */
export interface CertificateVersion {
  readonly name: CertificateName;
  readonly version: number;
  readonly certSecret: SwarmName;
  readonly keySecret: SwarmName;
  readonly notAfter?: UtcTimestamp;
  /** The certificate's DNS names; absent when unknown (stored before they were recorded). */
  readonly dnsNames?: readonly string[];
}

/**
 * Complete versions by certificate name, newest first. A version with one part only (an apply that
 * is still running, or one that failed half-way) is not a version yet: routes stay on the previous one.
 */
export function certificateVersions(secrets: readonly SnapshotSecret[]): ReadonlyMap<string, readonly CertificateVersion[]> {
  interface Parts {
    readonly name: CertificateName;
    readonly version: number;
    cert?: SnapshotSecret;
    key?: SnapshotSecret;
  }
  const parts = new Map<string, Parts>();
  for (const s of secrets) {
    const c = s.certificate;
    if (c === undefined) continue;
    const key = `${c.name}\u0000${c.version}`;
    const entry: Parts = parts.get(key) ?? { name: c.name, version: c.version };
    // Two secrets claiming the same part (labelled by hand): keep the one named as tls apply names it.
    const current = entry[c.part];
    if (current === undefined || s.name === certificateSecretName(c.name, c.version, c.part)) entry[c.part] = s;
    parts.set(key, entry);
  }
  const out = new Map<string, CertificateVersion[]>();
  for (const e of parts.values()) {
    if (e.cert === undefined || e.key === undefined) continue;
    const notAfter = e.cert.certificate?.notAfter;
    const dnsNames = e.cert.certificate?.dnsNames;
    const v: CertificateVersion = {
      name: e.name,
      version: e.version,
      certSecret: e.cert.name,
      keySecret: e.key.name,
      ...(notAfter !== undefined ? { notAfter } : {}),
      ...(dnsNames !== undefined ? { dnsNames } : {}),
    };
    out.set(e.name, [...(out.get(e.name) ?? []), v]);
  }
  for (const list of out.values()) list.sort((a, b) => b.version - a.version);
  return out;
}

/** The version a route naming `name` uses: the newest complete one. */
export function currentCertificate(versions: Pick<ReadonlyMap<string, readonly CertificateVersion[]>, 'get'>, name: string): CertificateVersion | undefined {
  return versions.get(name)?.[0];
}

export type ExpiryState = { readonly kind: 'valid' } | { readonly kind: 'expiring'; readonly daysLeft: number } | { readonly kind: 'expired' };

/**
 * Valid until EXPIRY_WARNING_DAYS before notAfter; expiring from then on, notAfter itself included
 * (X.509 validity includes its last second); expired after it.
 */
export function expiryState(notAfter: string, now: Date): ExpiryState {
  const end = Date.parse(notAfter);
  const left = end - now.getTime();
  if (left < 0) return { kind: 'expired' };
  if (left <= EXPIRY_WARNING_DAYS * DAY_MS) return { kind: 'expiring', daysLeft: Math.floor(left / DAY_MS) };
  return { kind: 'valid' };
}

/**
 * The warning a route carries for its stored certificate, or undefined. Messages hold the absolute
 * time only: a relative "in 3 days" would change the status (a write) on every run.
 */
export function expiryCondition(cert: CertificateVersion, now: Date): Condition | undefined {
  if (cert.notAfter === undefined) return undefined;
  const state = expiryState(cert.notAfter, now);
  const what = `certificate "${cert.name}" (version ${cert.version})`;
  const renew = `store a renewed pair with swarmgate tls apply ${cert.name}`;
  if (state.kind === 'expired') return condition('CertificateExpiring', 'True', 'Expired', `${what} expired at ${cert.notAfter}; clients reject it: ${renew}`);
  if (state.kind === 'expiring') return condition('CertificateExpiring', 'True', 'ExpiresSoon', `${what} expires at ${cert.notAfter}, within ${EXPIRY_WARNING_DAYS} days: ${renew}`);
  return undefined;
}

/**
 * Whether a certificate name covers a route host, as TLS clients check it (RFC 6125): exact match,
 * case-insensitive; a `*.` name covers exactly one more label (`*.example.com` covers
 * `a.example.com`, not `example.com` nor `a.b.example.com`). A wildcard route host is covered only
 * by the same wildcard name, since it serves every such one-label host.
 */
export function nameCoversHost(name: string, host: string): boolean {
  const n = name.toLowerCase();
  const h = host.toLowerCase();
  if (n === h) return true;
  if (!n.startsWith('*.') || h.startsWith('*.')) return false;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === n.slice(2);
}

/** The hosts none of the certificate's names covers, in the order given. */
export function uncoveredHosts(dnsNames: readonly string[], hosts: readonly string[]): string[] {
  return hosts.filter((h) => !dnsNames.some((n) => nameCoversHost(n, h)));
}

/** CertificateMismatch for a route whose stored certificate's names leave some of its hosts uncovered. */
export function mismatchCondition(cert: CertificateVersion, hosts: readonly string[]): Condition | undefined {
  if (cert.dnsNames === undefined) return undefined;
  const missing = uncoveredHosts(cert.dnsNames, hosts);
  if (missing.length === 0) return undefined;
  const names = cert.dnsNames.length === 0 ? 'no DNS names' : `DNS names ${cert.dnsNames.join(', ')}`;
  return condition(
    'CertificateMismatch',
    'True',
    'HostNotCovered',
    `certificate "${cert.name}" version ${cert.version} (${names}) does not cover ${missing.map((h) => `"${h}"`).join(', ')}; clients reject it there: store a certificate whose names cover every host (swarmgate tls apply ${cert.name} --cert FILE --key FILE)`,
  );
}
