/**
 * Published-port clashes between ServiceClusters, for their extra listeners. Ingress-mode ports are
 * published on every node of the swarm; host-mode ports on the nodes the cluster's tasks run on. Two
 * clusters may share a port only when both publish in host mode and their constraints pin them to
 * different nodes (one says `node.X==a`, the other `node.X==b`, or `node.X!=a`). Otherwise the older
 * cluster keeps the port and the younger cluster's listener is left out (not published, not served),
 * with Conflicted=True PortConflict on the cluster and its routes told why; Swarm would otherwise
 * refuse the update (ingress) or never place the task (host), and the whole cluster would suffer.
 * The http/https ports themselves are not judged here (a clash there is Ready=False Unschedulable
 * or a rejected update, as before listeners existed).
 */
import type { Listener } from '../domain/listener';
import { listenerSwarmProtocol } from '../domain/listener';
import type { ServiceClusterSpec } from '../domain/service-cluster';

export interface ClusterPorts {
  readonly name: string;
  readonly spec: ServiceClusterSpec;
}

export interface LeftOutListener {
  readonly listener: Listener;
  readonly message: string;
}

interface Held {
  readonly cluster: string;
  readonly what: string;
  readonly spec: ServiceClusterSpec;
}

const EQUALITY = /^\s*(node\.[A-Za-z0-9_.-]+)\s*(==|!=)\s*(\S+)\s*$/;

/** True when the constraints certainly keep the two clusters' tasks on different nodes. */
export function disjointNodes(a: ServiceClusterSpec, b: ServiceClusterSpec): boolean {
  const parse = (c: string): { key: string; op: string; value: string } | undefined => {
    const m = EQUALITY.exec(c);
    return m === null ? undefined : { key: m[1] as string, op: m[2] as string, value: m[3] as string };
  };
  for (const ca of a.proxy.constraints.map(parse)) {
    if (ca === undefined) continue;
    for (const cb of b.proxy.constraints.map(parse)) {
      if (cb === undefined || cb.key !== ca.key) continue;
      if (ca.op === '==' && cb.op === '==' && ca.value !== cb.value) return true;
      if (ca.op !== cb.op && ca.value === cb.value) return true;
    }
  }
  return false;
}

function mayShareNode(a: ServiceClusterSpec, b: ServiceClusterSpec): boolean {
  return !(a.proxy.publish.mode === 'host' && b.proxy.publish.mode === 'host' && disjointNodes(a, b));
}

/** Per cluster name: the listeners left out, oldest cluster first winning. `clusters` must be sorted oldest first. */
export function listenerPortConflicts(clusters: readonly ClusterPorts[]): Map<string, LeftOutListener[]> {
  const out = new Map<string, LeftOutListener[]>();
  const held = new Map<string, Held[]>();
  const hold = (key: string, h: Held): void => {
    held.set(key, [...(held.get(key) ?? []), h]);
  };
  // Every cluster's http/https ports are published whatever its age: a listener can never take them.
  for (const c of clusters) {
    hold(`tcp/${c.spec.proxy.publish.http}`, { cluster: c.name, what: 'http port', spec: c.spec });
    hold(`tcp/${c.spec.proxy.publish.https}`, { cluster: c.name, what: 'https port', spec: c.spec });
  }
  for (const c of clusters) {
    for (const l of c.spec.listeners) {
      const key = `${listenerSwarmProtocol(l)}/${l.port}`;
      const clash = (held.get(key) ?? []).find((h) => h.cluster !== c.name && mayShareNode(h.spec, c.spec));
      if (clash !== undefined) {
        const message = `listener "${l.name}" (${key}) is left out: service cluster "${clash.cluster}" publishes ${key} (its ${clash.what}) on the same nodes`;
        out.set(c.name, [...(out.get(c.name) ?? []), { listener: l, message }]);
        continue;
      }
      hold(key, { cluster: c.name, what: `listener "${l.name}"`, spec: c.spec });
    }
  }
  return out;
}
