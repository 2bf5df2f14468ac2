/**
 * The envelope every object shares (apiVersion, kind, metadata, spec) and the one entry point
 * that turns untrusted input into a typed object or a complete list of issues.
 */
import * as E from 'fp-ts/Either';
import * as tt from 'io-ts';
import { checkServiceCluster } from './cluster-checks';
import { decode, expected, oneOf, struct, type Codec } from './codec';
import { didYouMean } from './did-you-mean';
import type { Issue } from './issue';
import { API_VERSION, KINDS, ObjectMeta, type Kind } from './meta';
import { checkIssuer, IssuerSpec } from './issuer';
import { checkMiddleware, MiddlewareSpec } from './middleware';
import { RouteSpec } from './route';
import { checkRoute } from './route-checks';
import { ServiceClusterSpec } from './service-cluster';
import { TcpRouteSpec, UdpRouteSpec } from './stream-route';
import { checkTcpRoute, checkUdpRoute } from './stream-route-checks';

const literal = <L extends string>(value: L): Codec<L> =>
  new tt.Type<L, unknown, unknown>(
    value,
    (u): u is L => u === value,
    (u, c) => (u === value ? tt.success(value) : tt.failure(u, c, expected(value, u))),
    (a) => a,
  );

// `status` is written by swarmgate only; accepting it on input lets `get -o yaml` output be re-applied.
const STATUS_IGNORED = { status: new tt.Type<unknown, unknown, unknown>('status', (_): _ is unknown => true, (u) => tt.success(u), () => undefined) };

export const RouteObject = struct(
  'Route',
  { apiVersion: literal(API_VERSION), kind: literal('Route'), metadata: ObjectMeta, spec: RouteSpec },
  STATUS_IGNORED,
);
export const ServiceClusterObject = struct(
  'ServiceCluster',
  { apiVersion: literal(API_VERSION), kind: literal('ServiceCluster'), metadata: ObjectMeta, spec: ServiceClusterSpec },
  STATUS_IGNORED,
);

export const MiddlewareObject = struct(
  'Middleware',
  { apiVersion: literal(API_VERSION), kind: literal('Middleware'), metadata: ObjectMeta, spec: MiddlewareSpec },
  STATUS_IGNORED,
);

export const TcpRouteObject = struct(
  'TCPRoute',
  { apiVersion: literal(API_VERSION), kind: literal('TCPRoute'), metadata: ObjectMeta, spec: TcpRouteSpec },
  STATUS_IGNORED,
);
export const UdpRouteObject = struct(
  'UDPRoute',
  { apiVersion: literal(API_VERSION), kind: literal('UDPRoute'), metadata: ObjectMeta, spec: UdpRouteSpec },
  STATUS_IGNORED,
);
export const IssuerObject = struct(
  'Issuer',
  { apiVersion: literal(API_VERSION), kind: literal('Issuer'), metadata: ObjectMeta, spec: IssuerSpec },
  STATUS_IGNORED,
);

type Decoded<C> = C extends Codec<infer A> ? Omit<A, 'status'> : never;
export type RouteObject = Decoded<typeof RouteObject>;
export type ServiceClusterObject = Decoded<typeof ServiceClusterObject>;
export type MiddlewareObject = Decoded<typeof MiddlewareObject>;
export type TcpRouteObject = Decoded<typeof TcpRouteObject>;
export type UdpRouteObject = Decoded<typeof UdpRouteObject>;
/** The layer-4 routes: a listener of a cluster → backends. */
export type StreamRouteObject = TcpRouteObject | UdpRouteObject;
export type IssuerObject = Decoded<typeof IssuerObject>;
export type ApiObject = RouteObject | ServiceClusterObject | MiddlewareObject | StreamRouteObject | IssuerObject;

const KindCodec = oneOf(KINDS);
const ENVELOPE_KEYS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'] as const;
const ENVELOPE: Record<Kind, Codec<ApiObject>> = {
  Route: RouteObject as Codec<ApiObject>,
  ServiceCluster: ServiceClusterObject as Codec<ApiObject>,
  Middleware: MiddlewareObject as Codec<ApiObject>,
  TCPRoute: TcpRouteObject as Codec<ApiObject>,
  UDPRoute: UdpRouteObject as Codec<ApiObject>,
  Issuer: IssuerObject as Codec<ApiObject>,
};

function semanticIssues(obj: ApiObject): Issue[] {
  switch (obj.kind) {
    case 'Route':
      return checkRoute(obj.spec);
    case 'ServiceCluster':
      return checkServiceCluster(obj.spec);
    case 'Middleware':
      return checkMiddleware(obj.spec);
    case 'TCPRoute':
      return checkTcpRoute(obj.spec);
    case 'UDPRoute':
      return checkUdpRoute(obj.spec);
    case 'Issuer':
      return checkIssuer(obj.spec);
  }
}

function withoutStatus(obj: ApiObject & { status?: unknown }): ApiObject {
  // Dropping the field is the point (ignoreRestSiblings allows the unused binding).
  const { status: _status, ...rest } = obj;
  return rest as ApiObject;
}

/** Decode one document. Envelope errors stop early (the spec cannot be read without a known kind). */
export function decodeObject(u: unknown): E.Either<Issue[], ApiObject> {
  if (typeof u !== 'object' || u === null || Array.isArray(u))
    return E.left([{ path: [], message: expected('a mapping with apiVersion, kind, metadata and spec', u) }]);
  const rec = u as Record<string, unknown>;
  const envelopeIssues: Issue[] = [];
  if (rec['apiVersion'] !== API_VERSION)
    envelopeIssues.push({ path: ['apiVersion'], message: `${expected(API_VERSION, rec['apiVersion'])}` });
  const kind = decode(KindCodec, rec['kind'], ['kind']);
  if (E.isLeft(kind)) envelopeIssues.push(...kind.left);
  if (E.isLeft(kind) || envelopeIssues.length > 0) {
    // The spec cannot be read without a known kind; typos in the envelope ("Kind", "apiversion")
    // explain most of these, so name them instead of only saying "got nothing".
    for (const key of Object.keys(rec)) {
      if ((ENVELOPE_KEYS as readonly string[]).includes(key)) continue;
      const hint = didYouMean(key, ENVELOPE_KEYS);
      envelopeIssues.push({ path: [key], message: `unknown field${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}; allowed: ${ENVELOPE_KEYS.join(', ')}` });
    }
    return E.left(envelopeIssues);
  }
  const decoded = decode(ENVELOPE[kind.right], u);
  if (E.isLeft(decoded)) return decoded;
  const obj = withoutStatus(decoded.right);
  const semantic = semanticIssues(obj);
  return semantic.length > 0 ? E.left(semantic) : E.right(obj);
}

export function encodeObject(obj: ApiObject): unknown {
  return ENVELOPE[obj.kind].encode(obj);
}
