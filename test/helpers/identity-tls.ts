/**
 * Real TLS material for tests: a set as install makes it (CA with key, core server pair) and
 * component identities issued from it exactly as the core issues them, written to directories in
 * the layout the components read (/run/secrets file names).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TLS_FILES, issueIdentity, type IssuedIdentity, type TlsMaterial } from '../../src/api/tls';
import type { Identity } from '../../src/domain/identity';

/** The core's directory: CA, CA key, server pair. */
export function writeCoreDir(dir: string, m: TlsMaterial): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, TLS_FILES.ca), m.ca);
  writeFileSync(join(dir, TLS_FILES.caKey), m.caKey);
  writeFileSync(join(dir, TLS_FILES.serverCert), m.serverCert);
  writeFileSync(join(dir, TLS_FILES.serverKey), m.serverKey);
  return dir;
}

/** A component's directory: the CA and one identity issued by it. */
export function writeComponentDir(dir: string, m: TlsMaterial, identity: Identity): { dir: string; issued: IssuedIdentity } {
  const issued = issueIdentity({ cert: m.ca, key: m.caKey }, identity, 1);
  writePair(dir, m.ca, issued.cert, issued.key);
  return { dir, issued };
}

export function writePair(dir: string, ca: string, cert: string, key: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, TLS_FILES.ca), ca);
  writeFileSync(join(dir, TLS_FILES.clientCert), cert);
  writeFileSync(join(dir, TLS_FILES.clientKey), key);
  return dir;
}
