/**
 * Converge one ServiceCluster's proxy (rolling delivery): the rendered nginx.conf as a
 * content-addressed Swarm config, then the proxy service created or updated to use it.
 * Idempotent: the desired service spec is hashed into a label, so a converged cluster costs
 * zero writes, and a restarted core causes no proxy update.
 */
import { LABELS, OWNER_VALUE } from '../domain/labels';
import type { DockerPort } from '../observed/docker-port';
import type { LiveState } from '../observed/live-state';

export type { LiveState } from '../observed/live-state';
import { canonicalJson } from '../plan/hash';
import { sha256Hex } from '../domain/sha256';
import type { ProxyModel } from '../plan/model';
import { proxyServiceName, proxyServiceSpec, type AgentEndpoint } from '../plan/proxy-service-spec';
import { KEEP_REVISIONS, clusterRevisions, revisionNumber, routesLabels } from '../plan/revisions';

export { KEEP_REVISIONS } from '../plan/revisions';


export interface ConvergeResult {
  readonly cluster: string;
  readonly writes: number;
  readonly configName: string;
  readonly serviceId: string;
  readonly configHash: string;
  /** The proxy service was created or updated (its tasks restart with the new spec). */
  readonly serviceChanged: boolean;
}

/** SHA-256 hex of a text: content addressing of generated configs (same digest as node:crypto). */
export const sha256 = sha256Hex;

export function proxyConfigName(cluster: string, hash: string): string {
  return `sg-nginx-${cluster}-${hash.slice(0, 12)}`;
}

/**
 * With `agent` (hitless delivery) the config still becomes a Swarm config (history, and the boot
 * config of tasks started later), but the service keeps its mounted boot config unless something
 * else about the service changed: a route change alone updates nothing.
 */
export async function convergeProxy(
  port: DockerPort,
  model: ProxyModel,
  rendered: string,
  live: LiveState,
  image?: string,
  agent?: AgentEndpoint,
  options: { readonly rollback?: boolean } = {},
): Promise<ConvergeResult> {
  let writes = 0;
  const hash = sha256(rendered);
  const configName = proxyConfigName(model.cluster, hash);
  const config = live.proxyConfigs.find((c) => c.Spec.Name === configName);
  // Revisions: a new config is previous max + 1; a known config that becomes current again is
  // renumbered (max + 1), so the current config is always the newest revision except during a
  // rollback, which serves an old revision as it is.
  const maxRevision = Math.max(0, ...clusterRevisions(live.proxyConfigs, model.cluster).map((r) => r.revision));
  const routes = routesLabels(model.routes);
  let configId = config?.ID;
  if (configId === undefined) {
    configId = await port.createConfig({
      Name: configName,
      Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'proxy-config', [LABELS.cluster]: model.cluster, [LABELS.specHash]: hash, [LABELS.revision]: String(maxRevision + 1), ...routes },
      Data: Buffer.from(rendered).toString('base64'),
    });
    writes++;
  } else if (config !== undefined && options.rollback !== true) {
    const own = revisionNumber(config);
    const revision = own !== undefined && own === maxRevision ? own : maxRevision + 1;
    const labels = config.Spec.Labels ?? {};
    if (labels[LABELS.revision] !== String(revision) || Object.entries(routes).some(([k, v]) => labels[k] !== v)) {
      await port.updateConfigLabels(config.ID, config.Version.Index, { ...config.Spec, Labels: { ...labels, [LABELS.revision]: String(revision), ...routes } });
      writes++;
    }
  }
  const name = proxyServiceName(model.cluster);
  const secretIds = new Map(live.secrets.map((s) => [s.Spec.Name, s.ID]));
  const networkIds = new Map(live.networks.filter((n) => n.Scope === 'swarm').map((n) => [n.Name, n.Id]));
  const build = (config: { id: string; name: string }, keepNetworkIds: readonly string[] = []) => {
    const spec = proxyServiceSpec({
      model,
      serviceName: name,
      config,
      secretIds,
      networkIds,
      nodes: live.nodes,
      ...(image !== undefined ? { image } : {}),
      ...(agent !== undefined ? { agent, keepNetworkIds } : {}),
    });
    const specHash = sha256(canonicalJson(spec));
    return { specHash, labelled: { ...spec, Labels: { ...spec.Labels, [LABELS.specHash]: specHash } } };
  };
  const existing = live.services.find((s) => s.Spec.Name === name);
  let { specHash, labelled } = build({ id: configId, name: configName });
  let mountedName = configName;
  const mounted = existing?.Spec.TaskTemplate.ContainerSpec.Configs?.[0];
  if (agent !== undefined && mounted?.ConfigID !== undefined && mounted.ConfigName !== undefined && live.proxyConfigs.some((c) => c.ID === mounted.ConfigID)) {
    // Hitless: a service update restarts the proxy tasks, so avoid the ones routes alone would cause.
    // Keep the mounted boot config (the agent streams newer ones), and stay on networks no route
    // needs any more (they are left at the next update the service needs anyway).
    const attached = (existing?.Spec.TaskTemplate.Networks ?? []).map((n) => n.Target).filter((id) => live.networks.some((n) => n.Id === id));
    for (const keep of [build({ id: mounted.ConfigID, name: mounted.ConfigName }), build({ id: mounted.ConfigID, name: mounted.ConfigName }, attached)]) {
      if (keep.specHash !== existing?.Spec.Labels?.[LABELS.specHash]) continue;
      ({ specHash, labelled } = keep);
      mountedName = mounted.ConfigName;
      break;
    }
  }
  let serviceId: string;
  let serviceChanged = false;
  if (existing === undefined) {
    serviceId = await port.createService(labelled);
    serviceChanged = true;
  } else {
    serviceId = existing.ID;
    if (existing.Spec.Labels?.[LABELS.specHash] !== specHash) {
      await port.updateService(existing.ID, existing.Version.Index, labelled);
      serviceChanged = true;
    }
  }
  if (serviceChanged) writes++;
  writes += await pruneConfigs(port, model.cluster, configName, serviceId, live);
  return { cluster: model.cluster, writes, configName: mountedName, serviceId, configHash: hash, serviceChanged };
}

/** Remove generated configs no task uses, keeping the newest KEEP_REVISIONS revisions (the current one included). */
async function pruneConfigs(port: DockerPort, cluster: string, current: string, serviceId: string, live: LiveState): Promise<number> {
  const inUse = new Set(
    live.tasks.filter((t) => t.ServiceID === serviceId && t.DesiredState !== 'shutdown').flatMap((t) => (t.Spec?.ContainerSpec?.Configs ?? []).map((c) => c.ConfigName)),
  );
  const candidates = live.proxyConfigs
    .filter((c) => c.Spec.Labels?.[LABELS.cluster] === cluster && c.Spec.Name !== current && !inUse.has(c.Spec.Name))
    // Newest revision first; configs from before revisions existed (no label) go first, oldest first.
    .sort((a, b) => (revisionNumber(b) ?? 0) - (revisionNumber(a) ?? 0) || ((a.CreatedAt ?? '') < (b.CreatedAt ?? '') ? 1 : -1));
  let removed = 0;
  for (const c of candidates.slice(KEEP_REVISIONS - 1)) {
    try {
      await port.removeConfig(c.ID);
      removed++;
    } catch {
      // Still referenced by a task that is shutting down: the next run tries again.
    }
  }
  return removed;
}
