/**
 * Lookups by route in a cluster's model, built once per model object. Status asks them for every
 * route of a run; scanning the model's routes, hosts and upstreams for each one made a run quadratic
 * in the routes (at 2,000 routes most of a run that found nothing to do, ADR 0046). The pipeline hands
 * back the same model object while its inputs are unchanged, and models are never mutated, so an index
 * kept by object is valid as long as the object lives.
 */
import type { ProxyModel, Upstream } from '../plan/model';

interface ModelIndex {
  /** `name@generation` of every route in the model. */
  readonly routeGenerations: ReadonlySet<string>;
  readonly routeNames: ReadonlySet<string>;
  /** By route name: the upstreams its rules proxy to (canary targets included), in model order. */
  readonly upstreams: ReadonlyMap<string, readonly Upstream[]>;
}

const indexes = new WeakMap<ProxyModel, ModelIndex>();

function build(model: ProxyModel): ModelIndex {
  const names = new Map<string, Set<string>>();
  const hosts = [...model.virtualHosts, ...(model.defaultServer !== undefined ? [model.defaultServer] : [])];
  for (const vh of hosts)
    for (const group of vh.paths)
      for (const rule of [...group.conditional, ...(group.fallback !== undefined ? [group.fallback] : [])]) {
        if (rule.action.kind !== 'proxy') continue;
        const set = names.get(rule.route) ?? new Set<string>();
        names.set(rule.route, set);
        for (const t of rule.action.targets) set.add(t.upstream);
      }
  // Upstream names are unique in a model, but the scan this replaces kept every match: so does this.
  const positions = new Map<string, number[]>();
  model.upstreams.forEach((u, i) => positions.set(u.name, [...(positions.get(u.name) ?? []), i]));
  const upstreams = new Map<string, readonly Upstream[]>();
  for (const [route, set] of names) {
    const at = [...set].flatMap((n) => positions.get(n) ?? []).sort((a, b) => a - b);
    upstreams.set(route, at.map((i) => model.upstreams[i] as Upstream));
  }
  return { routeGenerations: new Set(model.routes.map((r) => `${r.name}@${r.generation}`)), routeNames: new Set(model.routes.map((r) => r.name)), upstreams };
}

function indexOf(model: ProxyModel): ModelIndex {
  let index = indexes.get(model);
  if (index === undefined) {
    index = build(model);
    indexes.set(model, index);
  }
  return index;
}

/** The model has this route (any generation). */
export function modelHasRoute(model: ProxyModel, name: string): boolean {
  return indexOf(model).routeNames.has(name);
}

/** The model has this generation of the route. */
export function modelHasRouteGeneration(model: ProxyModel, name: string, generation: number): boolean {
  return indexOf(model).routeGenerations.has(`${name}@${generation}`);
}

/** The upstreams a route's rules proxy to (canary targets included), in model order. */
export function routeUpstreams(model: ProxyModel, route: string): readonly Upstream[] {
  return indexOf(model).upstreams.get(route) ?? [];
}
