/**
 * Revisions of a cluster's generated proxy config, and the rollback request stored on its
 * ServiceCluster spec config (docs/adr/0007-revisions-and-rollback.md).
 *
 * A proxy config carries `io.swarmgate.revision` (monotonic per cluster) and the route
 * generations it was rendered from (`io.swarmgate.routes`). A rollback is two labels on the
 * ServiceCluster's stored spec: the revision, and a fingerprint of the cluster's stored route
 * generations at the time; once that fingerprint changes (an apply or delete of one of its
 * routes) the core clears the rollback. Applying a changed ServiceCluster clears it too: the new
 * generation's config simply does not carry the labels.
 */
import { LABELS } from '../domain/labels';
import type { ConfigInfo } from '../observed/docker-port';
import { fnv1a32 } from './hash';
import { sha256Hex } from './sha256';
import type { DesiredState } from './inputs';

/** Revisions kept per cluster (the current one included); configs still used by tasks are kept besides. */
export const KEEP_REVISIONS = 5;

/** Longest route list stored verbatim in a label; longer lists are stored as their SHA-256. */
export const ROUTES_LABEL_MAX = 8192;

export interface RouteGeneration {
  readonly name: string;
  readonly generation: number;
}

export interface Revision {
  readonly revision: number;
  readonly config: ConfigInfo;
  /** `name@generation` entries, or undefined when only the list's hash was stored. */
  readonly routes?: ReadonlySet<string>;
  readonly routesHash: string;
  readonly routeCount: number;
}

function routeList(routes: readonly RouteGeneration[]): string[] {
  return [...new Set(routes.map((r) => `${r.name}@${r.generation}`))].sort();
}

const sha = sha256Hex;

/** The labels a proxy config carries for its routes. */
export function routesLabels(routes: readonly RouteGeneration[]): Record<string, string> {
  const list = routeList(routes);
  const joined = list.join(',');
  return { [LABELS.routes]: joined.length > ROUTES_LABEL_MAX ? `sha256:${sha(joined)}` : joined, [LABELS.routeCount]: String(list.length) };
}

export function revisionNumber(c: ConfigInfo): number | undefined {
  const n = Number(c.Spec.Labels?.[LABELS.revision]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function toRevision(c: ConfigInfo): Revision | undefined {
  const revision = revisionNumber(c);
  if (revision === undefined) return undefined;
  const label = c.Spec.Labels?.[LABELS.routes] ?? '';
  const list = label === '' ? [] : label.split(',');
  const hashed = label.startsWith('sha256:');
  return {
    revision,
    config: c,
    ...(hashed ? {} : { routes: new Set(list) }),
    routesHash: hashed ? label.slice('sha256:'.length) : sha(list.join(',')),
    routeCount: Number(c.Spec.Labels?.[LABELS.routeCount] ?? list.length) || 0,
  };
}

/** A cluster's revisions, oldest first (configs without a revision label are left out). */
export function clusterRevisions(configs: readonly ConfigInfo[], cluster: string): Revision[] {
  return configs
    .filter((c) => c.Spec.Labels?.[LABELS.cluster] === cluster && c.Spec.Labels[LABELS.role] === 'proxy-config')
    .map(toRevision)
    .filter((r): r is Revision => r !== undefined)
    .sort((a, b) => a.revision - b.revision);
}

/** Whether the revision contains this route generation; `routes` are all of the cluster's, for hashed lists. */
export function revisionHas(rev: Revision, route: RouteGeneration, routes: readonly RouteGeneration[]): boolean {
  if (rev.routes !== undefined) return rev.routes.has(`${route.name}@${route.generation}`);
  // Only a hash: a route is known to be in it only when the whole list is unchanged.
  return sha(routeList(routes).join(',')) === rev.routesHash;
}

/** Fingerprint of the stored route generations of a cluster: changes with every apply/delete of one of them. */
export function specsFingerprint(routes: readonly RouteGeneration[]): string {
  return fnv1a32(routeList(routes).join(','));
}

export interface RollbackRequest {
  readonly revision: number;
  readonly specs: string;
}

export function rollbackOf(specConfig: ConfigInfo | undefined): RollbackRequest | undefined {
  const l = specConfig?.Spec.Labels ?? {};
  const revision = Number(l[LABELS.rollback]);
  if (!Number.isInteger(revision) || revision <= 0) return undefined;
  return { revision, specs: l[LABELS.rollbackSpecs] ?? '' };
}

/** The spec config's labels with the rollback request set (or cleared, with undefined). */
export function withRollback(labels: Readonly<Record<string, string>>, request: RollbackRequest | undefined): Record<string, string> {
  const { [LABELS.rollback]: _r, [LABELS.rollbackSpecs]: _s, ...rest } = labels;
  return request === undefined ? rest : { ...rest, [LABELS.rollback]: String(request.revision), [LABELS.rollbackSpecs]: request.specs };
}

/** The stored routes of a cluster with their generations (what a rollback request is compared with). */
export function clusterRouteGenerations(specs: DesiredState, cluster: string): RouteGeneration[] {
  return specs.routes.filter((r) => r.object.spec.serviceCluster === cluster).map((r) => ({ name: r.object.metadata.name, generation: r.generation }));
}
