/**
 * Render every cluster of a desired state with the core's pipeline (desiredConfig: labels → buildModel →
 * the cluster's renderer) and run the proxy's own check on each config: `nginx -t` or `haproxy -c`.
 * Returns one line per rejected config (empty when the proxies accept everything).
 */
import type { Snapshot } from '../../src/domain/snapshot';
import type { DesiredState } from '../../src/plan/inputs';
import type { ModelResult, ProxyModel } from '../../src/plan/model';
import { desiredConfig, mainFile } from '../../src/plan/pipeline';
import { haproxyCheck } from './haproxy-check';
import { nginxCheck } from './nginx-check';

export interface RenderedConfig {
  readonly cluster: string;
  readonly kind: ProxyModel['spec']['proxy']['kind'];
  readonly config: string;
}

export function renderClusters(state: DesiredState, snap: Snapshot): { result: ModelResult; configs: RenderedConfig[] } {
  const { result, clusters } = desiredConfig({ specs: state, snapshot: snap });
  const configs = clusters.map(({ model, files }) => ({ cluster: model.cluster, kind: model.spec.proxy.kind, config: mainFile(files) }));
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
