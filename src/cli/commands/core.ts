/** `swarmgate core [--once]`: run the reconciler until SIGTERM/SIGINT (Node as PID 1 ignores them unless handled). */
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { lastValueFrom, take } from 'rxjs';
import { ControlPlane } from '../../api/control-plane';
import { startCoreApi, type CoreApi } from '../../api/server';
import { crossSign, readCaPair, readPreviousCaPair, serverCredentials } from '../../api/tls';
import type { IdentityAuthority } from '../../core/identities';
import { CoreRun } from '../../core/core-run';
import { startMetricsServer } from '../../core/metrics-server';
import { CoreMetrics, recordTraffic } from '../../status/metrics';
import { startCore } from '../../core/core';
import { createIssuer } from '../../core/acme/start-issuer';
import { withCallDeadline } from '../../observed/deadline-port';
import type { DockerPort } from '../../observed/docker-port';
import { EXIT, type Output } from '../output';

/** SWARMGATE_LOCAL_IMAGES=1: name proxy images by local ID (no registry pulls; single-node trials, CI). */
export function localImagesFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['SWARMGATE_LOCAL_IMAGES'] === '1' || env['SWARMGATE_LOCAL_IMAGES'] === 'true';
}

export interface CoreCommandOptions {
  readonly once: boolean;
  /** gRPC listen address (host:port or unix:///path); no API when absent. */
  readonly listen?: string;
  /** host:port proxy agents dial (the core's service name on the control network). */
  readonly advertise?: string;
  readonly controlNetwork: string;
  readonly insecure: boolean;
  /** Directory with the core's TLS files (mutual TLS); `tlsSet` names the set whose component pair proxies get. */
  readonly tlsDir?: string;
  readonly tlsSet?: string;
  /** The set rotate-certs rotated away from: still trusted while components switch (ADR 0019). */
  readonly tlsPreviousSet?: string;
  /** host:port for GET /metrics (Prometheus); none when absent. */
  readonly metricsListen?: string;
  /** Wait for extensions (swarmgate extension) to render instead of rendering here. */
  readonly externalExtension?: boolean;
  /** Run one extension service per cluster with this image (implies externalExtension). */
  readonly extensionImage?: string;
}

export async function runCoreCommand(engine: DockerPort, opts: CoreCommandOptions, io: Output): Promise<number> {
  const log = pino({ name: 'swarmgate-core', level: process.env['LOG_LEVEL'] ?? 'info' }, pino.destination(2));
  // A hung engine must fail the core's calls (and show in its log and outcomes), not hold them.
  const port = withCallDeadline(engine, { onTimeout: (method, ms) => log.warn({ method, deadlineMs: ms }, 'the Docker engine did not answer in time; the call fails and is retried') });
  if (opts.once) {
    try {
      const r = await new CoreRun(port, log, { localImages: localImagesFromEnv() }).run(1);
      io.out(`reconciled: ${r.result} (${r.reason ?? ''})`);
      return EXIT.ok;
    } catch (e) {
      io.err(`reconcile failed: ${e instanceof Error ? e.message : String(e)}`);
      return EXIT.invalid;
    }
  }
  if (opts.listen !== undefined && opts.tlsDir === undefined && !opts.insecure) {
    io.err('--listen: pass --tls-dir DIR (mutual TLS; swarmgate install sets it up) or --insecure (plaintext, development only)');
    return EXIT.invalid;
  }
  if (opts.tlsDir !== undefined && opts.tlsSet === undefined && opts.advertise !== undefined) {
    io.err('--tls-dir with --advertise needs --tls-set ID: the TLS secrets the proxy agents mount');
    return EXIT.invalid;
  }
  let credentials: grpc.ServerCredentials;
  let identities: IdentityAuthority | undefined;
  try {
    // After rotate-certs the previous set's CA is trusted too, and vouches for the new one (ADR 0019).
    const previous = opts.tlsDir !== undefined && opts.tlsPreviousSet !== undefined ? readPreviousCaPair(opts.tlsDir) : undefined;
    credentials =
      opts.tlsDir === undefined
        ? grpc.ServerCredentials.createInsecure()
        : serverCredentials(opts.tlsDir, previous !== undefined ? { ca: previous.cert, crossSigned: crossSign(readCaPair(opts.tlsDir), previous) } : undefined);
    // The CA key is mounted only into the core: with it, the core issues each cluster's components their own identity (ADR 0012).
    if (opts.tlsDir !== undefined && opts.tlsSet !== undefined) identities = { ca: readCaPair(opts.tlsDir), set: opts.tlsSet, ...(previous !== undefined && opts.tlsPreviousSet !== undefined ? { previousSet: opts.tlsPreviousSet } : {}) };
  } catch (e) {
    io.err(`--tls-dir: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.invalid;
  }
  if (opts.extensionImage !== undefined && opts.advertise === undefined) {
    io.err('--extension-image needs --listen and --advertise (extension services must reach the gRPC API)');
    return EXIT.invalid;
  }
  if (opts.externalExtension === true && opts.listen === undefined) {
    io.err('--external-extension needs --listen (extensions must reach the gRPC API)');
    return EXIT.invalid;
  }
  if (opts.advertise !== undefined && opts.listen === undefined) {
    io.err('--advertise needs --listen (proxy agents must reach the gRPC API)');
    return EXIT.invalid;
  }
  const listenAt = opts.metricsListen !== undefined ? /^(.*):(\d{1,5})$/.exec(opts.metricsListen) : undefined;
  if (listenAt === null) {
    io.err(`--metrics-listen: expected host:port, got ${JSON.stringify(opts.metricsListen)}`);
    return EXIT.invalid;
  }
  const metrics = new CoreMetrics();
  const metricsServer = listenAt !== undefined ? await startMetricsServer(metrics, { host: listenAt[1] ?? '', port: Number(listenAt[2]) }, log) : undefined;
  const plane = new ControlPlane();
  // Fail closed until the first run has listed the current identities (it runs at once).
  if (identities !== undefined) plane.setCurrentIdentities([]);
  const trafficMetrics = plane.trafficDeltas$.subscribe((deltas) => recordTraffic(metrics, deltas));
  let api: CoreApi | undefined;
  if (opts.listen !== undefined) api = await startCoreApi({ plane, listen: opts.listen, credentials, log });
  const issuer = createIssuer(port, log, plane, opts.tlsDir);
  await issuer.start().catch((e: unknown) => log.error({ err: e instanceof Error ? e.message : String(e) }, 'ACME state could not be read; no certificate is ordered until the core restarts'));
  const core = startCore({
    port,
    log,
    issuer,
    localImages: localImagesFromEnv(),
    plane,
    metrics,
    ...(opts.externalExtension === true ? { externalExtension: true } : {}),
    ...(opts.extensionImage !== undefined ? { extensionImage: opts.extensionImage } : {}),
    ...(identities !== undefined ? { identities } : {}),
    ...(opts.advertise !== undefined
      ? { agents: { coreAddress: opts.advertise, controlNetwork: opts.controlNetwork, insecure: opts.tlsDir === undefined, ...(opts.tlsSet !== undefined ? { tlsSet: opts.tlsSet } : {}), ...(identities?.previousSet !== undefined ? { previousTlsSet: identities.previousSet } : {}) } }
      : {}),
  });
  log.info({ grpc: opts.listen ?? null, advertise: opts.advertise ?? null }, 'swarmgate core started');
  const done = lastValueFrom(core.outcomes.pipe(take(Number.MAX_SAFE_INTEGER)), { defaultValue: undefined });
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping');
      core.stop();
      issuer.stop();
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    void done.catch((e: unknown) => {
      log.fatal({ err: e instanceof Error ? e.message : String(e) }, 'reconcile loop ended');
      resolve();
    });
  });
  await api?.close();
  metricsServer?.close();
  trafficMetrics.unsubscribe();
  return EXIT.ok;
}
