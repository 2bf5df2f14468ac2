/**
 * A real NGINX or HAProxy on the rendered config of one desired state, with TLS: the certificate
 * secrets of the routes all hold one test certificate. Listeners on free loopback ports. The
 * harness of the HTTP/2 and gRPC traffic tests, which run the same specs through both proxies.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteObject, ServiceClusterObject } from '../../src/domain/object';
import type { Snapshot } from '../../src/domain/snapshot';
import { buildModel } from '../../src/plan/build-model';
import type { ModelResult } from '../../src/plan/model';
import { haproxyPemFiles, renderHaproxy } from '../../src/render/haproxy/render';
import { renderNginx } from '../../src/render/nginx/render';
import { startHaproxy } from './haproxy-check';
import { writeWorkerReadable } from './worker-readable';
import { freePorts, loopbackRenderOptions, startNginx } from './nginx-process';
import { desired } from './specs';
import type { KeyPair } from './tls-material';

export interface ProtocolProxy {
  readonly http: number;
  readonly https: number;
  readonly config: string;
  readonly result: ModelResult;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * @param secrets Docker secrets by name → content, as the proxy task would mount them.
 * @param cert HAProxy's combined PEM of a pair whose secrets are not in `secrets`.
 */
export async function startProtocolProxy(cluster: ServiceClusterObject, routes: readonly RouteObject[], snap: Snapshot, secrets: Readonly<Record<string, string>>, cert: KeyPair): Promise<ProtocolProxy> {
  const result = buildModel(desired(routes, [cluster]), snap);
  const model = result.clusters.find((c) => c.cluster === cluster.metadata.name);
  if (model === undefined) throw new Error(`no cluster ${cluster.metadata.name}`);
  const kind = model.spec.proxy.kind;
  const dir = mkdtempSync(join(tmpdir(), `sg-${kind}-proto-`));
  const secretsDir = join(dir, 'secrets');
  mkdirSync(secretsDir);
  // As Swarm mounts them: secrets NGINX's workers read (the shared TLS server's certificates, ADR 0028) root:nogroup 0440, others 0600.
  chmodSync(dir, 0o755);
  chmodSync(secretsDir, 0o755);
  const workers = new Set<string>(model.workerSecrets ?? []);
  for (const [name, content] of Object.entries(secrets)) {
    if (workers.has(name)) writeWorkerReadable(join(secretsDir, name), content);
    else writeFileSync(join(secretsDir, name), content, { mode: 0o600 });
  }
  const [http = 0, https = 0, tls = 0, pt = 0, status = 0, unavailable = 0, traffic = 0] = await freePorts(7);
  if (kind === 'nginx') {
    const config = renderNginx(model, { ...loopbackRenderOptions(dir, [http, tls, pt, status, unavailable, traffic]), httpsPort: https, secretsDir });
    const nginx = await startNginx(config, http, dir);
    return { http, https, config, result, logs: () => nginx.logs(), stop: () => nginx.stop() };
  }
  const certDir = join(dir, 'certs');
  mkdirSync(certDir);
  // What the proxy agent does with the mounted secrets: certificate, then key, in one file.
  for (const pem of haproxyPemFiles(model, { certDir })) {
    const [c, k] = [secrets[pem.certSecret], secrets[pem.keySecret]];
    writeFileSync(pem.path, c !== undefined && k !== undefined ? `${c}${k}` : `${cert.cert}${cert.key}`, { mode: 0o600 });
  }
  const config = renderHaproxy(model, { certDir, secretsDir, runtimeDir: dir, bindAddress: '127.0.0.1', httpPort: http, httpsPort: https, statusPort: status, logTarget: 'stderr' });
  const haproxy = await startHaproxy(config, http, dir);
  return { http, https, config, result, logs: () => haproxy.logs(), stop: () => haproxy.stop() };
}
