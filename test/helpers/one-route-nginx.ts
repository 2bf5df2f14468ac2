/**
 * A real NGINX on the rendered config of one hitless Route (`app.test` → service `app`, one task at
 * `taskIp`), every listener on a free loopback port, for traffic tests of the proxy's own behaviour.
 * `endpoints: 'Dynamic'` renders the Lua layout (ADR 0016, 0036): the balancer, its loopback control
 * server and the endpoints file the agent would have written, so the task is served from the start.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { desiredConfig } from '../../src/plan/pipeline';
import type { ProxyModel } from '../../src/plan/model';
import type { NginxRenderOptions } from '../../src/render/nginx/options';
import { renderNginxWithEndpoints } from '../../src/render/nginx/render';
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

export type Layout = 'Static' | 'Dynamic';

export async function startOneRouteNginx(taskIp: string, backendPort: number, endpoints: Layout = 'Static'): Promise<OneRouteNginx> {
  const [http = 0, tls = 0, pt = 0, status = 0, unavailable = 0, traffic = 0, control = 0] = await freePorts(7);
  const routes = [route('app', { hosts: ['app.test'], rules: [{ backends: [{ service: 'app', port: backendPort }] }] })];
  const snap = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks: [task('app', taskIp)], networks: [{ name: 'app' }], secrets: [] });
  // The core's pipeline for the model; rendered here with loopback listeners (render options the core does not use).
  const model = desiredConfig({ specs: desired(routes), snapshot: snap, render: false }).clusters.find((c) => c.model.cluster === 'default')?.model;
  if (model === undefined) throw new Error('no default cluster');
  const dir = mkdtempSync(join(tmpdir(), 'sg-nginx-'));
  // NGINX's workers (user nobody when the master runs as root) must be able to stat the drain flag here.
  chmodSync(dir, 0o755);
  const options: Partial<NginxRenderOptions> = {
    ...loopbackRenderOptions(dir, [http, tls, pt, status, unavailable, traffic]),
    ...(endpoints === 'Dynamic' ? { dynamicEndpoints: { controlPort: control, endpointsPath: join(dir, 'endpoints.txt'), modulesDir: '/usr/lib/nginx/modules' } } : {}),
  };
  const rendered = renderNginxWithEndpoints(model, options);
  const config = rendered.config;
  if (endpoints === 'Dynamic') writeFileSync(join(dir, 'endpoints.txt'), rendered.endpoints);
  return { nginx: await startNginx(config, http, dir), http, dir, model, options, config };
}
