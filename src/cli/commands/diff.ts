/**
 * `swarmgate diff -f PATH...`: what `apply` would change, before it changes anything — the spec changes per
 * object, the unified diff of every generated proxy config that would change, the proxy services that
 * would be updated, and the Plan: every write the core would make (configs, service creates and updates
 * with whether they restart the proxy tasks, deliveries to agents, prunes), each with its reason.
 * Exit codes as `diff`: 0 no change, 1 changes, 2 error.
 */
import { errorText } from '../error-text';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { loadSpecs } from '../../desired/load-specs';
import { formatLocatedIssue, sortByPosition } from '../../desired/source-position';
import { storedRollbacks, storedRolloutStates } from '../../desired/served-state';
import { DesiredStateReader, specHash } from '../../desired/spec-store';
import { objectKey } from '../../domain/meta';
import { encodeObject, type ApiObject, type MiddlewareObject, type RouteObject, type ServiceClusterObject, type StreamRouteObject } from '../../domain/object';
import type { DockerPort } from '../../observed/docker-port';
import { readLiveState } from '../../observed/live-state';
import { toSnapshot } from '../../observed/to-snapshot';
import { describePlan } from '../../plan/writes/describe-plan';
import { corePlan, type RenderedCluster } from './diff-plan';
import type { DesiredState, Stored } from '../../plan/inputs';
import { desiredConfig, mainFile, type PipelineInputs } from '../../plan/pipeline';
import { proxyServiceName } from '../../plan/proxy-service-spec';
import type { Output } from '../output';
import { resourceName } from './apply';

export const DIFF_EXIT = { same: 0, changed: 1, error: 2 } as const;

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
 * at their revision (a rollback the applied objects would end is not applied).
 */
function renderAll(desired: DesiredState, served: Omit<PipelineInputs, 'specs'>): Map<string, RenderedCluster> {
  return new Map(desiredConfig({ ...served, specs: desired }).clusters.map((c) => [c.model.cluster, { model: c.model, file: c.files?.main ?? '', content: mainFile(c.files) }]));
}

export async function runDiff(port: DockerPort, paths: readonly string[], io: Output): Promise<number> {
  const { objects, issues } = loadSpecs(paths);
  if (issues.length > 0 || objects.length === 0) {
    for (const i of sortByPosition(issues)) io.err(formatLocatedIssue(i));
    if (objects.length === 0 && issues.length === 0) io.err('no objects found in the input');
    return DIFF_EXIT.error;
  }
  try {
    const [{ desired: current, stored }, live] = await Promise.all([new DesiredStateReader(port).read(), readLiveState(port)]);
    const { snapshot } = toSnapshot(live);
    // What the proxies serve now: the stored rollout states and rollbacks, as the core last decided them.
    const served = { snapshot, rollouts: { states: storedRolloutStates(stored) }, rollbacks: (await storedRollbacks(port, stored, live.proxyConfigs)).sources };
    const storedObjects = new Map<string, ApiObject>([...current.routes, ...current.clusters].map((s) => [objectKey(s.object.kind, s.object.metadata.name), s.object]));
    let changed = false;
    // Like apply, an unchanged object keeps its generation (and so its place in the rendered config).
    const applied: ApiObject[] = [];
    for (const { object } of objects) {
      const key = objectKey(object.kind, object.metadata.name);
      const before = storedObjects.get(key);
      const label = `${resourceName(object.kind)}/${object.metadata.name}`;
      if (before !== undefined && specHash(before) === specHash(object) && stored.has(key)) continue;
      changed = true;
      applied.push(object);
      const patch = createTwoFilesPatch(`${label} (stored)`, `${label} (applied)`, before === undefined ? '' : stringify(encodeObject(before)), stringify(encodeObject(object)), undefined, undefined, { context: 3 });
      io.out(`${label} ${before === undefined ? 'would be created' : 'would be configured'}`);
      // Drop the "====" separator line jsdiff puts first; keep the ---/+++ header.
      io.out(patch.split('\n').slice(1).join('\n'));
    }
    const beforeConfigs = renderAll(current, served);
    const afterConfigs = renderAll(withApplied(current, applied), served);
    const services: string[] = [];
    for (const [cluster, after] of afterConfigs) {
      const now = beforeConfigs.get(cluster);
      // Another proxy kind: the whole file is new.
      const before = now?.file === after.file ? now.content : '';
      if (now?.file === after.file && before === after.content) continue;
      changed = true;
      services.push(proxyServiceName(cluster));
      const label = `${cluster}/${after.file}`;
      io.out(createTwoFilesPatch(`${label} (now)`, `${label} (after apply)`, before, after.content, undefined, undefined, { context: 3 }).split('\n').slice(1).join('\n'));
    }
    if (services.length > 0) io.out(`proxy services that would be updated: ${services.join(', ')}`);
    if (changed) {
      // What the core would write once the apply lands: the Plan of the applied specs against the live Swarm.
      const lines = describePlan(await corePlan(port, [...afterConfigs.values()], beforeConfigs, live));
      io.out(lines.length > 0 ? ['what the core would write:', ...lines].join('\n') : 'the core would write nothing');
    }
    if (!changed) io.out('no changes');
    return changed ? DIFF_EXIT.changed : DIFF_EXIT.same;
  } catch (e) {
    io.err(`diff failed: ${errorText(e)}`);
    return DIFF_EXIT.error;
  }
}
