/**
 * Client certificates at the edge on NGINX (Route tls.clientCertificate): the server's
 * ssl_verify_client settings, and the X-Client-Cert-* headers every proxied location of the server
 * sets. NGINX answers the failures itself: 400 "No required SSL certificate was sent" (its 496) and
 * 400 "The SSL certificate error" (495, also a revoked certificate), and 421 when a request names a
 * host with a client-certificate policy on a connection whose SNI chose another server (HTTP/2
 * connection coalescing), so one host's verification never covers another's.
 */
import type { TlsTerminate } from '../../plan/model';
import { CLIENT_CERT_HEADERS, CLIENT_CERT_HEADER_NAMES } from '../../domain/route';
import { token } from '../token';
import type { NameRef, ProxyBodyView, ServerView } from './view-types';

/** Chains of up to this many certificates (leaf, intermediates, root) verify; NGINX's default is 1. */
export const CLIENT_VERIFY_DEPTH = 5;

const HEADERS: readonly NameRef[] = [
  { name: CLIENT_CERT_HEADERS.verify, ref: token('$ssl_client_verify') },
  { name: CLIENT_CERT_HEADERS.subject, ref: token('$ssl_client_s_dn') },
  { name: CLIENT_CERT_HEADERS.issuer, ref: token('$ssl_client_i_dn') },
  { name: CLIENT_CERT_HEADERS.fingerprint, ref: token('$ssl_client_fingerprint') },
];

/** The server's verification settings, and the refusal of plain HTTP (no certificate can come there) unless it redirects. */
export function clientCertServer(tls: TlsTerminate | undefined, secretsDir: string, acme: boolean): Pick<ServerView, 'clientCert' | 'plainRefused'> {
  if (tls?.clientCertMode === undefined || tls.clientCaSecret === undefined) return {};
  return {
    clientCert: {
      ca: `${secretsDir}/${tls.clientCaSecret}`,
      verify: token(tls.clientCertMode === 'Require' ? 'on' : 'optional'),
      depth: CLIENT_VERIFY_DEPTH,
      ...(tls.clientCrlSecret !== undefined ? { crl: `${secretsDir}/${tls.clientCrlSecret}` } : {}),
    },
    ...(tls.redirectHTTP ? {} : { plainRefused: { acme } }),
  };
}

/**
 * A proxied body that also sends the client-certificate headers: proxy_set_header is inherited
 * all-or-nothing, so the body states the whole set. The user's edits of these names give way.
 */
export function withClientCertHeaders(b: ProxyBodyView, standard: readonly NameRef[]): ProxyBodyView {
  if (!b.proxy) return b;
  const ours = new Set(CLIENT_CERT_HEADER_NAMES.map((n) => n.toLowerCase()));
  const other = (h: { name: string }): boolean => !ours.has(h.name.toLowerCase());
  const fixed = b.customHeaders ? b.fixedHeaders : standard;
  return { ...b, customHeaders: true, fixedHeaders: [...fixed.filter(other), ...HEADERS], userHeaders: b.userHeaders.filter(other) };
}
