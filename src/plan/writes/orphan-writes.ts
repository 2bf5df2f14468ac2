/** Proxy and extension services of clusters that no longer exist (a deleted ServiceCluster) are removed. */
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import type { ServiceInfo } from '../../observed/docker-port';
import { clusterGroupKey, type StepGroup } from './steps';

export function planOrphanRemovals(clusters: ReadonlySet<string>, services: readonly ServiceInfo[]): StepGroup[] {
  const byCluster = new Map<string, StepGroup['steps'][number][]>();
  for (const s of services) {
    const l = s.Spec.Labels ?? {};
    if (l[LABELS.owner] !== OWNER_VALUE || (l[LABELS.role] !== 'proxy' && l[LABELS.role] !== 'extension')) continue;
    const cluster = l[LABELS.cluster] ?? '';
    if (clusters.has(cluster)) continue;
    byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), { op: 'removeService', cluster, targetId: s.ID, name: s.Spec.Name, reason: `its ServiceCluster "${cluster}" was deleted` }]);
  }
  return [...byCluster].map(([cluster, steps]) => ({ key: clusterGroupKey(cluster), steps }));
}
