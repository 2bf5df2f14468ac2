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
import { X509Certificate } from 'node:crypto';
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
    openssl(dir, ['req', '-x509', ...EC, '-days', String(days), '-subj', '/CN=swarmgate CA', '-keyout', 'ca.key', '-out', 'ca.crt', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
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

/** The core's server side: only clients with a certificate from our CA get in (what each may call: authorise.ts). */
export function serverCredentials(dir: string): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(readTlsFile(dir, TLS_FILES.ca), [{ cert_chain: readTlsFile(dir, TLS_FILES.serverCert), private_key: readTlsFile(dir, TLS_FILES.serverKey) }], true);
}

/** A component's client side: our CA only, and the component's own certificate. */
export function clientCredentials(dir: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(readTlsFile(dir, TLS_FILES.ca), readTlsFile(dir, TLS_FILES.clientKey), readTlsFile(dir, TLS_FILES.clientCert));
}
