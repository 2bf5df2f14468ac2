/**
 * ProxyModel: everything a renderer needs for one ServiceCluster, already decided and sorted.
 * It is plain data (JSON-serialisable) because the core streams it to the extension over gRPC.
 * Renderers for NGINX and HAProxy read the same model.
 */
import type { Cidr } from '../domain/cidr';
import type { Condition } from '../domain/conditions';
import type { CorsOrigin, MimeType, Realm } from '../domain/middleware';
import type {
  CookieName,
  CookieValue,
  DnsLabel,
  Duration,
  HeaderName,
  HeaderValue,
  HostPattern,
  Hostname,
  HttpPath,
  Port,
  RedirectUrl,
  SwarmName,
} from '../domain/brands';
import type { BackendMode, BackendProtocol, ClientCertificateMode, HttpMethod, RetryCondition } from '../domain/route';
import type { ServiceClusterSpec } from '../domain/service-cluster';
import type { ListenerProtocol } from '../domain/listener';
import type { IpAddress } from '../domain/snapshot';

export type Affinity =
  | { readonly kind: 'none' }
  /** `issuedBy: 'Application'`: the application sets the cookie, the proxy only hashes on it (absent: the proxy sets it). */
  | { readonly kind: 'cookie'; readonly name: CookieName; readonly ttl: Duration; readonly issuedBy?: 'Application' }
  | { readonly kind: 'clientIP' };

export interface UpstreamServer {
  readonly ip: IpAddress;
  readonly port: Port;
  /** Passive health check; absent: 1 failure takes the server out for 1s (DEFAULT_MAX_FAILS / DEFAULT_FAIL_TIMEOUT). */
  readonly maxFails?: number;
  readonly failTimeout?: Duration;
}

export interface Upstream {
  /** Safe identifier (letters, digits, "_"), unique within the cluster. */
  readonly name: string;
  readonly service: SwarmName;
  readonly port: Port;
  readonly mode: BackendMode;
  /** The overlay network the proxy reaches the servers on; absent for `mode: host` (node addresses). */
  readonly network?: SwarmName;
  readonly affinity: Affinity;
  readonly servers: readonly UpstreamServer[];
  /**
   * A pooled upstream (a rule with `split: Tasks`, or Interlock services sharing a host): the services
   * whose running tasks are all in `servers`, so each one's share follows its task count. `service`,
   * `port`, `mode` and `network` are then those of the first member; every server carries its own port.
   */
  readonly members?: readonly SwarmName[];
}

/** Docker secret names and the name to verify: see BackendTls in src/domain/route.ts. */
export interface UpstreamTls {
  readonly caSecret?: SwarmName;
  readonly serverName?: Hostname;
  readonly certSecret?: SwarmName;
  readonly keySecret?: SwarmName;
}

export interface WeightedTarget {
  readonly upstream: string;
  readonly weight: number;
}

export interface Rewrite {
  /** Replace the matched path (prefix, or the whole path for an exact match) with this. */
  readonly replacePrefix: HttpPath;
}

export interface HeaderPair {
  readonly name: HeaderName;
  readonly value: HeaderValue;
}

export interface CookiePair {
  readonly name: CookieName;
  readonly value: CookieValue;
}

export interface HeaderEdits {
  readonly set: readonly HeaderPair[];
  readonly add: readonly HeaderPair[];
  readonly remove: readonly HeaderName[];
}

export interface ProxyAction {
  readonly kind: 'proxy';
  /** What the proxy speaks to every target of the rule; absent: http (HTTP/1.1). */
  readonly protocol?: Exclude<BackendProtocol, 'http'>;
  /** TLS to the targets (protocol https/grpcs), shared by every backend of the rule; absent: not verified, no SNI. */
  readonly upstreamTls?: UpstreamTls;
  /** Only targets with weight > 0 and at least one server; empty means answer 503. */
  readonly targets: readonly WeightedTarget[];
  /**
   * Every resolved backend of a rule with two or more, in spec order, weight 0 and task-less ones
   * included; absent for `split: Tasks`. NGINX with dynamic endpoints splits over these at request
   * time (ADR 0049), so a weight step or a backend losing its last task changes no config.
   */
  readonly declared?: readonly WeightedTarget[];
  readonly affinity: Affinity;
  readonly rewrite?: Rewrite;
  readonly timeouts: { readonly connect: Duration; readonly read: Duration; readonly send: Duration };
  readonly retries: { readonly attempts: number; readonly on: readonly RetryCondition[] };
  readonly websocket: boolean;
  readonly requestHeaders: HeaderEdits;
  readonly responseHeaders: HeaderEdits;
}

export interface RedirectAction {
  readonly kind: 'redirect';
  readonly code: number;
  readonly to?: RedirectUrl;
  readonly scheme?: 'http' | 'https';
  readonly host?: Hostname;
  readonly port?: Port;
  readonly path?: HttpPath;
  readonly responseHeaders: HeaderEdits;
}

export interface PathMatch {
  readonly kind: 'prefix' | 'exact';
  /** Normalised: no trailing "/" except the root prefix. */
  readonly path: HttpPath;
}

/**
 * The edge policies of one rule, merged from its Middlewares (src/plan/middlewares.ts) in the order
 * they apply: the cluster's defaults, the route's, the rule's. Checks accumulate (every one must pass).
 */
export interface RulePolicies {
  /** Middleware names in the order they apply. */
  readonly middlewares: readonly string[];
  /** The client address must be in each of these lists (one per Middleware with ipAllow); canonical forms (canonicalCidr), sorted. */
  readonly ipAllow: readonly (readonly Cidr[])[];
  /** The client address must be in none of these lists. */
  readonly ipDeny: readonly (readonly Cidr[])[];
  /** A login against the htpasswd users of a Docker secret (several middlewares: the last one's). */
  readonly basicAuth?: { readonly secret: SwarmName; readonly realm: Realm; readonly userHeader?: HeaderName };
  /** Ask an auth service before proxying (several middlewares: the last one's). */
  readonly forwardAuth?: ModelForwardAuth;
  /** Each limit applies (several middlewares: all of them); already divided per replica for scope Cluster. */
  readonly rateLimits: readonly ModelRateLimit[];
  readonly connectionLimits: readonly ModelConnectionLimit[];
  /** Cross-origin requests (several middlewares: the last one's). */
  readonly cors?: ModelCors;
  /** Answer 503 with this (the last enabled maintenance of the middlewares); absent: serve. */
  readonly maintenance?: { readonly retryAfterSeconds: number; readonly message: HeaderValue };
  /** Largest request body in bytes (0: none) and buffering; each absent: the cluster's / proxy's default (last middleware wins). */
  readonly requestBody?: { readonly maxBytes?: number; readonly buffering?: boolean };
  /** gzip these media types (last middleware wins). */
  readonly compression?: { readonly types: readonly MimeType[] };
  /** Custom error pages (last middleware wins); a maintenance answer uses the 503 page when there is one. */
  readonly errorPages?: ModelErrorPages;
}

/** One page per status, sorted by status; the page is a Swarm config the proxy tasks mount (ProxyModel.pageConfigs). */
export interface ModelErrorPages {
  readonly pages: readonly { readonly status: number; readonly config: SwarmName; readonly contentType: MimeType }[];
  /** Also replace the backends' answers with these statuses. */
  readonly upstream: boolean;
}

/** A forwardAuth with its auth service resolved to an upstream of the cluster (src/plan/middlewares.ts). */
export interface ModelForwardAuth {
  /** The upstream (in ProxyModel.upstreams) holding the auth service's tasks; absent with `url`. */
  readonly upstream?: string;
  readonly service?: SwarmName;
  readonly port?: Port;
  /** The auth service by URL (forwardAuth.url): its origin `http://host[:port]` and host, resolved by the proxy when it asks. */
  readonly url?: { readonly origin: string; readonly host: string };
  /** The path asked (the url's own path when it has one). */
  readonly path: HttpPath;
  /** Copied from the auth service's answer into the upstream request, in the declared order. */
  readonly responseHeaders: readonly HeaderName[];
  readonly timeout: Duration;
}

export interface ModelCors {
  /** `*` alone, or origins `scheme://host[:port]` and `scheme://*.domain[:port]`. */
  readonly allowOrigins: readonly CorsOrigin[];
  readonly allowMethods: readonly HttpMethod[];
  readonly allowHeaders: readonly HeaderName[];
  readonly exposeHeaders: readonly HeaderName[];
  readonly allowCredentials: boolean;
  readonly maxAgeSeconds: number;
}

/** Requests per replica: `rate` per `per` (a second or a minute), `burst` more at once. */
export interface ModelRateLimit {
  readonly rate: number;
  readonly per: 's' | 'm';
  readonly burst: number;
  /** Counted per value of this header; absent: per client address. */
  readonly header?: HeaderName;
  /** Seconds a refused client should wait (Retry-After): the time one request's share takes, at least 1. */
  readonly retryAfter: number;
}

export interface ModelConnectionLimit {
  /** Per replica. */
  readonly max: number;
}

export interface ModelRule {
  /** Stable id "<route>-r<index>", unique in the cluster. */
  readonly id: string;
  readonly route: string;
  readonly match: PathMatch;
  readonly headers: readonly HeaderPair[];
  /** Cookies that must have exactly these values (names are case-sensitive, unlike headers). */
  readonly cookies: readonly CookiePair[];
  readonly methods: readonly HttpMethod[];
  readonly action: ProxyAction | RedirectAction;
  /** Absent: no middleware applies to the rule. */
  readonly policies?: RulePolicies;
}

/** All rules that share one path match on one host; the first whose conditions hold wins. */
export interface PathGroup {
  readonly match: PathMatch;
  /** Rules with header/method conditions in precedence order: this path's first (most conditions first), then those of shorter covering prefixes. */
  readonly conditional: readonly ModelRule[];
  /** The rule used when no conditional rule matches: this path's own, or the nearest shorter prefix's; none ⇒ 404. */
  readonly fallback?: ModelRule;
}

export interface TlsTerminate {
  /** Docker secret names; with `acme`, file names in the agent's ACME directory instead (acme-routes.ts). */
  readonly certSecret: SwarmName;
  readonly keySecret: SwarmName;
  readonly redirectHTTP: boolean;
  /** An ACME certificate the core delivers to the agents (not a mounted secret). */
  readonly acme?: true;
  /**
   * Client certificates (Route tls.clientCertificate), flat so that every field compares by value
   * (cluster-builder's one-TLS-setting-per-host check): absent mode ⇒ no client certificate asked.
   */
  readonly clientCertMode?: ClientCertificateMode;
  /** Docker secret with the PEM CA bundle client certificates must chain to (with clientCertMode). */
  readonly clientCaSecret?: SwarmName;
  /** Docker secret with a PEM CRL (optional). */
  readonly clientCrlSecret?: SwarmName;
}

export interface VirtualHost {
  readonly host: HostPattern;
  readonly routes: readonly string[];
  readonly tls?: TlsTerminate;
  /** Sorted: exact matches, then prefixes longest first. */
  readonly paths: readonly PathGroup[];
}

export interface PassthroughHost {
  readonly host: HostPattern;
  readonly route: string;
  readonly targets: readonly WeightedTarget[];
  readonly affinity: Affinity;
}

export interface ProgrammedRoute {
  readonly name: string;
  readonly generation: number;
}

export interface ProxyModel {
  readonly cluster: string;
  readonly spec: ServiceClusterSpec;
  readonly virtualHosts: readonly VirtualHost[];
  readonly passthrough: readonly PassthroughHost[];
  readonly defaultServer?: VirtualHost;
  readonly upstreams: readonly Upstream[];
  /** Docker secrets the proxy must mount at /run/secrets/<name>. */
  readonly secrets: readonly SwarmName[];
  /**
   * Those of `secrets` that NGINX's worker processes read while serving (htpasswd files of basicAuth),
   * so they must be readable by the worker user, not root only like certificates the master reads.
   * Absent: none.
   */
  readonly workerSecrets?: readonly SwarmName[];
  /** Swarm configs holding error pages, mounted at PAGES_DIR/<name> (src/plan/error-pages.ts); absent: none. */
  readonly pageConfigs?: readonly SwarmName[];
  /** Overlay networks the proxy must join to reach its upstreams. */
  readonly networks: readonly SwarmName[];
  readonly routes: readonly ProgrammedRoute[];
  /** Extra listeners published and served (those left out for a port conflict are not here); absent: none. */
  readonly listeners?: readonly ModelListener[];
  /**
   * Upstreams of TCPRoutes and UDPRoutes, named by their own NameTable (renderers prefix them, so they
   * never meet the HTTP/passthrough upstream names); absent: none.
   */
  readonly streamUpstreams?: readonly Upstream[];
  /**
   * Present when a route of the cluster uses an ACME issuer: every HTTP server answers HTTP-01
   * tokens from the agent's directory; `files` are the certificate and key files the config names
   * there (the core delivers their content over gRPC, never in the model).
   */
  readonly acme?: { readonly files: readonly string[] };
}

/** One TCPRoute or UDPRoute as its listener serves it. */
export interface ModelStreamRoute {
  readonly kind: 'TCPRoute' | 'UDPRoute';
  readonly name: string;
  /** Weighted upstreams with at least one server; empty: nothing to send to (the listener refuses). */
  readonly targets: readonly WeightedTarget[];
  /** SNI names on a TLS listener. */
  readonly hostnames?: readonly HostPattern[];
  /** TLS terminated on a TCP listener with these secrets. */
  readonly tls?: { readonly certSecret: SwarmName; readonly keySecret: SwarmName };
  readonly idleTimeout: Duration;
  /** TCP only. */
  readonly connectTimeout?: Duration;
  readonly proxyProtocol: boolean;
}

export interface ModelListener {
  readonly name: DnsLabel;
  readonly port: Port;
  readonly protocol: ListenerProtocol;
  /** TCP and UDP listeners: at most one route; TLS listeners: one per SNI name set, sorted by name. */
  readonly routes: readonly ModelStreamRoute[];
}

/** The name a stream route is listed under in ProxyModel.routes ("tcproute.db"): no Route name has a dot. */
export function programmedStreamName(kind: 'TCPRoute' | 'UDPRoute', name: string): string {
  return `${kind.toLowerCase()}.${name}`;
}

/** What became of one route translated from com.docker.lb.* service labels (it has no stored config to carry a status). */
export interface LabelRouteStatus {
  /** The Swarm services whose labels define the route (several when they share hosts and are pooled). */
  readonly services: readonly string[];
  readonly conditions: readonly Condition[];
}

export interface ModelResult {
  readonly clusters: readonly ProxyModel[];
  /** By object key ("Route/shop"). */
  readonly conditions: Readonly<Record<string, readonly Condition[]>>;
  /**
   * Routes from com.docker.lb.* service labels (and services whose labels were rejected), by route name
   * ("svc-web"). Present only when the desired state holds any. Never written as a status label.
   */
  readonly labelRoutes?: Readonly<Record<string, LabelRouteStatus>>;
}
