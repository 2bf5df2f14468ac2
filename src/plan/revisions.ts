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
import { decodeRevisionLabels, decodeRollback, encodeRollback, encodeRouteLabels, routeEntries, routeListHash, type RollbackRequest, type RouteGeneration } from '../domain/revision-labels';
import type { ConfigInfo } from '../observed/docker-port';
import { fnv1a32 } from './hash';
import type { DesiredState } from './inputs';
import { LABELS } from '../domain/labels';
import { contentOfConfigName, revisionIdText } from '../domain/revision-id';

export { ROUTES_LABEL_MAX, type RollbackRequest, type RouteGeneration } from '../domain/revision-labels';

/** Revisions kept per cluster (the current one included); configs still used by tasks are kept besides. */
export const KEEP_REVISIONS = 5;

export interface Revision {
  readonly revision: number;
  readonly config: ConfigInfo;
  /** `name@generation` entries, or undefined when only the list's hash was stored. */
  readonly routes?: ReadonlySet<string>;
  readonly routesHash: string;
  readonly routeCount: number;
}

/** `rev 7 (3f2a9c1b04de)`: a revision as every command and condition shows it (ADR 0025). */
export function revisionIdOf(r: Pick<Revision, 'revision' | 'config'>): string {
  return revisionIdText({ revision: r.revision, content: contentOfConfigName(r.config.Spec.Name) ?? r.config.Spec.Name });
}

/** The labels a proxy config carries for its routes. */
export const routesLabels = encodeRouteLabels;

export function revisionNumber(c: ConfigInfo): number | undefined {
  return decodeRevisionLabels(c.Spec.Labels).revision;
}

export function toRevision(c: ConfigInfo): Revision | undefined {
  const { revision, ...rest } = decodeRevisionLabels(c.Spec.Labels);
  return revision === undefined ? undefined : { revision, config: c, ...rest };
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
export function revisionHas(rev: Pick<Revision, 'routes' | 'routesHash'>, route: RouteGeneration, routes: readonly RouteGeneration[]): boolean {
  if (rev.routes !== undefined) return rev.routes.has(`${route.name}@${route.generation}`);
  // Only a hash: a route is known to be in it only when the whole list is unchanged.
  return routeListHash(routes) === rev.routesHash;
}

/** Fingerprint of the stored route generations of a cluster: changes with every apply/delete of one of them. */
export function specsFingerprint(routes: readonly RouteGeneration[]): string {
  return fnv1a32(routeEntries(routes).join(','));
}

export function rollbackOf(specConfig: ConfigInfo | undefined): RollbackRequest | undefined {
  return decodeRollback(specConfig?.Spec.Labels);
}

/** The spec config's labels with the rollback request set (or cleared, with undefined). */
export const withRollback = encodeRollback;

/** The stored routes of a cluster with their generations (what a rollback request is compared with). */
export function clusterRouteGenerations(specs: DesiredState, cluster: string): RouteGeneration[] {
  return specs.routes.filter((r) => r.object.spec.serviceCluster === cluster).map((r) => ({ name: r.object.metadata.name, generation: r.generation }));
}
