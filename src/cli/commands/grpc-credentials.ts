/** Client credentials for the components (extension, proxy agent): mutual TLS, or plaintext only when asked. */
import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TLS_FILES, clientCredentials } from '../../api/tls';

/** The SHA-256 fingerprint of the mounted client certificate, or undefined when it cannot be read. */
export function mountedFingerprint(tlsDir: string): string | undefined {
  try {
    return new X509Certificate(readFileSync(join(tlsDir, TLS_FILES.clientCert))).fingerprint256;
  } catch {
    return undefined;
  }
}

export function componentCredentials(tlsDir: string | undefined, insecure: boolean): grpc.ChannelCredentials | string {
  if (tlsDir !== undefined) {
    try {
      return clientCredentials(tlsDir);
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }
  if (insecure) return grpc.credentials.createInsecure();
  return 'no credentials: set SWARMGATE_TLS_DIR / --tls-dir (mutual TLS), or SWARMGATE_INSECURE=1 / --insecure (plaintext, development only)';
}
