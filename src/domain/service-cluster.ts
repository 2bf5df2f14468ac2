/**
 * ServiceCluster: one proxy pool (proxy service + extension service) and its defaults.
 * Decoded values are complete: every defaulted field is filled in, so consumers never guess.
 */
import type * as t from 'io-ts';
import {
  ConstraintExpr,
  Duration,
  durationMs,
  ImageRef,
  MemorySize,
  NodeLabelPath,
  Port,
  Size,
  SwarmName,
} from './brands';
import { bool, brandedString, fail, intRange, listOf, oneOf, struct, withDefault, type Codec } from './codec';
import * as tt from 'io-ts';
import { Listener, MAX_LISTENERS } from './listener';
import { Cidr } from './cidr';
import { MAX_CIDRS, MiddlewareRefs } from './middleware';

export const DEFAULT_CLUSTER_NAME = 'default';
export const DEFAULT_PROXY_IMAGE = 'swarmgate/proxy:latest';
/** rolling: a Swarm config + service update per change; hitless: the proxy's agent reloads in place. */
export const PROXY_DELIVERIES = ['rolling', 'hitless'] as const;
export type ProxyDelivery = (typeof PROXY_DELIVERIES)[number];
/** Where task addresses live: in the config (Static) or in an endpoint set the agent pushes (Dynamic). */
export const PROXY_ENDPOINTS = ['Static', 'Dynamic'] as const;
export type ProxyEndpoints = (typeof PROXY_ENDPOINTS)[number];

/**
 * The endpoints a cluster's proxies use (ADR 0039): with hitless delivery what `proxy.endpoints` says,
 * and when it is absent Dynamic on NGINX, Static on HAProxy; with rolling delivery Static (no agent to
 * push an endpoint set; an explicit Dynamic is refused with UnsupportedValue elsewhere). When agents
 * cannot reach the core (`agents` false) hitless delivery falls back to rolling, so every cluster is
 * Static then: an endpoint set nobody pushes would leave every backend answering 503.
 *
 * HAProxy stays Static unless asked (ADR 0039, "HAProxy"): its dynamic layout reserves a file
 * descriptor per server slot (8 per backend) when it starts, and HAProxy refuses to start when the
 * total exceeds the container's limit — about 300 bench-mix routes on a daemon whose containers get
 * 20,000, which Swarm services of Docker 20.10 cannot raise. A default must never turn an accepted
 * cluster into a proxy that does not start.
 */
export function effectiveEndpoints(proxy: { readonly kind: 'nginx' | 'haproxy'; readonly delivery: ProxyDelivery; readonly endpoints?: ProxyEndpoints }, agents = true): ProxyEndpoints {
  if (!agents || proxy.delivery !== 'hitless') return 'Static';
  return proxy.endpoints ?? (proxy.kind === 'haproxy' ? 'Static' : 'Dynamic');
}

const PlacementPreference = struct('placement preference', { spread: NodeLabelPath });

/** CPUs as Docker takes them: a positive decimal such as 0.5 or 2. */
const Cpus: Codec<number> = new tt.Type<number, unknown, unknown>(
  'CPU count 0.01..1024',
  (u): u is number => typeof u === 'number' && u >= 0.01 && u <= 1024,
  (u, c) => (typeof u === 'number' && u >= 0.01 && u <= 1024 ? tt.success(u) : fail(u, c, `expected CPU count 0.01..1024, got ${JSON.stringify(u) ?? 'nothing'}`)),
  (a) => a,
);

const ResourceSet = struct('resource set', {}, { cpus: Cpus, memory: MemorySize });

const Publish = struct('publish', {
  mode: withDefault(oneOf(['ingress', 'host'] as const), 'ingress'),
  http: withDefault(Port, 80 as Port),
  https: withDefault(Port, 443 as Port),
});

const Update = struct(
  'update',
  { delay: withDefault(Duration, '0s' as Duration), parallelism: withDefault(intRange(1, 100), 1) },
  // Absent order means: start-first, or stop-first when published in host mode (start-first deadlocks there).
  { order: oneOf(['start-first', 'stop-first'] as const) },
);

/**
 * Where the proxies learn the real client address when a load balancer stands in front of them
 * (address checks, limits and logs then see the client, not the balancer; moby#25526):
 * - ProxyProtocol: every connection to the published HTTP and HTTPS ports starts with a PROXY
 *   protocol header (v1 or v2); the address in it is believed when the connection comes from
 *   `trustedProxies`.
 * - XForwardedFor: on plain HTTP, the last address of X-Forwarded-For (the one the balancer
 *   appended) is believed when the request comes from `trustedProxies`.
 */
export const CLIENT_ADDRESS_SOURCES = ['ProxyProtocol', 'XForwardedFor'] as const;
export const ClientAddress = struct('clientAddress', {
  from: oneOf(CLIENT_ADDRESS_SOURCES),
  trustedProxies: listOf(Cidr, { min: 1, max: MAX_CIDRS }),
});
export type ClientAddress = t.TypeOf<typeof ClientAddress>;

export const ProxySpec = struct(
  'proxy',
  {
    kind: withDefault(oneOf(['nginx', 'haproxy'] as const), 'nginx'),
    delivery: withDefault(oneOf(PROXY_DELIVERIES), 'hitless'),
    image: withDefault(ImageRef, DEFAULT_PROXY_IMAGE as ImageRef),
    replicas: withDefault(intRange(0, 100), 2),
    constraints: withDefault(listOf(ConstraintExpr, { max: 32 }), []),
    placementPreferences: withDefault(listOf(PlacementPreference, { max: 8 }), []),
    publish: withDefault(Publish, { mode: 'ingress', http: 80 as Port, https: 443 as Port }),
    update: withDefault(Update, { delay: '0s' as Duration, parallelism: 1 }),
    stopGracePeriod: withDefault(Duration, '10s' as Duration),
  },
  {
    /**
     * Dynamic: task membership reaches NGINX's Lua balancer (ADR 0016) or HAProxy's server slots (ADR 0031)
     * without a reload (hitless delivery; with rolling the cluster's Accepted is False UnsupportedValue and
     * it serves Static). Static: an upstream block (NGINX) or a server per task (HAProxy).
     * No decoded default (ADR 0039): absent means Dynamic where it can apply and Static where it cannot
     * (effectiveEndpoints), so a default nobody wrote is neither stored nor refused.
     */
    endpoints: oneOf(PROXY_ENDPOINTS),
    resources: struct('resources', {}, { limits: ResourceSet, reservations: ResourceSet }),
    /**
     * HTTP/2 without TLS (prior knowledge) on the http port, for gRPC clients without TLS. NGINX 1.22
     * then speaks only HTTP/2 on that port (HTTP/1.1 clients are refused); HAProxy detects the
     * HTTP/2 preface on its own and keeps HTTP/1.1 either way. Absent: false. TLS listeners always
     * offer h2 by ALPN (docs/adr/0014-http2-grpc-and-upstream-tls.md).
     */
    h2c: bool,
    clientAddress: ClientAddress,
  },
);

export const ExtensionSpec = struct('extension', {
  replicas: withDefault(intRange(0, 10), 1),
  constraints: withDefault(listOf(ConstraintExpr, { max: 32 }), []),
  placementPreferences: withDefault(listOf(PlacementPreference, { max: 8 }), []),
});

/** `on`/`off` (YAML 1.2 reads them as strings) or a boolean. */
const OnOff: Codec<boolean> = new tt.Type<boolean, unknown, unknown>(
  'on | off',
  (u): u is boolean => typeof u === 'boolean',
  (u, c) => {
    if (typeof u === 'boolean') return tt.success(u);
    if (u === 'on') return tt.success(true);
    if (u === 'off') return tt.success(false);
    return fail(u, c, `expected on, off, true or false, got ${JSON.stringify(u) ?? 'nothing'}`);
  },
  (a) => a,
);

const WorkerProcesses = brandedString<unknown>('"auto" or integer 1..64', (s) =>
  s === 'auto' || (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 64) ? undefined : 'use "auto" or 1..64',
);
const WorkerProcessesField: Codec<string> = new tt.Type<string, unknown, unknown>(
  WorkerProcesses.name,
  (u): u is string => WorkerProcesses.is(u),
  (u, c) => WorkerProcesses.validate(typeof u === 'number' ? String(u) : u, c),
  (a) => a,
);

export const Timeouts = struct('timeouts', {}, { connect: Duration, read: Duration, send: Duration });

/**
 * A zero proxy timeout means opposite things: NGINX times out at once (every request of the rule, or
 * with defaults of the whole cluster, answers 504), HAProxy waits forever. Neither is what a user
 * means, so a timeout of 0 is refused (a cross-field check: the Duration format itself allows 0).
 */
export function zeroTimeoutIssues(t: { readonly connect?: string; readonly read?: string; readonly send?: string } | undefined, at: readonly (string | number)[]): { path: (string | number)[]; message: string }[] {
  if (t === undefined) return [];
  return (['connect', 'read', 'send'] as const).flatMap((k) => {
    const v = t[k];
    return v !== undefined && durationMs(v) === 0 ? [{ path: [...at, k], message: 'a timeout must be longer than 0 (NGINX would give up at once, HAProxy never)' }] : [];
  });
}

export const ClusterDefaults = struct('defaults', {
  timeouts: withDefault(
    struct('timeouts', {
      connect: withDefault(Duration, '5s' as Duration),
      read: withDefault(Duration, '60s' as Duration),
      send: withDefault(Duration, '60s' as Duration),
    }),
    { connect: '5s' as Duration, read: '60s' as Duration, send: '60s' as Duration },
  ),
  clientMaxBodySize: withDefault(Size, '1m' as Size),
  workerProcesses: withDefault(WorkerProcessesField, 'auto'),
  accessLog: withDefault(OnOff, true),
},
  // Middlewares applied to every HTTP route of the cluster, before the route's own.
  { middlewares: MiddlewareRefs },
);

const decodeDefault = <A>(codec: Codec<A>): A => {
  const r = codec.decode({});
  if (r._tag === 'Left') throw new Error(`default of ${codec.name} does not decode`);
  return r.right;
};

export const ServiceClusterSpec = struct('ServiceCluster spec', {
  proxy: withDefault(ProxySpec, decodeDefault(ProxySpec)),
  extension: withDefault(ExtensionSpec, decodeDefault(ExtensionSpec)),
  networks: withDefault(listOf(SwarmName, { max: 64 }), []),
  defaults: withDefault(ClusterDefaults, decodeDefault(ClusterDefaults)),
  // Extra TCP/UDP/TLS ports for TCPRoutes and UDPRoutes (listeners.ts).
  listeners: withDefault(listOf(Listener, { max: MAX_LISTENERS }), []),
});

export type ServiceClusterSpec = t.TypeOf<typeof ServiceClusterSpec>;
export type ProxySpec = t.TypeOf<typeof ProxySpec>;

/** The spec of the implicit `default` cluster: all defaults. */
export const DEFAULT_CLUSTER_SPEC: ServiceClusterSpec = decodeDefault(ServiceClusterSpec);

