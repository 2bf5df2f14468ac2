/**
 * How an object's stored status (label io.swarmgate.status, codec in src/domain/status-label.ts)
 * changes from run to run: a condition keeps its transition time while its status holds, so an
 * unchanged run writes nothing; and how the CLI shows a condition.
 */
import type { Condition } from '../domain/conditions';
import { decodeStatus, type BackendsStatus, type ObjectStatus, type ProxyStatus, type StatusCondition } from '../domain/status-label';

export type { ObjectStatus, ProxyStatus, StatusCondition } from '../domain/status-label';
/** The stored status label, read (decodeStatus of src/domain/status-label.ts). */
export const parseStatus = decodeStatus;

/** New status from this run's conditions; a condition whose status did not flip keeps its transition time. */
export function nextStatus(prev: ObjectStatus | undefined, generation: number, conditions: readonly Condition[], now: string, proxy?: ProxyStatus, backends?: BackendsStatus): ObjectStatus {
  const byType = new Map((prev?.conditions ?? []).map((c) => [c.type, c]));
  return {
    ...(proxy !== undefined ? { proxy } : {}),
    observedGeneration: generation,
    conditions: conditions.map((c) => {
      const old = byType.get(c.type);
      const { observedGeneration: _ignored, ...rest } = c;
      return { ...rest, lastTransitionTime: old !== undefined && old.status === c.status ? old.lastTransitionTime : now };
    }),
    ...(backends !== undefined ? { backends } : {}),
  };
}

/** Equal apart from the backend counts: counts alone never make a write (they change with every request). */
export function sameStatus(a: ObjectStatus | undefined, b: ObjectStatus): boolean {
  const { backends: _a, ...restA } = a ?? { backends: undefined };
  const { backends: _b, ...restB } = b;
  return a !== undefined && JSON.stringify(restA) === JSON.stringify(restB);
}

/** A condition of the given generation; undefined when the core has not observed that generation yet. */
export function currentCondition(status: ObjectStatus | undefined, generation: number, type: string): StatusCondition | undefined {
  return status?.observedGeneration === generation ? status.conditions.find((c) => c.type === type) : undefined;
}

/** "True", "False (Reason)", or "Unknown": the cell tables show for a condition. */
export function conditionCell(status: ObjectStatus | undefined, generation: number, type: string): string {
  const c = currentCondition(status, generation, type);
  if (c === undefined) return 'Unknown';
  return c.status === 'True' ? 'True' : `${c.status} (${c.reason})`;
}
