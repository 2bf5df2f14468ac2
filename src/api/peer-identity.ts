/**
 * The identity of the component on the other end of a gRPC call, read from the TLS peer
 * certificate grpc-js verified against our CA: the one `spiffe://swarmgate/…` SAN URI the core
 * put in it when it issued it (ADR 0012). One small accessor for every handler that needs to know
 * who calls (authorisation here; certificate delivery over the agent's stream).
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { parseIdentityUri, type Identity } from '../domain/identity';

export interface PeerCertificateInfo {
  /** undefined: the certificate names no (or more than one, or an unknown) swarmgate identity. */
  readonly identity?: Identity;
  /** SHA-256 fingerprint (AB:CD:…), as issueIdentity reports it: the core's allow-list key. */
  readonly fingerprint: string;
}

/** What grpc-js server calls offer (its AuthContext type is not exported from the package root). */
interface HasAuthContext {
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: PeerCertificate } | null;
}

/** The SAN URIs of a DER certificate ("URI:a, DNS:b" → ["a"]). */
function sanUris(raw: Buffer): string[] {
  const san = new X509Certificate(raw).subjectAltName ?? '';
  return san
    .split(/,\s*/)
    .filter((e) => e.startsWith('URI:'))
    .map((e) => e.slice('URI:'.length));
}

/** Whether the call came over TLS (the core started with --tls-dir); plaintext is the development mode. */
export function isTlsCall(call: HasAuthContext): boolean {
  return call.getAuthContext()?.transportSecurityType === 'ssl';
}

/** The verified peer certificate of a TLS call, or undefined (plaintext, or no certificate). */
export function peerCertificate(call: HasAuthContext): PeerCertificateInfo | undefined {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (cert?.raw === undefined || cert.raw.length === 0) return undefined;
  const ids = sanUris(cert.raw).map(parseIdentityUri);
  const identity = ids.length === 1 ? ids[0] : undefined;
  return { fingerprint: cert.fingerprint256, ...(identity !== undefined ? { identity } : {}) };
}

/** `{ role, cluster }` of the caller, or undefined when it has none (plaintext, or a certificate without a swarmgate identity). */
export function peerIdentity(call: HasAuthContext): Identity | undefined {
  return peerCertificate(call)?.identity;
}
