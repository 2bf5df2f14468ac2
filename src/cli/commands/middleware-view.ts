/** What `get middlewares` and `describe middleware` print beyond the common columns. */
import type { MiddlewareObject, RouteObject, ServiceClusterObject } from '../../domain/object';
import { behavioursOf, type MiddlewareSpec } from '../../domain/middleware';
import { middlewareUsers } from '../../plan/middlewares';

/** Routes that use each middleware (directly, by a rule, or by their cluster's defaults). */
export function usersOf(name: string, routes: readonly RouteObject[], clusters: readonly ServiceClusterObject[]): string[] {
  const defaults = new Map(clusters.map((c) => [c.metadata.name, c.spec.defaults.middlewares ?? []]));
  return middlewareUsers(name, routes, defaults);
}

/** "ipAllow,ipDeny": the behaviours a middleware holds. */
export function behavioursCell(m: MiddlewareObject | undefined): string {
  return m === undefined ? '<invalid>' : behavioursOf(m.spec).join(',');
}

/** "a,b +3": routes using it, abbreviated unless wide. */
export function usersCell(users: readonly string[], wide: boolean): string {
  if (users.length === 0) return '-';
  return wide || users.length <= 3 ? users.join(',') : `${users.slice(0, 3).join(',')} +${users.length - 3}`;
}

/** One line per behaviour, with its settings. */
export function behaviourLines(spec: MiddlewareSpec): string[] {
  const out: string[] = [];
  if (spec.ipAllow !== undefined) out.push(`  ipAllow:     ${spec.ipAllow.join(', ')}`);
  if (spec.ipDeny !== undefined) out.push(`  ipDeny:      ${spec.ipDeny.join(', ')}`);
  return out;
}
