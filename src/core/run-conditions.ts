/**
 * The conditions one core run ends with: the model's (Accepted, ResolvedRefs), the rollouts', and
 * Programmed/Ready from what the proxies run; plus the per-cluster proxy status and report. Pure
 * apart from the metrics gauges it sets.
 */
import { condition, type Condition } from '../domain/conditions';
import { objectKey } from '../domain/meta';
import type { LiveState } from '../observed/live-state';
import type { RevisionId } from '../domain/revision-id';
import { revisionHas, revisionIdOf, type Revision } from '../plan/revisions';
import { isServingTask } from '../observed/docker-port';
import type { DesiredState } from '../plan/inputs';
import type { buildModel } from '../plan/build-model';
import { clusterStatus, routeProgrammed, type ClusterRuntime } from '../status/cluster-status';
import { programmedStreamName } from '../plan/model';
import type { CoreMetrics } from '../status/metrics';
import type { BackendsStatus, ProxyStatus } from '../domain/status-label';
import { HEALTH_WINDOW_MS } from '../domain/backend-health';
import { backendsHealthy, type RecentTraffic } from '../status/backend-health';
import { modelHasRoute } from '../status/model-index';

/** What one run did, per cluster: for logs, tests and `swarmgate core` output. */
export interface CoreRunReport {
  readonly writes: number;
  readonly clusters: readonly { readonly name: string; readonly configName?: string; readonly running: number; readonly current: number; readonly programmed: boolean }[];
}

export interface RunConditions {
  /** By object key, for the stored specs (written as status). */
  readonly conditions: Record<string, Condition[]>;
  /** Routes from com.docker.lb.* labels: no stored config to carry status, published only. */
  readonly labelConditions: Record<string, Condition[]>;
  readonly report: CoreRunReport['clusters'][number][];
  /** By Route key: its backends' recent counts (status `backends`). */
  readonly backends: Record<string, BackendsStatus>;
}

export function runConditions(
  result: ReturnType<typeof buildModel>,
  rollouts: ReadonlyMap<string, Condition>,
  desired: DesiredState,
  runtimes: readonly ClusterRuntime[],
  tasks: LiveState['tasks'],
  /** Clusters serving an old revision: routes not in it are Programmed=False, RolledBack. */
  rolledBack: ReadonlyMap<string, Revision>,
  metrics: CoreMetrics | undefined,
  /** The agents' recent traffic (hitless clusters only), and the time it is read at. */
  traffic?: { readonly recent: RecentTraffic; readonly at: string },
): RunConditions {
  const backends: Record<string, BackendsStatus> = {};
  /** BackendsHealthy for a route its cluster serves (counted only where agents report traffic); none for one left out. */
  const health = (rt: ClusterRuntime, key: string, name: string): Condition[] => {
    if (!modelHasRoute(rt.model, name)) return [];
    const h = backendsHealthy(rt.model, name, rt.hitless !== undefined ? traffic?.recent : undefined);
    if (h.backends.length > 0 && traffic !== undefined) backends[key] = { at: traffic.at, windowSeconds: HEALTH_WINDOW_MS / 1000, items: h.backends };
    return [h.condition];
  };
  const conditions: Record<string, Condition[]> = Object.fromEntries(Object.entries(result.conditions).map(([k, v]) => [k, [...v]]));
  for (const [key, c] of rollouts) conditions[key] = [...(conditions[key] ?? []), c];
  const report: CoreRunReport['clusters'][number][] = [];
  const labelConditions: Record<string, Condition[]> = {};
  for (const rt of runtimes) {
    const st = clusterStatus(rt, tasks);
    metrics?.replicasRunning.set({ cluster: rt.model.cluster }, st.running);
    metrics?.replicasCurrent.set({ cluster: rt.model.cluster }, st.current);
    report.push({ name: rt.model.cluster, ...(rt.configName !== undefined ? { configName: rt.configName } : {}), running: st.running, current: st.current, programmed: st.programmed });
    const ck = objectKey('ServiceCluster', rt.model.cluster);
    if (conditions[ck] !== undefined) conditions[ck] = [...(conditions[ck] ?? []), ...st.conditions];
    for (const s of desired.routes) {
      if (s.object.spec.serviceCluster !== rt.model.cluster) continue;
      const key = objectKey('Route', s.object.metadata.name);
      const accepted = (conditions[key] ?? []).find((c) => c.type === 'Accepted')?.status === 'True';
      const rev = rolledBack.get(rt.model.cluster);
      const programmed =
        !accepted
          ? condition('Programmed', 'False', 'Pending', 'not accepted')
          : rev !== undefined && !revisionHas(rev, { name: s.object.metadata.name, generation: s.generation }, rt.model.routes)
            ? condition('Programmed', 'False', 'RolledBack', `cluster "${rt.model.cluster}" is rolled back to ${revisionIdOf(rev)}, which does not contain generation ${s.generation} of this route; the next apply ends the rollback`)
            : routeProgrammed(s.object.metadata.name, s.generation, rt, st);
      conditions[key] = [...(conditions[key] ?? []), programmed, ...health(rt, key, s.object.metadata.name)];
    }
    // TCPRoutes and UDPRoutes: listed in the model under programmedStreamName (no Route has that name).
    for (const s of desired.streamRoutes ?? []) {
      if (s.object.spec.serviceCluster !== rt.model.cluster) continue;
      const key = objectKey(s.object.kind, s.object.metadata.name);
      const accepted = (conditions[key] ?? []).find((c) => c.type === 'Accepted')?.status === 'True';
      const programmed = accepted ? routeProgrammed(programmedStreamName(s.object.kind, s.object.metadata.name), s.generation, rt, st) : condition('Programmed', 'False', 'Pending', 'not accepted');
      conditions[key] = [...(conditions[key] ?? []), programmed];
    }
    // Routes from com.docker.lb.* labels have no stored config to carry status: published (gRPC, metrics) only.
    for (const r of desired.labelRoutes ?? []) {
      if (r.object.spec.serviceCluster !== rt.model.cluster) continue;
      const name = r.object.metadata.name;
      const own = result.labelRoutes?.[name]?.conditions ?? [];
      const accepted = own.find((c) => c.type === 'Accepted')?.status === 'True';
      labelConditions[objectKey('Route', name)] = [...own, accepted ? routeProgrammed(name, 1, rt, st) : condition('Programmed', 'False', 'Pending', 'not accepted'), ...health(rt, objectKey('Route', name), name)];
    }
  }
  return { conditions, labelConditions, report, backends };
}

/** Per hitless cluster: the delivered config and what each running proxy task reported it runs. */
export function proxyStatuses(runtimes: readonly ClusterRuntime[], tasks: LiveState['tasks'], idOf: (configHash: string) => RevisionId | undefined = () => undefined): Record<string, ProxyStatus> {
  const out: Record<string, ProxyStatus> = {};
  for (const rt of runtimes) {
    if (rt.hitless === undefined || rt.serviceId === undefined) continue;
    const applied = new Map(rt.hitless.reports.map((r) => [r.replicaId, r.appliedHash]));
    const current = idOf(rt.hitless.configHash);
    const replicas = tasks
      .filter((t) => t.ServiceID === rt.serviceId && isServingTask(t))
      .map((t) => {
        const hash = applied.get(t.ID) ?? '';
        const revision = hash === '' ? undefined : idOf(hash);
        return { task: t.ID.slice(0, 12), applied: hash.slice(0, 12) || '-', ...(revision !== undefined ? { revision } : {}) };
      })
      .sort((a, b) => (a.task < b.task ? -1 : 1));
    out[objectKey('ServiceCluster', rt.model.cluster)] = { delivery: 'hitless', config: rt.hitless.configHash.slice(0, 12), ...(current !== undefined ? { revision: current } : {}), replicas };
  }
  return out;
}
