/**
 * Issuer: an ACME account (directory URL, contact, optional external account binding and CA
 * bundle) and the challenge solvers that prove control of a Route's hosts. Routes name one with
 * `tls.certificate.issuer`; the core orders each certificate once for the whole fleet
 * (docs/adr/0013-acme-issuers.md). Structural decoding is here, cross-field rules in checkIssuer.
 */
import type * as t from 'io-ts';
import { Hostname, SwarmName } from './brands';
import { brandedString, intRange, listOf, struct, withDefault } from './codec';
import { issue, type Issue } from './issue';

export type AcmeUrl = string & t.Brand<{ readonly AcmeUrl: 'AcmeUrl' }>;
/**
 * An https URL (ACME is HTTPS only, RFC 8555 §6.1): the directory of an ACME server, or a dns01
 * webhook. Printable ASCII without spaces or quotes; the core only ever dials it, never renders it.
 */
const URL_TAIL = "([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$";
/** The shapes as regular expressions (the JSON Schema in crds/issuer.schema.json states the same). */
export const ACME_URL_PATTERN = `^https://${URL_TAIL}`;
export const WEBHOOK_URL_PATTERN = `^https?://${URL_TAIL}`;
const httpsUrl = (what: string, pattern: string) =>
  brandedString<t.Brand<{ readonly AcmeUrl: 'AcmeUrl' }>>(what, (s) => {
    if (s.length > 2048) return 'longer than 2048 characters';
    const m = new RegExp(pattern, 'u').exec(s);
    if (m === null) return `use ${pattern.startsWith('^https?') ? 'http(s)' : 'https'}://host[:port][/path] (no query, no fragment)`;
    const port = m[2]?.slice(1);
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return 'port must be 1..65535';
    return undefined;
  });
export const AcmeUrl = httpsUrl('https URL of an ACME directory', ACME_URL_PATTERN);
/** The dns01 webhook may be a plain-http service on an overlay network (no public exposure). */
export const WebhookUrl = httpsUrl('http(s) URL of a dns01 webhook', WEBHOOK_URL_PATTERN);

export type Email = string & t.Brand<{ readonly Email: 'Email' }>;
export const EMAIL_PATTERN = '^[A-Za-z0-9._%+-]{1,64}@[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$';
/** A contact address for the ACME account (the CA's expiry mails): a plain local part, a lowercase domain. */
export const Email = brandedString<t.Brand<{ readonly Email: 'Email' }>>('e-mail address (local@domain, lowercase domain)', (s) => {
  if (s.length > 254) return 'longer than 254 characters';
  return new RegExp(EMAIL_PATTERN, 'u').test(s) ? undefined : 'use local@domain (letters, digits, "._%+-" before "@"; a lowercase domain with a dot)';
});

export type EabKeyId = string & t.Brand<{ readonly EabKeyId: 'EabKeyId' }>;
export const EabKeyId = brandedString<t.Brand<{ readonly EabKeyId: 'EabKeyId' }>>('external account key id (letters, digits, "_", "-", 1..256)', (s) =>
  /^[A-Za-z0-9_-]{1,256}$/.test(s) ? undefined : 'use letters, digits, "_" and "-" (1..256)',
);

/** RFC 8555 §7.3.4: the CA gives a key id and an HMAC key; the key is a Docker secret mounted into the core. */
export const ExternalAccountBinding = struct('externalAccountBinding', { keyId: EabKeyId, hmacKeySecret: SwarmName });

/** The CA certificate(s) to trust for the ACME server (private CAs, test CAs): one of a Docker secret or config. */
export const CaBundle = struct('caBundle', {}, { secret: SwarmName, config: SwarmName });

export const Acme = struct('acme', { server: AcmeUrl, email: Email }, { externalAccountBinding: ExternalAccountBinding, caBundle: CaBundle });

/** Which hosts a solver is for: the host equals a suffix or ends with "." + suffix. Empty: every host. */
export const SolverSelector = struct('selector', { hostSuffixes: withDefault(listOf(Hostname, { max: 64 }), []) });

/**
 * dns01 through a webhook: swarmgate POSTs `{"action":"present"|"cleanup","fqdn":"_acme-challenge.<host>","value":"<TXT>"}`
 * to `url` and expects a 2xx once the record is (or no longer is) served. Any DNS provider plugs in.
 */
export const Dns01 = struct('dns01', { webhook: struct('webhook', { url: WebhookUrl }) });
export const Http01 = struct('http01', {});

export const Solver = struct('solver', { selector: withDefault(SolverSelector, { hostSuffixes: [] }) }, { http01: Http01, dns01: Dns01 });
export type Solver = t.TypeOf<typeof Solver>;

/**
 * When to renew: at `percentOfLifetime` of the certificate's validity (default 2/3) plus a jitter of
 * up to `jitterPercent` of the lifetime, so certificates issued together are not renewed together.
 */
export const Renewal = struct('renewal', { percentOfLifetime: withDefault(intRange(10, 95), 66), jitterPercent: withDefault(intRange(0, 20), 5) });
export type Renewal = t.TypeOf<typeof Renewal>;
export const DEFAULT_RENEWAL: Renewal = { percentOfLifetime: 66, jitterPercent: 5 };

export const IssuerSpec = struct('Issuer spec', { acme: Acme, solvers: listOf(Solver, { min: 1, max: 16 }), renewal: withDefault(Renewal, DEFAULT_RENEWAL) });
export type IssuerSpec = t.TypeOf<typeof IssuerSpec>;

/** Exactly one form per solver and per CA bundle. */
export function checkIssuer(spec: IssuerSpec): Issue[] {
  const out: Issue[] = [];
  spec.solvers.forEach((s, i) => {
    if ((s.http01 === undefined) === (s.dns01 === undefined)) out.push(issue(['spec', 'solvers', i], 'give exactly one of http01, dns01'));
  });
  const ca = spec.acme.caBundle;
  if (ca !== undefined && (ca.secret === undefined) === (ca.config === undefined)) out.push(issue(['spec', 'acme', 'caBundle'], 'give exactly one of secret, config'));
  return out;
}

/** Whether a selector applies to a host (a wildcard host `*.a.b` is matched by its base `a.b`). */
export function selectorMatches(hostSuffixes: readonly string[], host: string): boolean {
  if (hostSuffixes.length === 0) return true;
  const h = host.toLowerCase().replace(/^\*\./, '');
  return hostSuffixes.some((s) => {
    const suffix = s.toLowerCase();
    return h === suffix || h.endsWith(`.${suffix}`);
  });
}

/** The solver an Issuer uses for a host: the first that matches it and can prove it (a wildcard needs dns01). */
export function solverFor(spec: IssuerSpec, host: string): Solver | undefined {
  const wildcard = host.startsWith('*.');
  return spec.solvers.find((s) => selectorMatches(s.selector.hostSuffixes, host) && (!wildcard || s.dns01 !== undefined));
}
