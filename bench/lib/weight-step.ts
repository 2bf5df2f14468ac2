/**
 * bench-scale's weight steps (ADR 0049): the last probe route's split moved wholly onto one of its two
 * services and back, as a canary step is. With NGINX dynamic endpoints the core's full run renders the
 * same nginx.conf (checked) and only the endpoint set changes: the agent pushes it, no `nginx -t`, no
 * reload. Timed from the change given to the core until the proxy serves only the target service.
 */
import type { DesiredState } from '../../src/plan/inputs';
import type { RouteObject } from '../../src/domain/object';
import type { Snapshot } from '../../src/domain/snapshot';
import { mustDecodeRoute } from './inputs';
import type { ScaleInputs } from './scale-inputs';

/** The specs with the last probe route's weights set: its -blue backends get `blue`, its -green ones `green`. */
export function withProbeWeights(desired: DesiredState, s: ScaleInputs, blue: number, green: number): DesiredState {
  const name = `app-${s.last.index}`;
  return {
    ...desired,
    routes: desired.routes.map((r) => {
      if (r.object.metadata.name !== name) return r;
      const spec = r.object.spec;
      const rules = spec.rules.map((rule) => ({
        ...rule,
        ...(rule.backends !== undefined ? { backends: rule.backends.map((b) => ({ ...b, weight: b.service.endsWith('-blue') ? blue : b.service.endsWith('-green') ? green : b.weight })) } : {}),
      }));
      const object: RouteObject = mustDecodeRoute(JSON.parse(JSON.stringify({ ...r.object, spec: { ...spec, rules } })));
      return { ...r, object, generation: r.generation + 1 };
    }),
  };
}

/** The addresses of the last probe route's running blue (or green) tasks in `snapshot`: who answers for the step's target. */
export function targetIps(snapshot: Snapshot, s: ScaleInputs, toGreen: boolean): ReadonlySet<string> {
  const service = `app-${s.last.index}-${toGreen ? 'green' : 'blue'}`;
  return new Set(snapshot.tasks.filter((t) => t.service === service && t.state === 'running').flatMap((t) => t.addresses.map((a) => a.ip as string)));
}
