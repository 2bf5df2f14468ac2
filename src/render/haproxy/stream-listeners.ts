/**
 * HAProxy frontends for a cluster's extra listeners (TCPRoute only: HAProxy 2.6 has no UDP, so the
 * plan refuses UDPRoutes on HAProxy clusters and a UDP listener gets no frontend). One `mode tcp`
 * frontend per listener with somewhere to send to; per route, one backend per target carrying the
 * route's connect/idle timeouts and PROXY protocol. Names: frontends `sg_l4_<listener>` (no other
 * frontend starts so); backends `l4.<route kind letter>.<route>.<upstream>` — route names are DNS
 * labels (no "."), upstream names have no ".", and no other backend starts with `l4.`.
 */
import type { Affinity, ModelListener, ModelStreamRoute, ProxyModel, Upstream } from '../../plan/model';
import { durationMs } from '../../domain/brands';
import { token, type Token } from '../token';
import { AclRegistry, pickSource, sortedValues, weightedChoice } from './acl-registry';
import { haproxyDuration } from './escape';
import type { HaproxyRenderOptions } from './options';
import { pemPath } from './pem-files';
import type { BackendView, PickAclView, PickVariables, UseBackendView } from './view-types';

export interface L4FrontendView extends PickVariables {
  readonly name: Token;
  readonly bind: Token;
  /** TLS terminated on the bind: one certificate (TCP listener), or one per route (TLS listener, HAProxy picks it by SNI). */
  // Never left out: Mustache looks a missing key up in the enclosing views, and the root view has a
  // `tls` of its own (the HTTPS frontend), which rendered `bind :PORT ssl` with no certificate.
  readonly tls: { readonly crts: readonly string[] } | false;
  readonly idleTimeout: string;
  /** SNI read from the ClientHello without decrypting (passthrough): the inspect delay is needed. */
  readonly sni: boolean;
  /** Where the SNI ACLs look: `req.ssl_sni` (passthrough) or `ssl_fc_sni` (terminated). */
  readonly sniFetch: Token;
  readonly sniAcls: readonly { readonly name: Token; readonly match: Token; readonly host: string }[];
  readonly pickAcls: readonly PickAclView[];
  readonly useBackends: readonly UseBackendView[];
  readonly defaultBackend?: Token;
}

type TcpBackend = (name: Token, route: string, u: Upstream, affinity: Affinity) => BackendView;

function routeBackends(r: ModelStreamRoute, upstreams: ReadonlyMap<string, Upstream>, tcpBackend: TcpBackend): BackendView[] {
  return r.targets.map((t) => {
    const u = upstreams.get(t.upstream);
    if (u === undefined) throw new Error(`target ${t.upstream} is not a stream upstream of the model`);
    const base = tcpBackend(token(`l4.${r.kind === 'TCPRoute' ? 't' : 'u'}.${r.name}.${u.name}`), r.name, u, { kind: 'none' });
    return {
      ...base,
      timeouts: [
        ...(r.connectTimeout !== undefined ? [{ kind: token('connect'), value: haproxyDuration(r.connectTimeout) }] : []),
        { kind: token('server'), value: haproxyDuration(r.idleTimeout) },
      ],
      servers: base.servers.map((s) => ({ ...s, ...(r.proxyProtocol ? { sendProxy: true } : {}) })),
    };
  });
}

/** `-m str` for an exact name, `-m end` with the dot for a wildcard (as the SNI router's ACLs). */
function sniMatch(host: string): { match: Token; host: string } {
  return host.startsWith('*.') ? { match: token('end'), host: host.slice(1) } : { match: token('str'), host };
}

/** Exact names first, then wildcards longest first: NGINX's precedence in a `hostnames` map. */
function hostOrder(a: string, b: string): number {
  const wa = a.startsWith('*.');
  const wb = b.startsWith('*.');
  if (wa !== wb) return wa ? 1 : -1;
  if (wa && a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function frontend(l: ModelListener, opts: HaproxyRenderOptions, upstreams: ReadonlyMap<string, Upstream>, backends: BackendView[], tcpBackend: TcpBackend): L4FrontendView | undefined {
  const routes = l.routes.filter((r) => r.kind === 'TCPRoute' && r.targets.length > 0);
  const first = routes[0];
  if (first === undefined || l.protocol === 'UDP') return undefined;
  const acls = new AclRegistry();
  const sniAcls: L4FrontendView['sniAcls'][number][] = [];
  const useBackends: UseBackendView[] = [];
  // One frontend per listener: its client-side idle timeout is the longest of its routes' (as in NGINX).
  const idle = routes.map((r) => r.idleTimeout).reduce((a, b) => (durationMs(b) > durationMs(a) ? b : a));
  const choices = new Map(routes.map((r) => {
    const rb = routeBackends(r, upstreams, tcpBackend);
    backends.push(...rb);
    return [r.name, (prefix: Token[]) => weightedChoice(r.targets, rb.map((b) => b.name), pickSource({ kind: 'none' }, 'sess'), acls, prefix)] as const;
  }));
  if (l.protocol === 'TLS') {
    const entries = routes.flatMap((r) => (r.hostnames ?? []).map((host) => ({ host: host as string, route: r.name }))).sort((a, b) => hostOrder(a.host, b.host));
    entries.forEach((e, i) => {
      const acl = token(`sni_${i + 1}`);
      sniAcls.push({ name: acl, ...sniMatch(e.host) });
      useBackends.push(...(choices.get(e.route)?.([acl]) ?? []));
    });
  } else useBackends.push(...(choices.get(first.name)?.([]) ?? []));
  // Every route of a TLS listener terminates or none does (the plan allows no mix).
  const crts = [...new Set(routes.flatMap((r) => (r.tls !== undefined ? [pemPath(opts.certDir, r.tls)] : [])))].sort();
  const terminates = first.tls !== undefined;
  return {
    name: token(`sg_l4_${l.name}`),
    bind: token(`${opts.bindAddress}:${l.port}`),
    tls: crts.length > 0 ? { crts } : false,
    idleTimeout: haproxyDuration(idle),
    sni: l.protocol === 'TLS' && !terminates,
    sniFetch: token(terminates ? 'ssl_fc_sni' : 'req.ssl_sni'),
    ...acls.pickVariables(),
    sniAcls,
    pickAcls: sortedValues(acls.picks),
    // A choice without conditions (the last share on a TCP listener) is the default backend: "use_backend X if" alone is invalid.
    useBackends: useBackends.filter((u) => u.conditions.length > 0),
    ...(useBackends.find((u) => u.conditions.length === 0) !== undefined ? { defaultBackend: (useBackends.find((u) => u.conditions.length === 0) as UseBackendView).backend } : {}),
  };
}

export function l4Frontends(model: ProxyModel, opts: HaproxyRenderOptions, backends: BackendView[], tcpBackend: TcpBackend): L4FrontendView[] {
  const upstreams = new Map((model.streamUpstreams ?? []).map((u) => [u.name, u]));
  return (model.listeners ?? []).flatMap((l) => {
    const f = frontend(l, opts, upstreams, backends, tcpBackend);
    return f === undefined ? [] : [f];
  });
}
