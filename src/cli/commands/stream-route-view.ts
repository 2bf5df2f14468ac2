/** What `get tcproutes|udproutes`, `describe tcproute|udproute` and `describe servicecluster` print for layer 4. */
import type { ApiObject, StreamRouteObject } from '../../domain/object';
import type { Snapshot } from '../../domain/snapshot';

export const STREAM_ROUTE_HEADER = ['NAME', 'CLUSTER', 'LISTENER', 'BACKENDS', 'GENERATION', 'ACCEPTED', 'PROGRAMMED', 'AGE'] as const;

const asStream = (o: ApiObject | undefined): StreamRouteObject | undefined => (o?.kind === 'TCPRoute' || o?.kind === 'UDPRoute' ? o : undefined);

/** "pg:5432 w=1,pg-b:5432 w=3" (the first two, then "+N"; all with wide). */
export function backendsCell(o: ApiObject | undefined, wide: boolean): string {
  const s = asStream(o);
  if (s === undefined) return '<invalid>';
  const cells = s.spec.backends.map((b) => `${b.service}:${b.port} w=${b.weight}`);
  return wide || cells.length <= 2 ? cells.join(',') : `${cells.slice(0, 2).join(',')} +${cells.length - 2}`;
}

export function clusterCell(o: ApiObject | undefined): string {
  return asStream(o)?.spec.serviceCluster ?? '-';
}

export function listenerCell(o: ApiObject | undefined): string {
  return asStream(o)?.spec.listener ?? '-';
}

/** "db:9000/TCP,dns:9000/UDP" or "-": a cluster's extra listeners. */
export function listenersCell(o: ApiObject | undefined): string {
  if (o?.kind !== 'ServiceCluster') return '-';
  return o.spec.listeners.length === 0 ? '-' : o.spec.listeners.map((l) => `${l.name}:${l.port}/${l.protocol}`).join(',');
}

/** describe: the route's listener, SNI names, TLS, timeouts and backends with their running tasks. */
export function streamRouteLines(o: StreamRouteObject, snapshot: Snapshot): string[] {
  const s = o.spec;
  const running = (service: string): string => {
    if (!snapshot.services.some((x) => x.name === service)) return 'service not found';
    const n = snapshot.tasks.filter((t) => t.service === service && t.state === 'running' && t.desiredState === 'running').length;
    return `${n} running task${n === 1 ? '' : 's'}`;
  };
  const lines = [`Cluster:      ${s.serviceCluster}`, `Listener:     ${s.listener}`];
  if (o.kind === 'TCPRoute') {
    if (o.spec.hostnames !== undefined) lines.push(`Hostnames:    ${o.spec.hostnames.join(', ')} (SNI, passed through)`);
    const cert = o.spec.tls?.certificate;
    lines.push(`TLS:          ${cert === undefined ? 'none' : `terminated with ${cert.name !== undefined ? `certificate ${cert.name}` : `secrets ${cert.certSecret ?? '-'}, ${cert.keySecret ?? '-'}`}`}`);
    lines.push(`Timeouts:     idle ${o.spec.idleTimeout}, connect ${o.spec.connectTimeout}`, `PROXY proto:  ${o.spec.proxyProtocol ? 'sent to the backends' : 'off'}`);
  } else lines.push(`Timeouts:     idle ${s.idleTimeout}`);
  lines.push('Backends:');
  for (const b of s.backends) lines.push(`  ${b.service}:${b.port} w=${b.weight} mode ${b.mode} (${running(b.service)})`);
  return lines;
}

export function listenerLines(o: ApiObject): string[] {
  if (o.kind !== 'ServiceCluster') return [];
  const p = o.spec.proxy.publish;
  return [`Publish:      ${p.mode}, http ${p.http}, https ${p.https}`, `Listeners:    ${o.spec.listeners.length === 0 ? 'none' : o.spec.listeners.map((l) => `${l.name} ${l.port}/${l.protocol}`).join(', ')}`];
}
