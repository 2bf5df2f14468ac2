/** `swarmgate extension --cluster NAME`: render one cluster's models from the core until stopped. */
import pino from 'pino';
import { coreConnection } from '../../api/client';
import { Extension } from '../../extension/extension';
import { EXIT, type Output } from '../output';
import { componentCredentials } from './grpc-credentials';

export async function runExtension(opts: { cluster: string; core?: string; tlsDir?: string; insecure: boolean }, io: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const core = opts.core ?? env['SWARMGATE_CORE_ADDR'];
  if (core === undefined) {
    io.err('extension: missing --core / SWARMGATE_CORE_ADDR');
    return EXIT.invalid;
  }
  const credentials = componentCredentials(opts.tlsDir ?? env['SWARMGATE_TLS_DIR'], opts.insecure || env['SWARMGATE_INSECURE'] === '1');
  if (typeof credentials === 'string') {
    io.err(`extension: ${credentials}`);
    return EXIT.invalid;
  }
  const log = pino({ name: 'swarmgate-extension', level: env['LOG_LEVEL'] ?? 'info', base: { cluster: opts.cluster } }, pino.destination(2));
  const connection = coreConnection(core, credentials);
  const ext = new Extension({ core: connection, cluster: opts.cluster, log });
  ext.start();
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
  ext.stop();
  connection.close();
  return EXIT.ok;
}
