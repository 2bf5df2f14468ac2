/**
 * Published ports two owners want at once: two clusters' proxies, or a cluster's proxy and another
 * Swarm service. Swarm refuses the second ingress port outright and leaves a second host-mode task
 * pending with "no suitable node (host-mode port already in use)"; either way that cluster serves
 * nothing, so `diff` and `apply` say it before anything is written. Pure.
 */
import type { ServiceInfo } from '../observed/docker-port';
import type { ProxyModel } from './model';
import { proxyServiceName } from './proxy-service-spec';

export interface PortClash {
  readonly port: number;
  /** `cluster "a"` or `service "b"`, first the older claim when known. */
  readonly owners: readonly string[];
}

export function portClashes(models: readonly ProxyModel[], services: readonly ServiceInfo[]): PortClash[] {
  const claims = new Map<number, string[]>();
  const claim = (port: number | undefined, who: string): void => {
    if (port === undefined || port === 0) return;
    const list = claims.get(port) ?? [];
    if (!list.includes(who)) list.push(who);
    claims.set(port, list);
  };
  for (const m of models) for (const p of [m.spec.proxy.publish.http, m.spec.proxy.publish.https]) claim(p, `cluster "${m.cluster}"`);
  const proxies = new Set(models.map((m) => proxyServiceName(m.cluster)));
  for (const s of services) {
    if (proxies.has(s.Spec.Name)) continue;
    for (const p of s.Spec.EndpointSpec?.Ports ?? []) claim(p.PublishedPort, `service "${s.Spec.Name}"`);
  }
  return [...claims.entries()].filter(([, owners]) => owners.length > 1).map(([port, owners]) => ({ port, owners })).sort((a, b) => a.port - b.port);
}
