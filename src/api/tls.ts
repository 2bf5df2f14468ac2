/**
 * Mutual TLS for the core's gRPC API. `swarmgate install` (and `rotate-certs`) makes a private CA
 * and the core's server certificate and stores them, with the CA key, as Docker secrets that only
 * the core mounts. The core then issues one certificate per component role and cluster (the proxy
 * agents of cluster X, the extension of cluster X; see ADR 0012) with `issueIdentity`, each naming
 * its identity in a SAN URI that the core checks on every call.
 *
 * Key material only ever lives in secret files and in memory: it is never logged, and errors
 * mention file names, not contents.
 */
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityUri, type Identity } from '../domain/identity';

export { CORE_TLS_NAME, TLS_DIR_IN_TASKS, TLS_FILES, type TlsFile, type TlsMaterial } from '../domain/tls-layout';
import { CORE_TLS_NAME, TLS_FILES, type TlsMaterial } from '../domain/tls-layout';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function inTempDir<T>(f: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'sg-tls-'));
  try {
    return f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A key and a certificate signed by ca.crt / ca.key in `dir`, with the given subject and extensions. */
function issueInto(dir: string, name: string, cn: string, ext: string, days: number): { cert: string; key: string } {
  openssl(dir, ['req', ...EC, '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', String(days), '-out', `${name}.crt`, '-extfile', `${name}.ext`]);
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

/** A fresh CA (with its key, which only the core mounts) and the core's server pair (EC P-256, valid `days`), made with the openssl CLI. */
export function generateTlsMaterial(days = 825): TlsMaterial {
  return inTempDir((dir) => {
    // Each set's CA has its own name, so a set's CA cross-signed by the previous one (crossSign) never looks self-issued.
    openssl(dir, ['req', '-x509', ...EC, '-days', String(days), '-subj', `/CN=swarmgate CA ${randomBytes(4).toString('hex')}`, '-keyout', 'ca.key', '-out', 'ca.crt', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const server = issueInto(dir, 'server', CORE_TLS_NAME, `subjectAltName=DNS:${CORE_TLS_NAME},DNS:localhost,IP:127.0.0.1,URI:${identityUri({ role: 'core' })}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`, days);
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    return { ca: read('ca.crt'), caKey: read('ca.key'), serverCert: server.cert, serverKey: server.key };
  });
}

export interface IssuedIdentity {
  readonly cert: string;
  readonly key: string;
  /** SHA-256 fingerprint of the certificate as node:tls reports it for a peer (AB:CD:…), for the core's allow-list. */
  readonly fingerprint: string;
}

/** A client certificate for one identity, signed by the CA; its only SAN is the identity URI. */
export function issueIdentity(ca: { readonly cert: string; readonly key: string }, identity: Identity, days = 825): IssuedIdentity {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'ca.crt'), ca.cert);
    writeFileSync(join(dir, 'ca.key'), ca.key, { mode: 0o600 });
    const cn = `swarmgate-${identity.role}${'cluster' in identity ? `.${identity.cluster}` : ''}`;
    const pair = issueInto(dir, 'client', cn, `subjectAltName=URI:${identityUri(identity)}\nextendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n`, days);
    return { ...pair, fingerprint: new X509Certificate(pair.cert).fingerprint256 };
  });
}

/**
 * The CA `ca` certified by the previous set's CA (same subject, same key, issued by `previous`):
 * the core sends it after its server certificate, so a component that still trusts only the
 * previous CA verifies the new server (server → ca, cross-signed → previous CA) while one that trusts
 * the new CA stops at it (OpenSSL looks in its trust store first). ADR 0019.
 */
export function crossSign(ca: { readonly cert: string; readonly key: string }, previous: { readonly cert: string; readonly key: string }, days = 825): string {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'new.crt'), ca.cert);
    writeFileSync(join(dir, 'new.key'), ca.key, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.crt'), previous.cert);
    writeFileSync(join(dir, 'ca.key'), previous.key, { mode: 0o600 });
    writeFileSync(join(dir, 'cross.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
    openssl(dir, ['x509', '-x509toreq', '-in', 'new.crt', '-signkey', 'new.key', '-out', 'new.csr']);
    openssl(dir, ['x509', '-req', '-in', 'new.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', String(days), '-extfile', 'cross.ext', '-out', 'cross.crt']);
    return readFileSync(join(dir, 'cross.crt'), 'utf8');
  });
}

function readTlsFile(dir: string, file: string): Buffer {
  try {
    return readFileSync(join(dir, file));
  } catch (e) {
    throw new Error(`cannot read ${join(dir, file)} (${(e as NodeJS.ErrnoException).code ?? 'error'}): is the TLS secret mounted?`);
  }
}

/** The CA pair in the core's TLS directory, when mounted (the core issues components' identities with it). */
export function readCaPair(dir: string): { cert: string; key: string } {
  return { cert: readTlsFile(dir, TLS_FILES.ca).toString('utf8'), key: readTlsFile(dir, TLS_FILES.caKey).toString('utf8') };
}

/** The previous set's CA pair, when the core was rotated to a new set and still trusts the previous one (ADR 0019). */
export function readPreviousCaPair(dir: string): { cert: string; key: string } {
  return { cert: readTlsFile(dir, TLS_FILES.previousCa).toString('utf8'), key: readTlsFile(dir, TLS_FILES.previousCaKey).toString('utf8') };
}

/**
 * The core's server side: only clients with a certificate from our CA get in (what each may call:
 * authorise.ts). During a rotation (`previous`, ADR 0019) also clients of the previous CA, and the
 * server's chain carries the new CA cross-signed by the previous one, so components that have not
 * switched yet still verify the core.
 */
export function serverCredentials(dir: string, previous?: { readonly ca: string; readonly crossSigned: string }): grpc.ServerCredentials {
  const trust = previous === undefined ? readTlsFile(dir, TLS_FILES.ca) : Buffer.concat([readTlsFile(dir, TLS_FILES.ca), Buffer.from(`\n${previous.ca}`)]);
  const chain = previous === undefined ? readTlsFile(dir, TLS_FILES.serverCert) : Buffer.concat([readTlsFile(dir, TLS_FILES.serverCert), Buffer.from(`\n${previous.crossSigned}`)]);
  return grpc.ServerCredentials.createSsl(trust, [{ cert_chain: chain, private_key: readTlsFile(dir, TLS_FILES.serverKey) }], true);
}

/** A component's client side: our CA only, and the component's own certificate. */
export function clientCredentials(dir: string): grpc.ChannelCredentials {
  return pairCredentials(readTlsFile(dir, TLS_FILES.ca), readTlsFile(dir, TLS_FILES.clientCert), readTlsFile(dir, TLS_FILES.clientKey));
}

/** Client credentials from PEM texts (an identity the core delivered over the stream, ADR 0019). */
export function pairCredentials(ca: Buffer, cert: Buffer, key: Buffer): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(ca, key, cert);
}
