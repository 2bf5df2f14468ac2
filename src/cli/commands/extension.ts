/** `swarmgate extension --cluster NAME`: render one cluster's models from the core until stopped. */
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { coreClient } from '../../api/client';
import { Extension } from '../../components/extension';
import { EXIT, type Output } from '../output';

export async function runExtension(opts: { cluster: string; core?: string; insecure: boolean }, io: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const core = opts.core ?? env['SWARMGATE_CORE_ADDR'];
  if (core === undefined) {
    io.err('extension: missing --core / SWARMGATE_CORE_ADDR');
    return EXIT.invalid;
  }
  if (!opts.insecure && env['SWARMGATE_INSECURE'] !== '1') {
    io.err('extension: mutual TLS is not implemented yet; pass --insecure (development only)');
    return EXIT.invalid;
  }
  const log = pino({ name: 'swarmgate-extension', level: env['LOG_LEVEL'] ?? 'info', base: { cluster: opts.cluster } }, pino.destination(2));
  const client = coreClient(core, grpc.credentials.createInsecure());
  const ext = new Extension({ client, cluster: opts.cluster, log });
  ext.start();
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
  ext.stop();
  client.close();
  return EXIT.ok;
}
