/**
 * Proxy and extension services of clusters that no longer exist (a deleted ServiceCluster) are
 * removed; a removed hitless proxy's node-local volumes are removed on every node by a global job
 * (node-cleanup-spec.ts, ADR 0020), and finished jobs are removed.
 */
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import type { LiveState } from '../../observed/live-state';
import { coreDockerSocket } from '../core-service-spec';
import { cleanupJobDone, lastAppliedVolumesOf, NODE_CLEANUP_ROLE, nodeCleanupJobSpec, nodeCleanupName } from '../node-cleanup-spec';
import { clusterGroupKey, type Step, type StepGroup } from './steps';

export function planOrphanRemovals(clusters: ReadonlySet<string>, live: Pick<LiveState, 'services' | 'tasks' | 'nodes'>): StepGroup[] {
  const byCluster = new Map<string, Step[]>();
  const jobs: Step[] = [];
  const add = (cluster: string, step: Step): void => {
    byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), step]);
  };
  for (const s of live.services) {
    const l = s.Spec.Labels ?? {};
    if (l[LABELS.owner] !== OWNER_VALUE) continue;
    const cluster = l[LABELS.cluster] ?? '';
    if (l[LABELS.role] === NODE_CLEANUP_ROLE) {
      // Its own group: the cluster may exist again by now, and its group key must stay the cluster's alone.
      if (cleanupJobDone(s, live.tasks, live.nodes)) jobs.push({ op: 'removeService', targetId: s.ID, name: s.Spec.Name, reason: `the clean-up of cluster "${cluster}"'s node volumes has finished on every node` });
      continue;
    }
    if ((l[LABELS.role] !== 'proxy' && l[LABELS.role] !== 'extension') || clusters.has(cluster)) continue;
    add(cluster, { op: 'removeService', cluster, targetId: s.ID, name: s.Spec.Name, reason: `its ServiceCluster "${cluster}" was deleted` });
    const volumes = lastAppliedVolumesOf(s.Spec);
    const name = nodeCleanupName(cluster, volumes);
    // The node's engine socket as the installed core mounts it. No installed core (a core run in a test
    // process): no job, since the default path may not be each node's own engine there.
    const socket = coreDockerSocket(live.services);
    if (volumes.length > 0 && socket !== undefined && !live.services.some((x) => x.Spec.Name === name)) {
      add(cluster, {
        op: 'createService',
        id: `node-cleanup-${cluster}`,
        cluster,
        role: NODE_CLEANUP_ROLE,
        spec: nodeCleanupJobSpec({ name, cluster, image: s.Spec.TaskTemplate.ContainerSpec.Image, volumes, dockerSocket: socket }),
        effect: 'starts-tasks',
        reason: `remove ${volumes.join(', ')} (the deleted cluster's last applied configs) on every node`,
      });
    }
  }
  return [...[...byCluster].map(([cluster, steps]) => ({ key: clusterGroupKey(cluster), steps })), ...(jobs.length > 0 ? [{ key: 'node-cleanup', steps: jobs }] : [])];
}
