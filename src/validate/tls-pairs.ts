/**
 * The check `nginx -t` no longer makes since TLS hosts share one TLS context (ADR 0028): NGINX
 * loads `ssl_certificate $sg_tls_cert` at each handshake, so a certificate and key that do not
 * belong together (or a file that is not a PEM certificate or key) fail only that host's
 * handshakes, and a check of the config passes. The agent, which has the real secrets, reads the
 * pairs the two SNI maps name and checks each one as NGINX would load it; a bad pair fails the
 * check like an `nginx -t` error did, so the replica keeps its last good config and status says
 * which files (never what is in them).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Validation } from './result';

export interface TlsPair {
  readonly cert: string;
  readonly key: string;
  /** The SNI names that select it ("default" for the map's default). */
  readonly hosts: readonly string[];
}

/** `"host" "path";` and `default "path";` lines of one map block of the rendered config. */
function mapEntries(conf: string, variable: string): Map<string, string> {
  const out = new Map<string, string>();
  const start = conf.indexOf(`map $ssl_server_name ${variable} {`);
  if (start < 0) return out;
  const end = conf.slice(start).search(/\n\s*\}/);
  for (const line of conf.slice(start, end < 0 ? undefined : start + end).split('\n')) {
    const m = /^\s*(?:"([^"]+)"|(default))\s+"([^"]*)";\s*$/.exec(line);
    const host = m?.[1] ?? m?.[2];
    if (host !== undefined && m?.[3] !== undefined && m[3] !== '') out.set(host, m[3]);
  }
  return out;
}

/** The certificate/key pairs the shared TLS server's maps select, one per distinct pair. */
export function sharedTlsPairs(nginxConf: string): TlsPair[] {
  const certs = mapEntries(nginxConf, '$sg_tls_cert');
  const keys = mapEntries(nginxConf, '$sg_tls_key');
  const pairs = new Map<string, { cert: string; key: string; hosts: string[] }>();
  for (const [host, cert] of certs) {
    const key = keys.get(host);
    if (key === undefined) continue;
    const id = `${cert}\n${key}`;
    const p = pairs.get(id) ?? { cert, key, hosts: [] };
    p.hosts.push(host);
    pairs.set(id, p);
  }
  return [...pairs.values()];
}

/** Why this pair would fail a handshake, or undefined when NGINX can load it. */
export function pairProblem(pair: TlsPair, read: (path: string) => Buffer = readFileSync): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(read(pair.cert));
  } catch (err) {
    return `${pair.cert} is not a readable PEM certificate (${errorCode(err)})`;
  }
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(read(pair.key)));
  } catch (err) {
    return `${pair.key} is not a readable unencrypted PEM private key (${errorCode(err)})`;
  }
  return matches ? undefined : `the key ${pair.key} does not belong to the certificate ${pair.cert}`;
}

/** Node's error code (ENOENT, ERR_OSSL_…), never its message: a failed parse might quote the input. */
function errorCode(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'unparsable';
}

/** Every pair of the config checked; the first problems (hosts named) as a failed Validation. */
export function checkSharedTlsPairs(nginxConf: string, read: (path: string) => Buffer = readFileSync): Validation {
  const problems = sharedTlsPairs(nginxConf).flatMap((p) => {
    const why = pairProblem(p, read);
    return why === undefined ? [] : [`${why} (served for ${p.hosts.slice(0, 3).join(', ')}${p.hosts.length > 3 ? `, +${p.hosts.length - 3} more` : ''})`];
  });
  if (problems.length === 0) return { ok: true, output: '' };
  return { ok: false, output: `TLS certificate check: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; ${problems.length - 5} more` : ''}` };
}
