/**
 * Render every cluster of a desired state with the core's pipeline (desiredConfig: labels → buildModel →
 * the cluster's renderer) and run the proxy's own check on each config: `nginx -t` or `haproxy -c`.
 * Every HAProxy cluster is also rendered in the other endpoints layout (server slots or one server
 * per task, ADR 0031), so both layouts face every generated world.
 * Returns one line per rejected config (empty when the proxies accept everything).
 */
import type { Snapshot } from '../../src/domain/snapshot';
import type { DesiredState } from '../../src/plan/inputs';
import type { ModelResult, ProxyModel } from '../../src/plan/model';
import { desiredConfig, mainFile } from '../../src/plan/pipeline';
import { haproxyCheck } from './haproxy-check';
import { parseHaproxyEndpoints } from '../../src/agent/haproxy-endpoints';
import { ENDPOINTS_FILE } from '../../src/render/render-cluster';
import { renderHaproxyWithEndpoints } from '../../src/render/haproxy/render';
import { nginxCheck } from './nginx-check';

export interface RenderedConfig {
  readonly cluster: string;
  readonly kind: ProxyModel['spec']['proxy']['kind'];
  readonly config: string;
  /** Dynamic endpoints: the members file delivered beside the config (ADR 0016, 0031). */
  readonly endpoints?: string;
}

export function renderClusters(state: DesiredState, snap: Snapshot): { result: ModelResult; configs: RenderedConfig[] } {
  const { result, clusters } = desiredConfig({ specs: state, snapshot: snap });
  const configs = clusters.flatMap(({ model, files }) => {
    const endpoints = files?.files.find((f) => f.path === ENDPOINTS_FILE)?.content;
    const rendered: RenderedConfig = { cluster: model.cluster, kind: model.spec.proxy.kind, config: mainFile(files), ...(endpoints !== undefined ? { endpoints } : {}) };
    // Every HAProxy cluster's routes in the other layout too, so both are checked whatever the world's endpoints say.
    if (model.spec.proxy.kind !== 'haproxy') return [rendered];
    const other = renderHaproxyWithEndpoints(model, { dynamicEndpoints: endpoints === undefined });
    return [rendered, { cluster: `${model.cluster} (${endpoints === undefined ? 'Dynamic' : 'Static'} layout)`, kind: 'haproxy' as const, config: other.config, ...(endpoints === undefined ? { endpoints: other.endpoints } : {}) }];
  });
  return { result, configs };
}

/** The proxy's verdict on one rendered config: undefined when it accepts it, else its output. */
export function proxyRejects(c: RenderedConfig): string | undefined {
  // HAProxy's members must parse as the agent parses them and fit the slots the config has.
  if (c.kind === 'haproxy' && c.endpoints !== undefined) {
    try {
      const wanted = parseHaproxyEndpoints(c.endpoints);
      for (const [backend, w] of wanted) if (!c.config.includes(`\n    server s${w.slots} sg-slot.invalid:1`) || c.config.includes(`\nbackend ${backend}\n`) === false) return `haproxy cluster ${c.cluster}: endpoints of ${backend} do not match the config's slots`;
    } catch (err) {
      return `haproxy cluster ${c.cluster}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const r = c.kind === 'haproxy' ? haproxyCheck(c.config) : nginxCheck(c.config);
  return r.ok ? undefined : `${c.kind} cluster ${c.cluster}: ${r.output.trim()}`;
}

/** Every config the proxies reject, with the proxy's message. */
export function rejectedConfigs(state: DesiredState, snap: Snapshot): string[] {
  return renderClusters(state, snap).configs.flatMap((c) => proxyRejects(c) ?? []);
}
