/**
 * A real NGINX on the rendered config of one hitless Route (`app.test` → service `app`, one task at
 * `taskIp`), every listener on a free loopback port, for traffic tests of the proxy's own behaviour.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { desiredConfig } from '../../src/plan/pipeline';
import type { ProxyModel } from '../../src/plan/model';
import type { NginxRenderOptions } from '../../src/render/nginx/options';
import { renderNginx } from '../../src/render/nginx/render';
import { freePorts, loopbackRenderOptions, startNginx, type RunningNginx } from './nginx-process';
import { desired, route, snapshot, task } from './specs';

export interface OneRouteNginx {
  readonly nginx: RunningNginx;
  readonly http: number;
  readonly dir: string;
  readonly model: ProxyModel;
  readonly options: Partial<NginxRenderOptions>;
  readonly config: string;
}

export async function startOneRouteNginx(taskIp: string, backendPort: number): Promise<OneRouteNginx> {
  const [http = 0, tls = 0, pt = 0, status = 0, unavailable = 0, traffic = 0] = await freePorts(6);
  const routes = [route('app', { hosts: ['app.test'], rules: [{ backends: [{ service: 'app', port: backendPort }] }] })];
  const snap = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks: [task('app', taskIp)], networks: [{ name: 'app' }], secrets: [] });
  // The core's pipeline for the model; rendered here with loopback listeners (render options the core does not use).
  const model = desiredConfig({ specs: desired(routes), snapshot: snap, render: false }).clusters.find((c) => c.model.cluster === 'default')?.model;
  if (model === undefined) throw new Error('no default cluster');
  const dir = mkdtempSync(join(tmpdir(), 'sg-nginx-'));
  // NGINX's workers (user nobody when the master runs as root) must be able to stat the drain flag here.
  chmodSync(dir, 0o755);
  const options = loopbackRenderOptions(dir, [http, tls, pt, status, unavailable, traffic]);
  const config = renderNginx(model, options);
  return { nginx: await startNginx(config, http, dir), http, dir, model, options, config };
}
