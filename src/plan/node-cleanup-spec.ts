/**
 * The node-local volumes of hitless proxies (`sg-last-<cluster>`, ADR 0018) live on every node a task
 * of the cluster ever ran on, and Swarm has no API to remove a volume on another node. A *global job*
 * does: one task per node, running `swarmgate remove-node-volumes` against that node's own Docker
 * socket, which removes the named volumes (waiting while a stopping proxy container still uses one)
 * and exits. ADR 0020. The core starts one when it removes a deleted cluster's proxy service and
 * removes the job once every task has ended; `uninstall` runs one for every `sg-last-*` volume.
 */
import { LABELS, OWNER_VALUE } from '../domain/labels';
import type { NodeInfo, ServiceInfo, ServiceSpec, TaskInfo } from '../observed/docker-port';
import { fnv1a32 } from './hash';
import { LAST_APPLIED_DIR } from './proxy-runtime';

export const NODE_CLEANUP_ROLE = 'node-cleanup';
/** The job's argument that means "every volume named sg-last-*" (uninstall). */
export const ALL_LAST_APPLIED = '--all-last-applied';
/** How long a job task waits for a stopping proxy container to release a volume. */
export const RELEASE_WAIT_SECONDS = 120;
const DEFAULT_SOCKET = '/var/run/docker.sock';

/** The `sg-last-*` volumes a (hitless) proxy service mounts. */
export function lastAppliedVolumesOf(spec: ServiceSpec): string[] {
  return (spec.TaskTemplate.ContainerSpec.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Target === LAST_APPLIED_DIR).map((m) => m.Source);
}

/** `sg-clean-<what>-<hash>`: unique per volume list, within Docker's 63 characters. */
export function nodeCleanupName(what: string, volumes: readonly string[]): string {
  return `sg-clean-${what.slice(0, 30)}-${fnv1a32(volumes.join(','))}`;
}

/**
 * A global job removing `volumes` (or, with ALL_LAST_APPLIED, every sg-last-* volume) on every node.
 * `image`: one with the swarmgate CLI on its PATH behind tini (the proxy image) or as entrypoint (the
 * core image: `cliIsEntrypoint`).
 */
export function nodeCleanupJobSpec(opts: { readonly name: string; readonly cluster?: string; readonly image: string; readonly cliIsEntrypoint?: boolean; readonly volumes: readonly string[]; readonly dockerSocket?: string }): ServiceSpec {
  const labels = { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: NODE_CLEANUP_ROLE, ...(opts.cluster !== undefined ? { [LABELS.cluster]: opts.cluster } : {}) };
  const socket = opts.dockerSocket ?? DEFAULT_SOCKET;
  return {
    Name: opts.name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: opts.image,
        Labels: labels,
        Args: [...(opts.cliIsEntrypoint === true ? [] : ['swarmgate']), 'remove-node-volumes', '--wait', String(RELEASE_WAIT_SECONDS), ...opts.volumes],
        // Swarm fills the template per task: each line names the node it is about.
        Env: [`DOCKER_HOST=unix://${socket}`, 'SWARMGATE_NODE={{.Node.Hostname}}'],
        Mounts: [{ Type: 'bind', Source: socket, Target: socket }],
      },
      // A failed removal is retried a few times, then left for the next uninstall (and the docs' manual step).
      RestartPolicy: { Condition: 'on-failure', MaxAttempts: 3, Delay: 2_000_000_000 },
    },
    Mode: { GlobalJob: {} },
  };
}

const ENDED = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove']);

/**
 * A cleanup job whose tasks have all ended (or sit on nodes that are not ready, where they will not
 * run until the node is back: the docs' manual step covers those). A job with no task yet is running.
 */
export function cleanupJobDone(job: ServiceInfo, tasks: readonly TaskInfo[], nodes: readonly NodeInfo[]): boolean {
  const own = tasks.filter((t) => t.ServiceID === job.ID);
  if (own.length === 0) return false;
  const ready = new Set(nodes.filter((n) => n.Status.State === 'ready').map((n) => n.ID));
  return own.every((t) => ENDED.has(t.Status.State) || (t.NodeID !== undefined && !ready.has(t.NodeID)));
}
