/**
 * The endpoints a cluster's model carries (ADR 0039): effectiveEndpoints (the spec, its delivery and
 * whether agents reach the core), with one more case where a default nobody wrote stays Static.
 *
 * NGINX's dynamic layout proxies every HTTP backend through one upstream (`sg_dynamic`), so its
 * keep-alive connections are shared by every backend at the same address: a TLS connection opened
 * and verified for one rule's server name (or with one rule's client certificate) could carry
 * another rule's request to the same task without a new handshake. Static upstream blocks keep one
 * pool per backend. So an NGINX cluster with backend TLS is Static, also when its spec says Dynamic:
 * a TLS identity must never carry another route's request (`describe` says why the value in use
 * differs from the spec). HAProxy's slots are per backend and do not share connections.
 */
import { effectiveEndpoints, type ProxyEndpoints } from '../domain/service-cluster';
import type { ProxyModel } from './model';

/** Whether any rule of the model speaks TLS to its backends (backends[].tls). */
export function hasBackendTls(model: Pick<ProxyModel, 'virtualHosts' | 'defaultServer'>): boolean {
  const hosts = [...model.virtualHosts, ...(model.defaultServer !== undefined ? [model.defaultServer] : [])];
  return hosts.some((vh) => vh.paths.some((g) => [...g.conditional, ...(g.fallback !== undefined ? [g.fallback] : [])].some((r) => r.action.kind === 'proxy' && r.action.upstreamTls !== undefined)));
}

/** The value buildModel writes into `model.spec.proxy.endpoints`. */
export function modelEndpoints(model: ProxyModel, agents?: boolean): ProxyEndpoints {
  const p = model.spec.proxy;
  const e = effectiveEndpoints(p, agents);
  return e === 'Dynamic' && p.kind === 'nginx' && hasBackendTls(model) ? 'Static' : e;
}
