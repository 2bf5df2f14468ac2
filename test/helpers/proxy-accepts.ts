/**
 * Render every cluster of a desired state with the real pipeline (labels → buildModel → the
 * cluster's renderer) and run the proxy's own check on each config: `nginx -t` or `haproxy -c`.
 * Returns one line per rejected config (empty when the proxies accept everything).
 */
import { withLabelRoutes } from '../../src/plan/sources/interlock';
import type { Snapshot } from '../../src/domain/snapshot';
import { buildModel } from '../../src/plan/build-model';
import type { DesiredState } from '../../src/plan/inputs';
import type { ModelResult, ProxyModel } from '../../src/plan/model';
import { renderHaproxy } from '../../src/render/haproxy/render';
import { renderNginx } from '../../src/render/nginx/render';
import { haproxyCheck } from './haproxy-check';
import { nginxCheck } from './nginx-check';

export interface RenderedConfig {
  readonly cluster: string;
  readonly kind: ProxyModel['spec']['proxy']['kind'];
  readonly config: string;
}

export function renderClusters(state: DesiredState, snap: Snapshot): { result: ModelResult; configs: RenderedConfig[] } {
  const result = buildModel(withLabelRoutes(state, snap), snap);
  const configs = result.clusters.map((m) => ({ cluster: m.cluster, kind: m.spec.proxy.kind, config: m.spec.proxy.kind === 'haproxy' ? renderHaproxy(m) : renderNginx(m) }));
  return { result, configs };
}

/** The proxy's verdict on one rendered config: undefined when it accepts it, else its output. */
export function proxyRejects(c: RenderedConfig): string | undefined {
  const r = c.kind === 'haproxy' ? haproxyCheck(c.config) : nginxCheck(c.config);
  return r.ok ? undefined : `${c.kind} cluster ${c.cluster}: ${r.output.trim()}`;
}

/** Every config the proxies reject, with the proxy's message. */
export function rejectedConfigs(state: DesiredState, snap: Snapshot): string[] {
  return renderClusters(state, snap).configs.flatMap((c) => proxyRejects(c) ?? []);
}
