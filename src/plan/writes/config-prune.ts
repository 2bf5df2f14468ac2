/** Which generated configs of a cluster go: those no task uses, beyond the newest KEEP_REVISIONS revisions. */
import { LABELS } from '../../domain/labels';
import type { LiveState } from '../../observed/live-state';
import { KEEP_REVISIONS, revisionNumber } from '../revisions';
import type { RemoveStep } from './steps';
import { isBootEndpoints } from './boot-endpoints';

/**
 * `current` is the config the cluster's proxy uses after this run; configs mounted by a task of the
 * proxy service that is meant to run stay (during a rolling update old tasks still use theirs), and
 * so do those the service's spec mounts after this run (`mountedBySpec`): with hitless delivery the
 * spec keeps its boot config while newer revisions are only delivered, and Docker refuses to remove
 * a config a service spec references even when no task runs it.
 * Boot endpoint sets (boot-endpoints.ts) are no revisions: every one no task and not the spec mounts goes.
 */
export function planConfigPrune(cluster: string, current: string, serviceId: string | undefined, live: LiveState, mountedBySpec: readonly string[] = []): RemoveStep[] {
  const inUse = new Set([
    ...mountedBySpec,
    ...live.tasks.filter((t) => serviceId !== undefined && t.ServiceID === serviceId && t.DesiredState !== 'shutdown').flatMap((t) => (t.Spec?.ContainerSpec?.Configs ?? []).map((c) => c.ConfigName)),
  ]);
  const all = live.proxyConfigs.filter((c) => c.Spec.Labels?.[LABELS.cluster] === cluster);
  const own = all.filter((c) => !isBootEndpoints(c));
  const endpointSets = all.filter((c) => isBootEndpoints(c) && !inUse.has(c.Spec.Name));
  // Parts 2..n of a config stored in several (ADR 0029) go with their config, never on their own count.
  const isPart = (c: (typeof own)[number]): boolean => c.Spec.Labels?.[LABELS.partOf] !== undefined;
  const candidates = own
    .filter((c) => !isPart(c) && c.Spec.Name !== current && !inUse.has(c.Spec.Name))
    // Newest revision first; configs from before revisions existed (no label) go first, oldest first.
    .sort((a, b) => (revisionNumber(b) ?? 0) - (revisionNumber(a) ?? 0) || ((a.CreatedAt ?? '') < (b.CreatedAt ?? '') ? 1 : -1));
  const removed = candidates.slice(KEEP_REVISIONS - 1);
  const gone = new Set(removed.map((c) => c.Spec.Name));
  const kept = new Set(own.filter((c) => !isPart(c) && !gone.has(c.Spec.Name)).map((c) => c.Spec.Name));
  const parts = own.filter((c) => {
    const main = c.Spec.Labels?.[LABELS.partOf] ?? '';
    return isPart(c) && main !== current && !kept.has(main) && !inUse.has(c.Spec.Name);
  });
  return [
    ...removed.map((c): RemoveStep => ({ op: 'removeConfig', cluster, targetId: c.ID, name: c.Spec.Name, reason: `no task uses it and it is older than the newest ${KEEP_REVISIONS} revisions` })),
    ...parts.map((c): RemoveStep => ({ op: 'removeConfig', cluster, targetId: c.ID, name: c.Spec.Name, reason: `a part of config ${c.Spec.Labels?.[LABELS.partOf] ?? ''}, which is removed` })),
    ...endpointSets.map((c): RemoveStep => ({ op: 'removeConfig', cluster, targetId: c.ID, name: c.Spec.Name, reason: 'a boot endpoint set no task mounts' })),
  ];
}
