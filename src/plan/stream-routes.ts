/**
 * TCPRoutes and UDPRoutes → the listeners of each cluster's model, with conditions. Pure, like
 * buildModel: a route that cannot be served is left out with a reason; the others are still served.
 * Oldest first: on a TCP or UDP listener the oldest route holds it; on a TLS listener each SNI name
 * belongs to the oldest route naming it.
 */
import type { HostPattern, SwarmName } from '../domain/brands';
import { condition, type Condition } from '../domain/conditions';
import type { Listener } from '../domain/listener';
import type { StreamRouteObject } from '../domain/object';
import type { ServiceClusterSpec } from '../domain/service-cluster';
import { currentCertificate } from './certificates';
import type { Certificates } from './compile-route';
import { byAge, type Stored } from './inputs';
import { programmedStreamName, type ModelListener, type ModelStreamRoute, type ProgrammedRoute, type ProxyModel, type Upstream, type WeightedTarget } from './model';
import { lowerCase, NameTable } from './names';
import { resolveBackend, type RefProblem, type SnapshotIndex } from './resolve-backends';
import type { LeftOutListener } from './listener-ports';

/** What stream routes add to one cluster's model. */
interface ClusterStreams {
  readonly spec: ServiceClusterSpec;
  readonly leftOut: ReadonlyMap<string, string>;
  readonly routes: Map<string, ModelStreamRoute[]>;
  readonly upstreams: Map<string, Upstream>;
  readonly names: NameTable;
  readonly programmed: ProgrammedRoute[];
  /** Per TLS listener: SNI name → route holding it. */
  readonly sni: Map<string, Map<string, string>>;
}

export interface StreamPlacement {
  readonly conditions: Record<string, Condition[]>;
  /** The cluster's model with its listeners, stream upstreams, secrets and networks added. */
  readonly extend: (model: ProxyModel) => ProxyModel;
}

function certificateOf(route: StreamRouteObject, certs: Certificates, idx: SnapshotIndex): { tls?: { certSecret: SwarmName; keySecret: SwarmName }; problem?: RefProblem } {
  if (route.kind !== 'TCPRoute' || route.spec.tls === undefined) return {};
  const cert = route.spec.tls.certificate;
  if (cert.name !== undefined) {
    const current = currentCertificate(certs, cert.name);
    return current !== undefined
      ? { tls: { certSecret: current.certSecret, keySecret: current.keySecret } }
      : { problem: { reason: 'CertificateNotFound', message: `certificate "${cert.name}" not found (store it with swarmgate tls apply ${cert.name} --cert FILE --key FILE); the route is not programmed until it exists` } };
  }
  const missing = [cert.certSecret, cert.keySecret].filter((s): s is SwarmName => s !== undefined && !idx.secrets.has(s));
  if (missing.length > 0) return { problem: { reason: 'SecretNotFound', message: missing.map((s) => `secret "${s}" not found`).join('; ') + '; the route is not programmed until it exists' } };
  return cert.certSecret !== undefined && cert.keySecret !== undefined ? { tls: { certSecret: cert.certSecret, keySecret: cert.keySecret } } : {};
}

/** Why `route` cannot use `listener` (kind, protocol, SNI), or undefined. */
function protocolProblem(route: StreamRouteObject, listener: Listener): string | undefined {
  if (route.kind === 'UDPRoute') return listener.protocol === 'UDP' ? undefined : `listener "${listener.name}" is ${listener.protocol}; a UDPRoute needs a UDP listener`;
  if (listener.protocol === 'UDP') return `listener "${listener.name}" is UDP; a TCPRoute needs a TCP or TLS listener`;
  if (listener.protocol === 'TLS' && route.spec.hostnames === undefined) return `listener "${listener.name}" is TLS (routed by SNI): spec.hostnames is required`;
  if (listener.protocol === 'TCP' && route.spec.hostnames !== undefined) return `listener "${listener.name}" is TCP: spec.hostnames (SNI) needs a TLS listener`;
  return undefined;
}

export function placeStreamRoutes(
  routes: readonly Stored<StreamRouteObject>[],
  clusters: ReadonlyMap<string, ServiceClusterSpec>,
  leftOut: ReadonlyMap<string, readonly LeftOutListener[]>,
  idx: SnapshotIndex,
  certs: Certificates,
): StreamPlacement {
  const conditions: Record<string, Condition[]> = {};
  const state = new Map<string, ClusterStreams>();
  for (const [name, spec] of clusters)
    state.set(name, {
      spec,
      leftOut: new Map((leftOut.get(name) ?? []).map((l) => [l.listener.name, l.message])),
      routes: new Map(),
      upstreams: new Map(),
      names: new NameTable(lowerCase),
      programmed: [],
      sni: new Map(),
    });
  const place = (stored: Stored<StreamRouteObject>): Condition[] => {
    const route = stored.object;
    const name = route.metadata.name;
    const c = state.get(route.spec.serviceCluster);
    if (c === undefined) return [condition('Accepted', 'False', 'ServiceClusterNotFound', `service cluster "${route.spec.serviceCluster}" does not exist`)];
    const listener = c.spec.listeners.find((l) => l.name === route.spec.listener);
    if (listener === undefined)
      return [condition('Accepted', 'False', 'ListenerNotFound', `service cluster "${route.spec.serviceCluster}" has no listener "${route.spec.listener}" (spec.listeners: ${c.spec.listeners.map((l) => l.name).join(', ') || 'none'})`)];
    const gone = c.leftOut.get(listener.name);
    if (gone !== undefined) return [condition('Accepted', 'False', 'PortConflict', gone)];
    const mismatch = protocolProblem(route, listener);
    if (mismatch !== undefined) return [condition('Accepted', 'False', 'ProtocolMismatch', mismatch)];
    if (route.kind === 'UDPRoute' && c.spec.proxy.kind === 'haproxy')
      return [condition('Accepted', 'False', 'UnsupportedValue', `not supported by the haproxy proxy of service cluster "${route.spec.serviceCluster}": HAProxy 2.6 has no UDP proxying; use proxy.kind nginx for UDPRoutes`)];
    if (route.kind === 'UDPRoute' && route.spec.backends.some((b) => b.mode === 'host'))
      return [condition('Accepted', 'False', 'UnsupportedValue', 'backends[].mode host is not supported for UDPRoutes yet (host-mode published ports are looked up as TCP); use task or vip')];
    const taken = c.routes.get(listener.name) ?? [];
    const sni = c.sni.get(listener.name) ?? new Map<string, string>();
    if (listener.protocol !== 'TLS' && taken[0] !== undefined)
      return [condition('Accepted', 'False', 'ListenerConflict', `listener "${listener.name}" is already routed by ${taken[0].kind} "${taken[0].name}" (a ${listener.protocol} listener carries one route)`)];
    // One TLS listener is one NGINX stream server: PROXY protocol to the backends is set for all its routes.
    const wantsProxy = route.kind === 'TCPRoute' && route.spec.proxyProtocol;
    if (listener.protocol === 'TLS' && taken[0] !== undefined && taken[0].proxyProtocol !== wantsProxy)
      return [condition('Accepted', 'False', 'ListenerConflict', `listener "${listener.name}" sends ${taken[0].proxyProtocol ? 'a' : 'no'} PROXY protocol header (set by TCPRoute "${taken[0].name}"); every route of a TLS listener must set the same proxyProtocol`)];
    // A TLS listener either terminates (every route has tls: one certificate per SNI name) or passes
    // through (no route has): NGINX cannot both read the ClientHello and terminate on one server.
    const terminates = route.kind === 'TCPRoute' && route.spec.tls !== undefined;
    if (listener.protocol === 'TLS' && taken[0] !== undefined && (taken[0].tls !== undefined) !== terminates)
      return [
        condition(
          'Accepted',
          'False',
          'ListenerConflict',
          `listener "${listener.name}" ${taken[0].tls !== undefined ? 'terminates TLS' : 'passes TLS through'} (set by TCPRoute "${taken[0].name}"); every route of a TLS listener must ${taken[0].tls !== undefined ? 'have' : 'leave out'} spec.tls — use another listener for the other kind`,
        ),
      ];
    const hosts: readonly HostPattern[] = route.kind === 'TCPRoute' ? (route.spec.hostnames ?? []) : [];
    for (const h of hosts) {
      const owner = sni.get(h);
      if (owner !== undefined) return [condition('Accepted', 'False', 'ListenerConflict', `hostname "${h}" on listener "${listener.name}" is already routed by TCPRoute "${owner}"`)];
    }
    const problems: RefProblem[] = [];
    const targets: WeightedTarget[] = [];
    const upstreams: Upstream[] = [];
    for (const b of route.spec.backends) {
      const r = resolveBackend(b, { kind: 'none' }, c.spec.networks, idx, c.names);
      if (!r.ok) {
        problems.push(r.problem);
        continue;
      }
      upstreams.push(r.upstream);
      if (b.weight > 0 && r.upstream.servers.length > 0) targets.push({ upstream: r.upstream.name, weight: b.weight });
    }
    const cert = certificateOf(route, certs, idx);
    if (cert.problem !== undefined) problems.unshift(cert.problem);
    const first = problems[0];
    const resolved =
      first === undefined
        ? condition('ResolvedRefs', 'True', 'ResolvedRefs', 'all references resolved')
        : condition('ResolvedRefs', 'False', first.reason, [...new Set(problems.map((p) => p.message))].join('; '));
    // Without its certificate the listener cannot terminate TLS: left out, as a Route is.
    if (cert.problem === undefined) {
      for (const u of upstreams) c.upstreams.set(u.name, u);
      const model: ModelStreamRoute = {
        kind: route.kind,
        name,
        targets,
        ...(hosts.length > 0 ? { hostnames: [...hosts].sort() } : {}),
        ...(cert.tls !== undefined ? { tls: cert.tls } : {}),
        idleTimeout: route.spec.idleTimeout,
        ...(route.kind === 'TCPRoute' ? { connectTimeout: route.spec.connectTimeout } : {}),
        proxyProtocol: route.kind === 'TCPRoute' ? route.spec.proxyProtocol : false,
      };
      c.routes.set(listener.name, [...taken, model]);
      for (const h of hosts) sni.set(h, name);
      c.sni.set(listener.name, sni);
      c.programmed.push({ name: programmedStreamName(route.kind, name), generation: stored.generation });
    }
    return [condition('Accepted', 'True', 'Accepted', `accepted by listener "${listener.name}" of service cluster "${route.spec.serviceCluster}"`), resolved];
  };
  for (const stored of [...routes].sort(byAge)) {
    const key = `${stored.object.kind}/${stored.object.metadata.name}`;
    conditions[key] = place(stored).map((cond) => ({ ...cond, observedGeneration: stored.generation }));
  }
  const extend = (model: ProxyModel): ProxyModel => {
    const c = state.get(model.cluster);
    if (c === undefined || c.spec.listeners.length === 0) return model;
    const listeners: ModelListener[] = c.spec.listeners
      .filter((l) => !c.leftOut.has(l.name))
      .map((l) => ({ name: l.name, port: l.port, protocol: l.protocol, routes: [...(c.routes.get(l.name) ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1)) }))
      .sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : 1));
    const streamUpstreams = [...c.upstreams.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    const secrets = new Set(model.secrets);
    // Per-SNI termination on a TLS listener: NGINX's workers load the certificate at each handshake.
    const workerSecrets = new Set(model.workerSecrets ?? []);
    for (const l of listeners)
      for (const r of l.routes)
        if (r.tls !== undefined) {
          secrets.add(r.tls.certSecret);
          secrets.add(r.tls.keySecret);
          if (l.protocol === 'TLS') {
            workerSecrets.add(r.tls.certSecret);
            workerSecrets.add(r.tls.keySecret);
          }
        }
    const networks = new Set(model.networks);
    for (const u of streamUpstreams) if (u.network !== undefined) networks.add(u.network);
    return {
      ...model,
      secrets: [...secrets].sort(),
      ...(workerSecrets.size > 0 ? { workerSecrets: [...workerSecrets].sort() } : {}),
      networks: [...networks].sort(),
      routes: [...model.routes, ...c.programmed].sort((a, b) => (a.name < b.name ? -1 : 1)),
      listeners,
      ...(streamUpstreams.length > 0 ? { streamUpstreams } : {}),
    };
  };
  return { conditions, extend };
}
