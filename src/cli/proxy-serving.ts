/**
 * What a cluster's proxies serve, named one way (`rev 7 (3f2a9c1b04de)`, src/domain/revision-id.ts)
 * for `status`, `describe` and `get sc -o wide`, each replica with its node's hostname. Rolling
 * proxies serve the Swarm config their task mounts; hitless proxies serve what their agent reported,
 * which the core wrote into the cluster's status already named (the mounted config is only the boot
 * config then).
 */
import { LABELS } from '../domain/labels';
import { contentOfConfigName, revisionIdText, type RevisionId } from '../domain/revision-id';
import type { ObjectStatus } from '../domain/status-label';
import type { ConfigInfo, NodeInfo, ServiceInfo, TaskInfo } from '../observed/docker-port';
import { revisionNumber } from '../plan/revisions';

export interface ReplicaServing {
  /** `sg-proxy-edge.1` */
  readonly replica: string;
  readonly node: string;
  /** What it serves, as users see it. */
  readonly serves: string;
  /** Whether that is the cluster's current config. */
  readonly current: boolean;
}

export interface ClusterServing {
  /** The config the cluster should run now, as users see it. */
  readonly current: string;
  readonly hitless: boolean;
  readonly replicas: readonly ReplicaServing[];
}

/** A generated config's identifier from its name and revision label; other names as they are. */
function mountedId(name: string | undefined, configs: readonly ConfigInfo[]): string {
  if (name === undefined) return 'no config';
  const content = contentOfConfigName(name);
  if (content === undefined) return name;
  const config = configs.find((c) => c.Spec.Name === name);
  const revision = config === undefined ? undefined : revisionNumber(config);
  return revisionIdText({ ...(revision !== undefined ? { revision } : {}), content });
}

/** An agent's report: the revision the core named it, else its files hash (a config the running core did not deliver). */
function reportedId(revision: RevisionId | undefined, applied: string | undefined): string {
  if (revision !== undefined) return revisionIdText(revision);
  if (applied === undefined || applied === '-') return 'nothing reported yet';
  return `unnamed config (agent files hash ${applied})`;
}

export function nodeNames(nodes: readonly NodeInfo[]): ReadonlyMap<string, string> {
  return new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? n.ID.slice(0, 12)]));
}

/**
 * @param running the proxy service's running tasks
 * @param configs the cluster's generated configs (for their revision labels)
 */
export function clusterServing(proxy: ServiceInfo, status: ObjectStatus | undefined, running: readonly TaskInfo[], nodes: ReadonlyMap<string, string>, configs: readonly ConfigInfo[]): ClusterServing {
  const hitless = proxy.Spec.Labels?.[LABELS.delivery] === 'hitless';
  const bySlot = [...running].sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0) || (a.ID < b.ID ? -1 : 1));
  const base = (t: TaskInfo) => ({ replica: `${proxy.Spec.Name}.${t.Slot ?? '?'}`, node: nodes.get(t.NodeID ?? '') ?? t.NodeID?.slice(0, 12) ?? '?' });
  if (!hitless) {
    const current = mountedId(proxy.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName, configs);
    return {
      current,
      hitless,
      replicas: bySlot.map((t) => {
        const serves = mountedId(t.Spec?.ContainerSpec?.Configs?.[0]?.ConfigName, configs);
        return { ...base(t), serves, current: serves === current };
      }),
    };
  }
  const p = status?.proxy;
  const current = p === undefined ? 'unknown (no agent report in the status yet)' : reportedId(p.revision, p.config);
  return {
    current,
    hitless,
    replicas: bySlot.map((t) => {
      const r = p?.replicas.find((x) => t.ID.startsWith(x.task));
      return { ...base(t), serves: reportedId(r?.revision, r?.applied), current: p !== undefined && r?.applied === p.config };
    }),
  };
}

/** `node1: rev 7 (3f2a9c1b04de), node2: rev 6 (…)` */
export function replicasCell(s: ClusterServing): string {
  return s.replicas.map((r) => `${r.node}: ${r.serves}`).join(', ') || '-';
}
