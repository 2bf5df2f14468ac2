/** What buildModel reads besides the snapshot: decoded objects with their storage metadata, and rejects. */
import type { Issue } from '../domain/issue';
import type { Kind } from '../domain/meta';
import type { RouteObject, ServiceClusterObject } from '../domain/object';

export interface Stored<O> {
  readonly object: O;
  /** Generation of the stored spec (1 for files that were never applied). */
  readonly generation: number;
  /** ISO timestamp of the first generation; decides which route wins a conflict (older first). */
  readonly createdAt?: string;
}

/** An object that failed decoding; it still gets an Accepted=False condition. */
export interface Rejected {
  readonly kind: Kind;
  readonly name: string;
  readonly generation: number;
  readonly issues: readonly Issue[];
}

export interface DesiredState {
  readonly routes: readonly Stored<RouteObject>[];
  readonly clusters: readonly Stored<ServiceClusterObject>[];
  readonly rejected: readonly Rejected[];
}

export function byAge<O extends { metadata: { name: string } }>(a: Stored<O>, b: Stored<O>): number {
  const ca = a.createdAt ?? '';
  const cb = b.createdAt ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  const na = a.object.metadata.name;
  const nb = b.object.metadata.name;
  return na < nb ? -1 : na > nb ? 1 : 0;
}
