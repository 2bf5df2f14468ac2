/**
 * Proxy and extension services of clusters that no longer exist (a deleted ServiceCluster) are
 * removed; a removed hitless proxy's node-local volumes are removed on every node by a global job
 * (node-cleanup-spec.ts, ADR 0020), and finished jobs are removed.
 */
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import type { LiveState } from '../../observed/live-state';
import { cleanupJobDone, lastAppliedVolumesOf, NODE_CLEANUP_ROLE, nodeCleanupJobSpec, nodeCleanupName } from '../node-cleanup-spec';
import { clusterGroupKey, type Step, type StepGroup } from './steps';

export function planOrphanRemovals(clusters: ReadonlySet<string>, live: Pick<LiveState, 'services' | 'tasks' | 'nodes'>): StepGroup[] {
  const byCluster = new Map<string, Step[]>();
  const add = (cluster: string, step: Step): void => {
    byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), step]);
  };
  for (const s of live.services) {
    const l = s.Spec.Labels ?? {};
    if (l[LABELS.owner] !== OWNER_VALUE) continue;
    const cluster = l[LABELS.cluster] ?? '';
    if (l[LABELS.role] === NODE_CLEANUP_ROLE) {
      if (cleanupJobDone(s, live.tasks, live.nodes)) add(cluster, { op: 'removeService', cluster, targetId: s.ID, name: s.Spec.Name, reason: 'its volume clean-up has finished on every node' });
      continue;
    }
    if ((l[LABELS.role] !== 'proxy' && l[LABELS.role] !== 'extension') || clusters.has(cluster)) continue;
    add(cluster, { op: 'removeService', cluster, targetId: s.ID, name: s.Spec.Name, reason: `its ServiceCluster "${cluster}" was deleted` });
    const volumes = lastAppliedVolumesOf(s.Spec);
    const name = nodeCleanupName(cluster, volumes);
    if (volumes.length > 0 && !live.services.some((x) => x.Spec.Name === name)) {
      add(cluster, {
        op: 'createService',
        id: `node-cleanup-${cluster}`,
        cluster,
        role: NODE_CLEANUP_ROLE,
        spec: nodeCleanupJobSpec({ name, cluster, image: s.Spec.TaskTemplate.ContainerSpec.Image, volumes }),
        effect: 'starts-tasks',
        reason: `remove ${volumes.join(', ')} (the deleted cluster's last applied configs) on every node`,
      });
    }
  }
  return [...byCluster].map(([cluster, steps]) => ({ key: clusterGroupKey(cluster), steps }));
}
