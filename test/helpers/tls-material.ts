/** Throw-away self-signed certificates for tests (openssl, EC P-256). Never used outside tests. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

export function selfSigned(commonName: string, altNames: readonly string[] = [commonName]): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'sg-cert-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${commonName}`,
      '-addext', `subjectAltName=${altNames.map((n) => `DNS:${n}`).join(',')}`, '-keyout', keyPath, '-out', certPath],
    { stdio: 'ignore' },
  );
  return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}
