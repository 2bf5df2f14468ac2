/**
 * Middleware references → the policies of each rule. A route's rules get, in this order, the
 * middlewares of its ServiceCluster's `defaults.middlewares`, of its `spec.middlewares` and of the
 * rule's own `middlewares` (a name listed twice applies once, at its first place). A name that is
 * not a valid stored Middleware is a MiddlewareNotFound problem: the route is left out.
 * Passthrough routes have no HTTP requests to apply policies to: cluster defaults skip them.
 */
import { canonicalCidr, type Cidr } from '../domain/cidr';
import { didYouMean } from '../domain/did-you-mean';
import type { MiddlewareObject, RouteObject } from '../domain/object';
import type { MiddlewareSpec } from '../domain/middleware';
import type { ServiceClusterSpec } from '../domain/service-cluster';
import type { Rejected, Stored } from './inputs';
import type { RulePolicies } from './model';
import type { RefProblem } from './resolve-backends';

/** Valid middlewares by name, and the names of invalid ones (so the message can say which). */
export interface MiddlewareIndex {
  readonly valid: ReadonlyMap<string, MiddlewareSpec>;
  readonly invalid: ReadonlySet<string>;
}

export function indexMiddlewares(stored: readonly Stored<MiddlewareObject>[] | undefined, rejected: readonly Rejected[]): MiddlewareIndex {
  return {
    valid: new Map((stored ?? []).map((s) => [s.object.metadata.name, s.object.spec])),
    invalid: new Set(rejected.filter((r) => r.kind === 'Middleware').map((r) => r.name)),
  };
}

function hint(name: string, index: MiddlewareIndex): string {
  const near = didYouMean(name, [...index.valid.keys()].sort());
  return near === undefined ? '' : ` (did you mean "${near}"?)`;
}

export interface ResolvedPolicies {
  /** Per rule of the route (same index): its policies, or undefined when no middleware applies. */
  readonly rules: readonly (RulePolicies | undefined)[];
  readonly problems: readonly RefProblem[];
}

/** Canonical forms (both proxies read them), sorted and without duplicates ("::1" and "0:0:…:1" are one). */
function addresses(list: readonly Cidr[]): Cidr[] {
  return [...new Set(list.map((c) => canonicalCidr(c) as Cidr))].sort();
}

function merge(names: readonly string[], index: MiddlewareIndex): RulePolicies | undefined {
  if (names.length === 0) return undefined;
  const specs = names.flatMap((n) => {
    const s = index.valid.get(n);
    return s === undefined ? [] : [s];
  });
  return {
    middlewares: names,
    ipAllow: specs.flatMap((s) => (s.ipAllow !== undefined ? [addresses(s.ipAllow)] : [])),
    ipDeny: specs.flatMap((s) => (s.ipDeny !== undefined ? [addresses(s.ipDeny)] : [])),
  };
}

export function resolvePolicies(route: RouteObject, cluster: ServiceClusterSpec, index: MiddlewareIndex): ResolvedPolicies {
  const passthrough = route.spec.tls?.mode === 'Passthrough';
  const base = [...(passthrough ? [] : (cluster.defaults.middlewares ?? [])), ...(route.spec.middlewares ?? [])];
  const perRule = route.spec.rules.map((r) => [...new Set([...base, ...(r.middlewares ?? [])])]);
  const missing = [...new Set(perRule.flat())].filter((n) => !index.valid.has(n));
  const problems: RefProblem[] = missing.map((n) => ({
    reason: 'MiddlewareNotFound',
    message: index.invalid.has(n)
      ? `middleware "${n}" is invalid (see swarmgate describe middleware ${n}); the route is not programmed until it is fixed`
      : `middleware "${n}" not found${hint(n, index)}; the route is not programmed until it exists`,
  }));
  return { rules: perRule.map((names) => merge(names, index)), problems };
}

/** Which routes use a middleware: directly, through a rule, or through their cluster's defaults. */
export function middlewareUsers(name: string, routes: readonly RouteObject[], clusterDefaults: ReadonlyMap<string, readonly string[]>): string[] {
  return routes
    .filter((r) => {
      if ((r.spec.middlewares ?? []).some((m) => m === name)) return true;
      if (r.spec.rules.some((rule) => (rule.middlewares ?? []).some((m) => m === name))) return true;
      return r.spec.tls?.mode !== 'Passthrough' && (clusterDefaults.get(r.spec.serviceCluster)?.includes(name) ?? false);
    })
    .map((r) => r.metadata.name)
    .sort();
}
