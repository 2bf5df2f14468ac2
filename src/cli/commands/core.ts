/** `swarmgate core [--once]`: run the reconciler until SIGTERM/SIGINT (Node as PID 1 ignores them unless handled). */
import pino from 'pino';
import { lastValueFrom, take } from 'rxjs';
import { CoreRun } from '../../components/core-run';
import { startCore } from '../../components/core';
import type { DockerPort } from '../../observed/docker-port';
import { EXIT, type Output } from '../output';

/** SWARMGATE_LOCAL_IMAGES=1: name proxy images by local ID (no registry pulls; single-node trials, CI). */
export function localImagesFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['SWARMGATE_LOCAL_IMAGES'] === '1' || env['SWARMGATE_LOCAL_IMAGES'] === 'true';
}

export async function runCoreCommand(port: DockerPort, once: boolean, io: Output): Promise<number> {
  const log = pino({ name: 'swarmgate-core', level: process.env['LOG_LEVEL'] ?? 'info' }, pino.destination(2));
  if (once) {
    try {
      const r = await new CoreRun(port, log, { localImages: localImagesFromEnv() }).run(1);
      io.out(`reconciled: ${r.result} (${r.reason ?? ''})`);
      return EXIT.ok;
    } catch (e) {
      io.err(`reconcile failed: ${e instanceof Error ? e.message : String(e)}`);
      return EXIT.invalid;
    }
  }
  const core = startCore({ port, log, localImages: localImagesFromEnv() });
  log.info('swarmgate core started');
  const done = lastValueFrom(core.outcomes.pipe(take(Number.MAX_SAFE_INTEGER)), { defaultValue: undefined });
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping');
      core.stop();
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    void done.catch((e: unknown) => {
      log.fatal({ err: e instanceof Error ? e.message : String(e) }, 'reconcile loop ended');
      resolve();
    });
  });
  return EXIT.ok;
}
