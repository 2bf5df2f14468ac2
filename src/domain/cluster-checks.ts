/** Cross-field rules of a ServiceCluster. */
import { sizeBytes } from './brands';
import type { Issue } from './issue';
import { duplicateRefIssues } from './middleware';
import { listenerIssues } from './listener-checks';
import { zeroTimeoutIssues, type ServiceClusterSpec } from './service-cluster';

export function checkServiceCluster(spec: ServiceClusterSpec): Issue[] {
  const out: Issue[] = [];
  const publish = spec.proxy.publish;
  if (publish.http === publish.https)
    out.push({ path: ['spec', 'proxy', 'publish', 'https'], message: `must differ from publish.http (both are ${publish.http})` });
  const res = spec.proxy.resources;
  const lim = res?.limits;
  const resv = res?.reservations;
  if (lim?.cpus !== undefined && resv?.cpus !== undefined && resv.cpus > lim.cpus)
    out.push({ path: ['spec', 'proxy', 'resources', 'reservations', 'cpus'], message: `reservation ${resv.cpus} exceeds limit ${lim.cpus}` });
  if (lim?.memory !== undefined && resv?.memory !== undefined && sizeBytes(resv.memory) > sizeBytes(lim.memory))
    out.push({ path: ['spec', 'proxy', 'resources', 'reservations', 'memory'], message: `reservation ${resv.memory} exceeds limit ${lim.memory}` });
  out.push(...zeroTimeoutIssues(spec.defaults.timeouts, ['spec', 'defaults', 'timeouts']));
  const seen = new Set<string>();
  spec.networks.forEach((n, i) => {
    if (seen.has(n)) out.push({ path: ['spec', 'networks', i], message: `duplicate network "${n}"` });
    seen.add(n);
  });
  out.push(...duplicateRefIssues(spec.defaults.middlewares, ['spec', 'defaults', 'middlewares']));
  out.push(...listenerIssues(spec));
  const trusted = new Map<string, number>();
  (spec.proxy.clientAddress?.trustedProxies ?? []).forEach((c, i) => {
    const first = trusted.get(c);
    if (first !== undefined) out.push({ path: ['spec', 'proxy', 'clientAddress', 'trustedProxies', i], message: `duplicate address (already at trustedProxies[${first}])` });
    else trusted.set(c, i);
  });
  return out;
}
