/**
 * Mutual TLS for the core's gRPC API. `swarmgate install` (and `rotate-certs`) makes a private CA,
 * a server certificate for the core (DNS name swarmgate-core) and one client certificate for the
 * components (extensions and proxy agents), and stores them as Docker secrets. The CA key is never
 * stored: nothing needs to sign later, rotation makes a whole new set.
 *
 * Key material only ever lives in secret files and in memory: it is never logged, and errors
 * mention file names, not contents.
 */
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { CORE_TLS_NAME, TLS_DIR_IN_TASKS, TLS_FILES, type TlsFile, type TlsMaterial } from '../domain/tls-layout';
import { CORE_TLS_NAME, TLS_FILES, type TlsMaterial } from '../domain/tls-layout';


function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A fresh CA, server and client pair (EC P-256, valid `days`), made with the openssl CLI. */
export function generateTlsMaterial(days = 825): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'sg-tls-'));
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(dir, ['req', '-x509', ...ec, '-days', String(days), '-subj', '/CN=swarmgate CA', '-keyout', 'ca.key', '-out', 'ca.crt', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const issue = (name: string, cn: string, ext: string): void => {
      openssl(dir, ['req', ...ec, '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
      writeFileSync(join(dir, `${name}.ext`), ext);
      openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', String(days), '-out', `${name}.crt`, '-extfile', `${name}.ext`]);
    };
    issue('server', CORE_TLS_NAME, `subjectAltName=DNS:${CORE_TLS_NAME},DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
    issue('client', 'swarmgate-component', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    return { ca: read('ca.crt'), serverCert: read('server.crt'), serverKey: read('server.key'), clientCert: read('client.crt'), clientKey: read('client.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readTlsFile(dir: string, file: string): Buffer {
  try {
    return readFileSync(join(dir, file));
  } catch (e) {
    throw new Error(`cannot read ${join(dir, file)} (${(e as NodeJS.ErrnoException).code ?? 'error'}): is the TLS secret mounted?`);
  }
}

/** The core's server side: only clients with a certificate from our CA get in. */
export function serverCredentials(dir: string): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(readTlsFile(dir, TLS_FILES.ca), [{ cert_chain: readTlsFile(dir, TLS_FILES.serverCert), private_key: readTlsFile(dir, TLS_FILES.serverKey) }], true);
}

/** A component's client side: our CA only, and our client certificate. */
export function clientCredentials(dir: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(readTlsFile(dir, TLS_FILES.ca), readTlsFile(dir, TLS_FILES.clientKey), readTlsFile(dir, TLS_FILES.clientCert));
}
