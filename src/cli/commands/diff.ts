/**
 * `swarmgate diff -f PATH...`: what `apply` would change, before it changes anything — the spec changes per
 * object, the unified diff of every generated proxy config that would change, and the proxy services that
 * would be updated. Exit codes as `diff`: 0 no change, 1 changes, 2 error.
 */
import { errorText } from '../error-text';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { withLabelRoutes } from '../../desired/interlock-labels';
import { loadSpecs } from '../../desired/load-specs';
import { formatLocatedIssue, sortByPosition } from '../../desired/source-position';
import { DesiredStateReader, specHash } from '../../desired/spec-store';
import { objectKey } from '../../domain/meta';
import { encodeObject, type ApiObject, type MiddlewareObject, type RouteObject, type ServiceClusterObject } from '../../domain/object';
import type { DockerPort } from '../../observed/docker-port';
import { readSnapshot } from '../../observed/read-snapshot';
import { buildModel } from '../../plan/build-model';
import type { DesiredState, Stored } from '../../plan/inputs';
import { renderCluster } from '../../apply/render-cluster';
import { proxyServiceName } from '../../apply/proxy-service-spec';
import type { Output } from '../output';
import { resourceName } from './apply';

export const DIFF_EXIT = { same: 0, changed: 1, error: 2 } as const;

/** The desired state after applying `objects` on top of `current` (same generation bump as apply). */
export function withApplied(current: DesiredState, objects: readonly ApiObject[]): DesiredState {
  const replace = <O extends ApiObject>(list: readonly Stored<O>[], incoming: readonly O[]): Stored<O>[] => {
    const out = [...list];
    for (const o of incoming) {
      const i = out.findIndex((s) => s.object.metadata.name === o.metadata.name);
      const prev = out[i];
      if (prev !== undefined) out[i] = { ...prev, object: o, generation: prev.generation + 1 };
      else out.push({ object: o, generation: 1, createdAt: '9999-12-31T23:59:59.999Z' });
    }
    return out;
  };
  const routes = objects.filter((o): o is RouteObject => o.kind === 'Route');
  const clusters = objects.filter((o): o is ServiceClusterObject => o.kind === 'ServiceCluster');
  const middlewares = replace(current.middlewares ?? [], objects.filter((o): o is MiddlewareObject => o.kind === 'Middleware'));
  const touched = new Set(objects.map((o) => objectKey(o.kind, o.metadata.name)));
  return {
    routes: replace(current.routes, routes),
    clusters: replace(current.clusters, clusters),
    rejected: current.rejected.filter((r) => !touched.has(objectKey(r.kind, r.name))),
    ...(middlewares.length > 0 ? { middlewares } : {}),
  };
}

/** Each cluster's config file (nginx.conf or haproxy.cfg, by its proxy.kind) → content. */
function renderAll(desired: DesiredState, snapshot: Awaited<ReturnType<typeof readSnapshot>>['snapshot']): Map<string, { file: string; content: string }> {
  // As the core: services with com.docker.lb.* labels are routed too (after every Route spec).
  return new Map(
    buildModel(withLabelRoutes(desired, snapshot), snapshot).clusters.map((m) => {
      const r = renderCluster(m);
      return [m.cluster, { file: r.main, content: r.files.find((f) => f.path === r.main)?.content ?? '' }];
    }),
  );
}

export async function runDiff(port: DockerPort, paths: readonly string[], io: Output): Promise<number> {
  const { objects, issues } = loadSpecs(paths);
  if (issues.length > 0 || objects.length === 0) {
    for (const i of sortByPosition(issues)) io.err(formatLocatedIssue(i));
    if (objects.length === 0 && issues.length === 0) io.err('no objects found in the input');
    return DIFF_EXIT.error;
  }
  try {
    const [{ desired: current, stored }, { snapshot }] = await Promise.all([new DesiredStateReader(port).read(), readSnapshot(port)]);
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
    const beforeConfigs = renderAll(current, snapshot);
    const afterConfigs = renderAll(withApplied(current, applied), snapshot);
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
    if (!changed) io.out('no changes');
    return changed ? DIFF_EXIT.changed : DIFF_EXIT.same;
  } catch (e) {
    io.err(`diff failed: ${errorText(e)}`);
    return DIFF_EXIT.error;
  }
}
