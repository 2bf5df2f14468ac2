/**
 * One entry point per proxy kind for whoever renders a cluster's model (the core's embedded
 * extension, the extension service, the CLI): which files the proxy reads. NGINX:
 * `nginx.conf`. HAProxy: `haproxy.cfg` (TLS certificates and keys are not files of the config: the
 * proxy agent builds the combined PEMs from its mounted secrets, see haproxyPemFiles). The check
 * they pass before delivery lives in src/validate/.
 */
import type { ProxyModel } from '../plan/model';
import type { ProxyKind } from '../plan/proxy-capabilities';
import { renderHaproxy, renderHaproxyWithEndpoints } from './haproxy/render';
import { DEFAULT_DYNAMIC_ENDPOINTS } from './nginx/options';
import { renderNginx, renderNginxWithEndpoints } from './nginx/render';

export type { ProxyKind } from '../plan/proxy-capabilities';

/** The file a proxy of each kind starts from. */
export const MAIN_CONFIG_FILE: Readonly<Record<ProxyKind, string>> = { nginx: 'nginx.conf', haproxy: 'haproxy.cfg' };
/** Dynamic endpoints (ADR 0016, 0031): the endpoint lines the agent pushes to NGINX's balancer or HAProxy's slots, next to the config. */
export const ENDPOINTS_FILE = 'endpoints.txt';

/** Dynamic endpoints apply with hitless delivery (an agent to push them), on NGINX and HAProxy; others render Static. */
export function dynamicEndpoints(model: ProxyModel): boolean {
  const p = model.spec.proxy;
  return p.delivery === 'hitless' && p.endpoints === 'Dynamic';
}

export interface RenderedFile {
  /** Relative to the proxy's config directory. */
  readonly path: string;
  readonly content: string;
}

export interface RenderedCluster {
  readonly kind: ProxyKind;
  /** Path of the file the proxy is started with (MAIN_CONFIG_FILE[kind]); always one of `files`. */
  readonly main: string;
  readonly files: readonly RenderedFile[];
}

/** Render a cluster's model for its proxy kind (model.spec.proxy.kind). Pure: same model ⇒ same bytes. */
export function renderCluster(model: ProxyModel): RenderedCluster {
  const kind = model.spec.proxy.kind;
  const main = MAIN_CONFIG_FILE[kind];
  if (dynamicEndpoints(model)) {
    const r = kind === 'haproxy' ? renderHaproxyWithEndpoints(model, { dynamicEndpoints: true }) : renderNginxWithEndpoints(model, { dynamicEndpoints: DEFAULT_DYNAMIC_ENDPOINTS });
    return { kind, main, files: [{ path: main, content: r.config }, { path: ENDPOINTS_FILE, content: r.endpoints }] };
  }
  const content = kind === 'haproxy' ? renderHaproxy(model) : renderNginx(model);
  return { kind, main, files: [{ path: main, content }] };
}
