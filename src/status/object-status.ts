/**
 * The status stored on an object's current config (label io.swarmgate.status): observed generation
 * and conditions with the time each last changed. Kept stable so an unchanged run writes nothing.
 */
import type { Condition } from '../domain/conditions';

export interface StatusCondition extends Condition {
  readonly lastTransitionTime: string;
}

/** What a ServiceCluster's proxies run (hitless delivery: from the agents' reports; hashes shortened). */
export interface ProxyStatus {
  readonly delivery: 'hitless';
  readonly config: string;
  readonly replicas: readonly { readonly task: string; readonly applied: string }[];
}

export interface ObjectStatus {
  readonly observedGeneration: number;
  readonly conditions: readonly StatusCondition[];
  readonly proxy?: ProxyStatus;
}

export function parseStatus(label: string | undefined): ObjectStatus | undefined {
  if (label === undefined) return undefined;
  try {
    const v = JSON.parse(label) as ObjectStatus;
    return typeof v.observedGeneration === 'number' && Array.isArray(v.conditions) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** New status from this run's conditions; a condition whose status did not flip keeps its transition time. */
export function nextStatus(prev: ObjectStatus | undefined, generation: number, conditions: readonly Condition[], now: string, proxy?: ProxyStatus): ObjectStatus {
  const byType = new Map((prev?.conditions ?? []).map((c) => [c.type, c]));
  return {
    ...(proxy !== undefined ? { proxy } : {}),
    observedGeneration: generation,
    conditions: conditions.map((c) => {
      const old = byType.get(c.type);
      const { observedGeneration: _ignored, ...rest } = c;
      return { ...rest, lastTransitionTime: old !== undefined && old.status === c.status ? old.lastTransitionTime : now };
    }),
  };
}

export function sameStatus(a: ObjectStatus | undefined, b: ObjectStatus): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
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
