/** Throw-away self-signed certificates for tests (openssl, EC P-256). Never used outside tests. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

/** A throw-away certificate authority (EC P-256) that can sign leaf certificates with issue(). */
export interface TestCa extends KeyPair {
  /** A leaf certificate for `names` (CN = the first), signed by this CA; `clientAuth` for client certificates. */
  issue(names: readonly string[], usage?: 'serverAuth' | 'clientAuth'): KeyPair;
  /** A PEM CRL signed by this CA that revokes `revoked` (certificates it issued), valid two days. */
  crl(revoked: readonly KeyPair[]): string;
}

export function testCa(commonName: string): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'sg-ca-'));
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca.key');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', keyPath, '-out', certPath],
    { stdio: 'ignore' },
  );
  let serial = 0;
  return {
    certPath,
    keyPath,
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(keyPath, 'utf8'),
    issue: (names, usage = 'serverAuth') => {
      serial += 1;
      const leaf = mkdtempSync(join(tmpdir(), 'sg-leaf-'));
      const leafKey = join(leaf, 'key.pem');
      const csr = join(leaf, 'req.csr');
      const leafCert = join(leaf, 'cert.pem');
      const ext = join(leaf, 'ext.cnf');
      writeFileSync(ext, `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=${usage}\n`);
      execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${names[0] ?? 'leaf'}`, '-keyout', leafKey, '-out', csr], { stdio: 'ignore' });
      execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', certPath, '-CAkey', keyPath, '-set_serial', String(1000 + serial), '-days', '2', '-extfile', ext, '-out', leafCert], { stdio: 'ignore' });
      return { certPath: leafCert, keyPath: leafKey, cert: readFileSync(leafCert, 'utf8'), key: readFileSync(leafKey, 'utf8') };
    },
    crl: (revoked) => {
      // `openssl ca` keeps its revocations in an index file: a fresh one per CRL.
      const db = mkdtempSync(join(tmpdir(), 'sg-crl-'));
      const cnf = join(db, 'ca.cnf');
      writeFileSync(join(db, 'index.txt'), '');
      writeFileSync(cnf, `[ca]\ndefault_ca = d\n[d]\ndatabase = ${join(db, 'index.txt')}\ndefault_md = sha256\ndefault_crl_days = 2\ncertificate = ${certPath}\nprivate_key = ${keyPath}\n`);
      for (const r of revoked) execFileSync('openssl', ['ca', '-config', cnf, '-revoke', r.certPath], { stdio: 'ignore' });
      execFileSync('openssl', ['ca', '-config', cnf, '-gencrl', '-out', join(db, 'crl.pem')], { stdio: 'ignore' });
      return readFileSync(join(db, 'crl.pem'), 'utf8');
    },
  };
}
