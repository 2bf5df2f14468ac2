/**
 * What an apply of some objects would do, computed before anything is written — for `diff` (which
 * prints it all) and `apply` (which prints the warnings first): the objects that change, every
 * cluster's config before and after (through the core's own pipeline), the Plan the core would
 * make, what that Plan does to running proxies, routes the applied specs would leave out (host
 * conflicts, unresolved references) and published ports two owners would want.
 */
import { storedRollbacks, storedRolloutStates } from '../desired/served-state';
import { DesiredStateReader, specHash } from '../desired/spec-store';
import { objectKey } from '../domain/meta';
import type { ApiObject, MiddlewareObject, RouteObject, ServiceClusterObject, StreamRouteObject } from '../domain/object';
import type { DockerPort } from '../observed/docker-port';
import { readLiveState, type LiveState } from '../observed/live-state';
import { toSnapshot } from '../observed/to-snapshot';
import type { DesiredState, Stored } from '../plan/inputs';
import { desiredConfig, mainFile, type PipelineInputs } from '../plan/pipeline';
import { ENDPOINTS_FILE } from '../render/render-cluster';
import { portClashes } from '../plan/port-clashes';
import { planImpact, type ClusterImpact } from '../plan/writes/impact';
import type { Plan } from '../plan/writes/steps';
import { corePlan, installedAgentEndpoint, type RenderedCluster } from './commands/diff-plan';

export interface ApplyPreview {
  /** The applied objects that differ from what is stored, with what is stored now (undefined: new). */
  readonly changed: readonly { readonly object: ApiObject; readonly before: ApiObject | undefined }[];
  readonly beforeConfigs: ReadonlyMap<string, RenderedCluster>;
  readonly afterConfigs: ReadonlyMap<string, RenderedCluster>;
  readonly plan: Plan;
  readonly impact: readonly ClusterImpact[];
  /** Problems the applied objects would have once stored (not accepted, unresolved), and port clashes. */
  readonly problems: readonly string[];
  readonly live: LiveState;
}

/** The desired state after applying `objects` on top of `current` (same generation bump as apply). */
export function withApplied(current: DesiredState, objects: readonly ApiObject[]): DesiredState {
  const replace = <O extends ApiObject>(list: readonly Stored<O>[], incoming: readonly O[]): Stored<O>[] => {
    const out = [...list];
    for (const o of incoming) {
      const i = out.findIndex((s) => s.object.kind === o.kind && s.object.metadata.name === o.metadata.name);
      const prev = out[i];
      if (prev !== undefined) out[i] = { ...prev, object: o, generation: prev.generation + 1 };
      else out.push({ object: o, generation: 1, createdAt: '9999-12-31T23:59:59.999Z' });
    }
    return out;
  };
  const routes = objects.filter((o): o is RouteObject => o.kind === 'Route');
  const clusters = objects.filter((o): o is ServiceClusterObject => o.kind === 'ServiceCluster');
  const middlewares = replace(current.middlewares ?? [], objects.filter((o): o is MiddlewareObject => o.kind === 'Middleware'));
  const streamRoutes = replace(current.streamRoutes ?? [], objects.filter((o): o is StreamRouteObject => o.kind === 'TCPRoute' || o.kind === 'UDPRoute'));
  const touched = new Set(objects.map((o) => objectKey(o.kind, o.metadata.name)));
  return {
    routes: replace(current.routes, routes),
    clusters: replace(current.clusters, clusters),
    rejected: current.rejected.filter((r) => !touched.has(objectKey(r.kind, r.name))),
    ...(middlewares.length > 0 ? { middlewares } : {}),
    ...(streamRoutes.length > 0 ? { streamRoutes } : {}),
  };
}

/**
 * Each cluster's config file (nginx.conf or haproxy.cfg, by its proxy.kind) → content, through the
 * core's own pipeline: label routes, every rollout at the weights it is served at, rolled-back clusters
 * at their revision (a rollback the applied objects would end is not applied); and the conditions.
 */
function renderAll(desired: DesiredState, served: Omit<PipelineInputs, 'specs'>): { configs: Map<string, RenderedCluster>; conditions: ReturnType<typeof desiredConfig>['result']['conditions'] } {
  const built = desiredConfig({ ...served, specs: desired });
  const endpointsOf = (c: (typeof built.clusters)[number]) => c.files?.files.find((f) => f.path === ENDPOINTS_FILE)?.content;
  return {
    configs: new Map(built.clusters.map((c) => {
      const endpoints = endpointsOf(c);
      return [c.model.cluster, { model: c.model, file: c.files?.main ?? '', content: mainFile(c.files), ...(endpoints !== undefined ? { endpoints } : {}) }];
    })),
    conditions: built.result.conditions,
  };
}

const ref = (o: { kind: string; metadata: { name: string } }): string => `${o.kind.toLowerCase()}/${o.metadata.name}`;

export async function previewApply(port: DockerPort, objects: readonly ApiObject[]): Promise<ApplyPreview> {
  const [{ desired: current, stored }, live] = await Promise.all([new DesiredStateReader(port).read(), readLiveState(port)]);
  const { snapshot } = toSnapshot(live);
  // What the proxies serve now: the stored rollout states and rollbacks, as the core last decided them.
  // Rendered as the installed core renders: without agents that reach it every cluster is Static (ADR 0039).
  const served = { snapshot, rollouts: { states: storedRolloutStates(stored) }, rollbacks: (await storedRollbacks(port, stored, live.proxyConfigs)).sources, agents: typeof installedAgentEndpoint(live) !== 'string' };
  const storedObjects = new Map<string, ApiObject>([...current.routes, ...current.clusters, ...(current.middlewares ?? [])].map((s) => [objectKey(s.object.kind, s.object.metadata.name), s.object]));
  // Like apply, an unchanged object keeps its generation (and so its place in the rendered config).
  const changed = objects.flatMap((object) => {
    const key = objectKey(object.kind, object.metadata.name);
    const before = storedObjects.get(key);
    return before !== undefined && specHash(before) === specHash(object) && stored.has(key) ? [] : [{ object, before }];
  });
  const before = renderAll(current, served);
  const after = renderAll(withApplied(current, changed.map((c) => c.object)), served);
  const plan = await corePlan(port, [...after.configs.values()], before.configs, live);
  const problems: string[] = [];
  for (const { object } of changed) {
    for (const c of after.conditions[objectKey(object.kind, object.metadata.name)] ?? []) {
      if ((c.type === 'Accepted' || c.type === 'ResolvedRefs') && c.status === 'False') problems.push(`${ref(object)} would not be served: ${c.type} False (${c.reason}): ${c.message}`);
    }
  }
  for (const clash of portClashes([...after.configs.values()].map((c) => c.model), live.services))
    problems.push(`port ${clash.port} is published by ${clash.owners.join(' and ')}: Swarm gives it to one only (the other cluster's proxies stay pending or are refused)`);
  return { changed, beforeConfigs: before.configs, afterConfigs: after.configs, plan, impact: planImpact(plan, live), problems, live };
}

/** The lines `diff` and `apply` print before anything is written: problems first, then each cluster's impact. */
export function previewLines(p: Pick<ApplyPreview, 'impact' | 'problems'>): string[] {
  return [...p.problems.map((x) => `warning: ${x}`), ...p.impact.map((i) => `${i.disruptive ? 'warning' : 'note'}: cluster "${i.cluster}": ${i.text}`)];
}
