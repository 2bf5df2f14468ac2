/**
 * A real NGINX or HAProxy on the rendered config of one desired state (the `default` cluster, with
 * the proxy kind asked for), every listener on a free loopback port: the harness of the Middleware
 * traffic tests, which run the same specs through both proxies.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MiddlewareObject, RouteObject } from '../../src/domain/object';
import type { Snapshot } from '../../src/domain/snapshot';
import { buildModel } from '../../src/plan/build-model';
import { PAGES_DIR } from '../../src/plan/error-pages';
import type { ModelResult } from '../../src/plan/model';
import { haproxyPemFiles, renderHaproxy } from '../../src/render/haproxy/render';
import { renderNginx } from '../../src/render/nginx/render';
import { startHaproxy } from './haproxy-check';
import { writeWorkerReadable } from './worker-readable';
import { freePorts, loopbackRenderOptions, startNginx } from './nginx-process';
import { cluster, desired } from './specs';
import type { KeyPair } from './tls-material';

export type ProxyKind = 'nginx' | 'haproxy';

export interface PolicyProxy {
  readonly kind: ProxyKind;
  readonly http: number;
  /** The published HTTPS port (the SNI router). */
  readonly https: number;
  readonly config: string;
  readonly result: ModelResult;
  logs(): string;
  stop(): Promise<void>;
}

export interface PolicyProxyOptions {
  /** ServiceCluster `defaults` besides the proxy kind (e.g. middlewares). */
  readonly defaults?: Record<string, unknown>;
  /** Where NGINX reads mounted secrets (`/run/secrets` in a proxy task). */
  readonly secretsDir?: string;
  /** ServiceCluster `proxy` fields besides kind and delivery (e.g. clientAddress). */
  readonly proxy?: Record<string, unknown>;
  /** The certificate of every TLS secret pair the routes name (NGINX: files in secretsDir; HAProxy: its PEM files). */
  readonly tls?: KeyPair;
  /** Where the error-page configs are (`/run/swarmgate-pages` in a proxy task): the config's paths are moved there. */
  readonly pagesDir?: string;
}

/** The rendered config with its error-page paths moved to `pagesDir` (as a task mounts them at PAGES_DIR). */
function withPages(config: string, pagesDir: string | undefined): string {
  return pagesDir === undefined ? config : config.split(`"${PAGES_DIR}/`).join(`"${pagesDir}/`);
}

export async function startPolicyProxy(kind: ProxyKind, routes: readonly RouteObject[], middlewares: readonly MiddlewareObject[], snap: Snapshot, opts: PolicyProxyOptions = {}): Promise<PolicyProxy> {
  const clusterObject = cluster('default', { proxy: { kind, delivery: 'rolling', ...opts.proxy }, ...(opts.defaults !== undefined ? { defaults: opts.defaults } : {}) });
  const state = { ...desired(routes, [clusterObject]), middlewares: middlewares.map((object) => ({ object, generation: 1 })) };
  const result = buildModel(state, snap);
  const model = result.clusters.find((c) => c.cluster === 'default');
  if (model === undefined) throw new Error('no default cluster');
  const dir = mkdtempSync(join(tmpdir(), `sg-${kind}-`));
  const [http = 0, tls = 0, pt = 0, status = 0, unavailable = 0, traffic = 0, https = 0] = await freePorts(7);
  if (kind === 'nginx') {
    const options = { ...loopbackRenderOptions(dir, [http, tls, pt, status, unavailable, traffic]), httpsPort: https, ...(opts.secretsDir !== undefined ? { secretsDir: opts.secretsDir } : {}) };
    if (opts.tls !== undefined) {
      const secretsDir = opts.secretsDir ?? dir;
      // As Swarm mounts them: keys NGINX's workers read (the shared TLS server, ADR 0028) root:nogroup 0440, others 0600.
      chmodSync(secretsDir, 0o755);
      const workers = new Set<string>(model.workerSecrets ?? []);
      for (const vh of model.virtualHosts) {
        if (vh.tls === undefined) continue;
        writeFileSync(join(secretsDir, vh.tls.certSecret), opts.tls.cert);
        if (workers.has(vh.tls.keySecret)) writeWorkerReadable(join(secretsDir, vh.tls.keySecret), opts.tls.key);
        else writeFileSync(join(secretsDir, vh.tls.keySecret), opts.tls.key, { mode: 0o600 });
      }
      Object.assign(options, { secretsDir });
    }
    const config = withPages(renderNginx(model, options), opts.pagesDir);
    const nginx = await startNginx(config, http, dir);
    return { kind, http, https, config, result, logs: () => nginx.logs(), stop: () => nginx.stop() };
  }
  const certDir = join(dir, 'certs');
  if (opts.tls !== undefined) {
    mkdirSync(certDir);
    for (const pem of haproxyPemFiles(model, { certDir })) writeFileSync(pem.path, `${opts.tls.cert}${opts.tls.key}`, { mode: 0o600 });
  }
  const config = withPages(renderHaproxy(model, { certDir, runtimeDir: dir, bindAddress: '127.0.0.1', httpPort: http, httpsPort: https, statusPort: status, logTarget: 'stderr' }), opts.pagesDir);
  const haproxy = await startHaproxy(config, http, dir);
  return { kind, http, https, config, result, logs: () => haproxy.logs(), stop: () => haproxy.stop() };
}
