/** What buildModel reads besides the snapshot: decoded objects with their storage metadata, and rejects. */
import type { Issue } from '../domain/issue';
import type { Kind } from '../domain/meta';
import type { IssuerObject, MiddlewareObject, RouteObject, ServiceClusterObject, StreamRouteObject } from '../domain/object';

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

/**
 * A desired-state source other than stored specs, as the model builder needs to know it: its routes
 * are admitted after every Route spec (a spec always wins), and what they lose is explained in the
 * source's own terms.
 */
export interface RouteSource {
  /** Which source ("interlock-labels"). */
  readonly name: string;
  /** Appended to a HostConflict message when a Route spec holds what the route wants. */
  readonly lostToSpec: string;
  /** Appended when another route of the same source holds it. */
  readonly lostToSameSource: string;
}

/**
 * A Route from a source other than stored specs, e.g. translated from com.docker.lb.* service labels
 * (src/plan/sources/interlock/). It is an ordinary Route object (generation 1, never stored) with its
 * provenance: the services that define it and the source.
 */
export interface LabelRoute {
  readonly object: RouteObject;
  /** The services whose labels define it; several when services sharing hosts are pooled. */
  readonly services: readonly string[];
  /** The source it comes from; absent: conflicts are reported without a hint. */
  readonly source?: RouteSource;
}

/** A service whose com.docker.lb.* labels cannot be translated; it gets Accepted=False with this reason. */
export interface LabelReject {
  /** The route name the service would have had (the key its status is reported under). */
  readonly route: string;
  readonly service: string;
  readonly reason: 'Invalid' | 'UnsupportedValue';
  /** Paths start with ["labels", "<label key>"]. */
  readonly issues: readonly Issue[];
}

export interface DesiredState {
  readonly routes: readonly Stored<RouteObject>[];
  readonly clusters: readonly Stored<ServiceClusterObject>[];
  readonly rejected: readonly Rejected[];
  /** Middleware objects Routes and ServiceClusters reference by name (absent: none). */
  readonly middlewares?: readonly Stored<MiddlewareObject>[];
  /** TCPRoutes and UDPRoutes on the clusters' listeners (absent: none). */
  readonly streamRoutes?: readonly Stored<StreamRouteObject>[];
  /** Issuer objects Routes name in tls.certificate.issuer (absent: none). */
  readonly issuers?: readonly Stored<IssuerObject>[];
  /** Routes from service labels: admitted after every Route spec, so a Route spec always wins a conflict. */
  readonly labelRoutes?: readonly LabelRoute[];
  readonly labelRejects?: readonly LabelReject[];
}

export function byAge<O extends { metadata: { name: string } }>(a: Stored<O>, b: Stored<O>): number {
  const ca = a.createdAt ?? '';
  const cb = b.createdAt ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  const na = a.object.metadata.name;
  const nb = b.object.metadata.name;
  return na < nb ? -1 : na > nb ? 1 : 0;
}
