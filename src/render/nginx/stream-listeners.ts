/**
 * The NGINX view of a cluster's extra listeners (TCPRoute/UDPRoute): one stream `server` per listener
 * that has somewhere to send to. Names: upstreams are the model's stream upstream names prefixed `l4_`
 * (model upstream names start with `u_`, so they never meet the passthrough upstreams in the same
 * stream block); SNI map variables are `$sg_l4_<listener>` with "-" → "_" (listener names are DNS labels
 * without "_", so the mapping is injective and no other generated variable starts with `$sg_l4_`), and
 * per-SNI certificate maps `$sg_l4crt_<listener>` / `$sg_l4key_<listener>` the same way.
 */
import { durationMs, type Duration } from '../../domain/brands';
import type { ModelListener, ModelStreamRoute, ProxyModel, WeightedTarget } from '../../plan/model';
import { token, type Token } from '../token';
import { nginxDuration } from './duration';
import type { MapRegistry } from './map-registry';
import type { UpstreamView } from './view-types';

export interface StreamListenerView {
  readonly listen: string;
  readonly tls?: { readonly cert: string; readonly key: string };
  /** SNI routing: by the ClientHello read without decrypting ($ssl_preread_server_name), or after termination ($ssl_server_name). */
  readonly sniMap?: { readonly source: Token; readonly variable: Token; readonly entries: readonly { readonly host: string; readonly target: Token }[] };
  readonly preread: boolean;
  /** TLS termination per SNI name: the certificate and key files chosen by maps of $ssl_server_name. */
  readonly certMaps?: readonly { readonly variable: Token; readonly entries: readonly { readonly host: string; readonly path: string }[] }[];
  readonly tlsByName?: { readonly cert: Token; readonly key: Token };
  readonly connectTimeout?: string;
  readonly idleTimeout: string;
  readonly proxyProtocol: boolean;
  readonly target: Token;
}

export const L4_REFUSE_UPSTREAM = token('sg_l4_refuse');

export function l4UpstreamName(name: string): Token {
  return token(`l4_${name}`);
}

function targetOf(targets: readonly WeightedTarget[], maps: MapRegistry): Token | undefined {
  const named = targets.map((t) => ({ ...t, upstream: l4UpstreamName(t.upstream) }));
  if (named.length === 0) return undefined;
  if (named.length === 1 && named[0] !== undefined) return named[0].upstream;
  // Per connection (UDP: per client address and port), as the passthrough split does.
  return maps.split(named, token('$remote_addr$remote_port'));
}

const longest = (values: readonly Duration[]): Duration => values.reduce((a, b) => (durationMs(b) > durationMs(a) ? b : a));

function listenerView(l: ModelListener, maps: MapRegistry, secretsDir: string): StreamListenerView | undefined {
  const routes: readonly ModelStreamRoute[] = l.routes.filter((r) => r.targets.length > 0);
  const first = routes[0];
  if (first === undefined) return undefined;
  const proxyProtocol = first.proxyProtocol;
  if (l.protocol === 'TLS') {
    const entries = routes.flatMap((r) => {
      const target = targetOf(r.targets, maps) as Token;
      return (r.hostnames ?? []).map((host) => ({ host: host as string, target }));
    });
    entries.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
    const id = l.name.replace(/-/g, '_');
    const variable = token(`$sg_l4_${id}`);
    // One server for the listener: the longest of its routes' timeouts (documented in tcp-route.md).
    const connects = routes.flatMap((r) => (r.connectTimeout !== undefined ? [r.connectTimeout] : []));
    // Every route terminates (the plan allows no mix): the certificate is chosen per SNI name.
    const terminate = first.tls !== undefined;
    const certEntries = (part: 'certSecret' | 'keySecret') =>
      routes
        .flatMap((r) => (r.tls === undefined ? [] : (r.hostnames ?? []).map((host) => ({ host: host as string, path: `${secretsDir}/${r.tls?.[part] ?? ''}` }))))
        .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
    const cert = token(`$sg_l4crt_${id}`);
    const key = token(`$sg_l4key_${id}`);
    return {
      listen: terminate ? `${l.port} ssl` : `${l.port}`,
      sniMap: { source: token(terminate ? '$ssl_server_name' : '$ssl_preread_server_name'), variable, entries },
      preread: !terminate,
      ...(terminate
        ? {
            certMaps: [
              { variable: cert, entries: certEntries('certSecret') },
              { variable: key, entries: certEntries('keySecret') },
            ],
            tlsByName: { cert, key },
          }
        : {}),
      ...(connects.length > 0 ? { connectTimeout: nginxDuration(longest(connects)) } : {}),
      idleTimeout: nginxDuration(longest(routes.map((r) => r.idleTimeout))),
      proxyProtocol,
      target: variable,
    };
  }
  return {
    listen: l.protocol === 'UDP' ? `${l.port} udp` : first.tls !== undefined ? `${l.port} ssl` : `${l.port}`,
    preread: false,
    ...(first.tls !== undefined ? { tls: { cert: `${secretsDir}/${first.tls.certSecret}`, key: `${secretsDir}/${first.tls.keySecret}` } } : {}),
    ...(first.connectTimeout !== undefined ? { connectTimeout: nginxDuration(first.connectTimeout) } : {}),
    idleTimeout: nginxDuration(first.idleTimeout),
    proxyProtocol,
    target: targetOf(first.targets, maps) as Token,
  };
}

export interface L4View {
  readonly listeners: readonly StreamListenerView[];
  readonly upstreams: readonly UpstreamView[];
  readonly refuse: boolean;
}

export function l4View(model: ProxyModel, maps: MapRegistry, secretsDir: string, upstreamView: (u: NonNullable<ProxyModel['streamUpstreams']>[number]) => UpstreamView): L4View | undefined {
  const listeners = (model.listeners ?? []).flatMap((l) => {
    const v = listenerView(l, maps, secretsDir);
    return v === undefined ? [] : [v];
  });
  if (listeners.length === 0) return undefined;
  const used = new Set<string>();
  for (const l of model.listeners ?? []) for (const r of l.routes) for (const t of r.targets) used.add(t.upstream);
  const upstreams = (model.streamUpstreams ?? [])
    .filter((u) => used.has(u.name) && u.servers.length > 0)
    .map((u) => upstreamView({ ...u, name: l4UpstreamName(u.name), affinity: { kind: 'none' } }));
  return { listeners, upstreams, refuse: listeners.some((l) => l.sniMap !== undefined) };
}
