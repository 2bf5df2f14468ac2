/**
 * The traffic side of a rollout: the Route as the proxies should serve it at the rollout's current
 * weights (see canary.ts for the rules). Pure: specs in, specs out, before buildModel, so a
 * rolled-out route goes through exactly the validation, model and render path of any other.
 *
 * - Every rule whose backends are exactly the stable (blue-green: active) service and port gets two
 *   backends: stable with `100 − w`, the new service with `w`. At 0 % or 100 % the rule keeps one
 *   backend (no split to render, and nothing reaches the other service).
 * - Blue-green adds a preview route `<name>-preview` on `previewHost` with the same rules, the
 *   rolled-out backend replaced by the preview service, whatever the phase; not when a stored
 *   Route already has that name (the Rollout condition says so).
 */
import type { HostPattern, Weight } from '../../domain/brands';
import { rolloutNew, rolloutStable, type CanarySpec, type RolloutBackend } from '../../domain/canary';
import type { RouteObject } from '../../domain/object';
import type { Backend, Rule } from '../../domain/route';
import type { DesiredState, Stored } from '../inputs';
import type { Weights } from './advance';

/** Name of the in-memory route serving a blue-green preview. */
export function previewRouteName(route: string): string {
  return `${route}-preview`;
}

const sameBackend = (b: Backend, r: RolloutBackend): boolean => b.service === r.service && b.port === r.port;

function rolledOut(rule: Rule, from: RolloutBackend): Backend | undefined {
  const [only, ...more] = rule.backends ?? [];
  return only !== undefined && more.length === 0 && sameBackend(only, from) ? only : undefined;
}

function shifted(rule: Rule, from: RolloutBackend, to: RolloutBackend, w: Weights): Rule {
  const b = rolledOut(rule, from);
  if (b === undefined) return rule;
  const next: Backend = { ...b, service: to.service, port: to.port };
  if (w.canary <= 0) return rule;
  if (w.canary >= 100) return { ...rule, backends: [next] };
  return { ...rule, backends: [{ ...b, weight: w.stable as Weight }, { ...next, weight: w.canary as Weight }] };
}

function previewOf(route: Stored<RouteObject>, spec: CanarySpec, from: RolloutBackend, to: RolloutBackend): Stored<RouteObject> | undefined {
  if (spec.previewHost === undefined) return undefined;
  const o = route.object;
  const { canary: _c, ...rest } = o.spec;
  return {
    ...route,
    object: {
      ...o,
      metadata: { ...o.metadata, name: previewRouteName(o.metadata.name) as typeof o.metadata.name },
      // A Hostname passed a stricter allow-list than a HostPattern (no wildcard).
      spec: { ...rest, defaultBackend: false, hosts: [spec.previewHost as string as HostPattern], rules: rest.rules.map((r) => shifted(r, from, to, { stable: 0, canary: 100 })) },
    },
  };
}

/**
 * Blue-green routes whose preview cannot be served because a stored Route already has the
 * preview's name: that Route is the user's and wins (its status would otherwise be the preview's).
 */
export function takenPreviewNames(desired: DesiredState): ReadonlySet<string> {
  const names = new Set(desired.routes.map((r) => r.object.metadata.name as string));
  const taken = new Set<string>();
  for (const r of desired.routes) {
    const spec = r.object.spec.canary;
    if (spec?.strategy === 'blueGreen' && spec.previewHost !== undefined && names.has(previewRouteName(r.object.metadata.name))) taken.add(r.object.metadata.name);
  }
  return taken;
}

/** The desired state with each rolling-out route at its weights (routes absent from `weights`: 100 % stable). */
export function withRolloutWeights(desired: DesiredState, weights: ReadonlyMap<string, Weights>): DesiredState {
  const taken = takenPreviewNames(desired);
  const routes: Stored<RouteObject>[] = [];
  for (const r of desired.routes) {
    const spec = r.object.spec.canary;
    const from = spec !== undefined ? rolloutStable(spec) : undefined;
    const to = spec !== undefined ? rolloutNew(spec) : undefined;
    if (spec === undefined || from === undefined || to === undefined) {
      routes.push(r);
      continue;
    }
    const w = weights.get(r.object.metadata.name) ?? { stable: 100, canary: 0 };
    routes.push({ ...r, object: { ...r.object, spec: { ...r.object.spec, rules: r.object.spec.rules.map((rule) => shifted(rule, from, to, w)) } } });
    if (spec.strategy === 'blueGreen' && !taken.has(r.object.metadata.name)) {
      const preview = previewOf(r, spec, from, to);
      if (preview !== undefined) routes.push(preview);
    }
  }
  return { ...desired, routes };
}
