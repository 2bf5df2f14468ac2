/**
 * The labels of revisions and rollbacks (docs/adr/0007-revisions-and-rollback.md), one codec for the
 * writers (the executor labelling a proxy config, `swarmgate rollback`, the core ending a rollback) and
 * the readers (history, rollback, the core's rolled-back delivery and RolledBack conditions).
 *
 * - On a proxy config: `io.swarmgate.revision` (a positive integer, monotonic per cluster), the routes it
 *   was rendered from (`io.swarmgate.routes`: sorted `name@generation` joined by ","; `sha256:<hex>` of
 *   that text when longer than ROUTES_LABEL_MAX) and their count (`io.swarmgate.route-count`).
 * - On a ServiceCluster spec config: `io.swarmgate.rollback` (the revision it is rolled back to) and
 *   `io.swarmgate.rollback-specs` (a fingerprint of the cluster's stored route generations then).
 */
import { LABELS } from './labels';
import { sha256Hex } from './sha256';

/** Longest route list stored verbatim in a label; longer lists are stored as their SHA-256. */
export const ROUTES_LABEL_MAX = 8192;
const HASHED = 'sha256:';

export interface RouteGeneration {
  readonly name: string;
  readonly generation: number;
}

/** A proxy config's revision labels as read. */
export interface RevisionLabels {
  /** Absent: the config carries no (valid) revision. */
  readonly revision?: number;
  /** `name@generation` entries, or undefined when only the list's hash was stored. */
  readonly routes?: ReadonlySet<string>;
  /** SHA-256 of the sorted entries joined by "," (stored, or computed from the list). */
  readonly routesHash: string;
  readonly routeCount: number;
}

export interface RollbackRequest {
  readonly revision: number;
  /** Fingerprint of the cluster's stored route generations when the rollback was requested. */
  readonly specs: string;
}

/** The sorted, distinct `name@generation` entries of a route list (what the routes label holds). */
export function routeEntries(routes: readonly RouteGeneration[]): string[] {
  return [...new Set(routes.map((r) => `${r.name}@${r.generation}`))].sort();
}

/** SHA-256 of a route list, as stored when the list itself is too long. */
export function routeListHash(routes: readonly RouteGeneration[]): string {
  return sha256Hex(routeEntries(routes).join(','));
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^[1-9][0-9]{0,15}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The labels a proxy config carries for its routes. */
export function encodeRouteLabels(routes: readonly RouteGeneration[]): Record<string, string> {
  const list = routeEntries(routes);
  const joined = list.join(',');
  return { [LABELS.routes]: joined.length > ROUTES_LABEL_MAX ? `${HASHED}${sha256Hex(joined)}` : joined, [LABELS.routeCount]: String(list.length) };
}

/** The label a proxy config carries for its revision. */
export function encodeRevisionLabel(revision: number): Record<string, string> {
  return { [LABELS.revision]: String(revision) };
}

export function decodeRevisionLabels(labels: Readonly<Record<string, string>> | undefined): RevisionLabels {
  const l = labels ?? {};
  const revision = positiveInteger(l[LABELS.revision]);
  const text = l[LABELS.routes] ?? '';
  const hashed = text.startsWith(HASHED);
  const list = text === '' || hashed ? [] : text.split(',');
  const count = Number(l[LABELS.routeCount] ?? list.length);
  return {
    ...(revision !== undefined ? { revision } : {}),
    ...(hashed ? {} : { routes: new Set(list) }),
    routesHash: hashed ? text.slice(HASHED.length) : sha256Hex(list.join(',')),
    routeCount: Number.isInteger(count) && count >= 0 ? count : 0,
  };
}

export function decodeRollback(labels: Readonly<Record<string, string>> | undefined): RollbackRequest | undefined {
  const l = labels ?? {};
  const revision = positiveInteger(l[LABELS.rollback]);
  return revision === undefined ? undefined : { revision, specs: l[LABELS.rollbackSpecs] ?? '' };
}

/** The spec config's labels with the rollback request set (or cleared, with undefined). */
export function encodeRollback(labels: Readonly<Record<string, string>>, request: RollbackRequest | undefined): Record<string, string> {
  const { [LABELS.rollback]: _r, [LABELS.rollbackSpecs]: _s, ...rest } = labels;
  return request === undefined ? rest : { ...rest, [LABELS.rollback]: String(request.revision), [LABELS.rollbackSpecs]: request.specs };
}
