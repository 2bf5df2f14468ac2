/** Client credentials for the components (extension, proxy agent): mutual TLS, or plaintext only when asked. */
import * as grpc from '@grpc/grpc-js';
import { clientCredentials } from '../../api/tls';

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
