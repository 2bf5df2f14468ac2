/**
 * What `uninstall` (without --purge) leaves on the stored specs it keeps: their Programmed and Ready
 * conditions become Unknown (CoreUninstalled), since no proxy serves them any more. Otherwise the
 * last core's "Programmed True" outlived it, and a `wait --for=Programmed` right after the next
 * install was met before any proxy answered.
 */
import { condition, type Condition } from '../domain/conditions';
import { LABELS } from '../domain/labels';
import { listStoredSpecs } from '../desired/spec-store';
import type { DockerPort } from '../observed/docker-port';
import { decodeStatus } from '../domain/status-label';
import { writeStatuses } from '../status/write-status';
import { OBSERVED_STATE } from './core-presence';


/** Mark every stored object's observed-state conditions Unknown; returns how many objects were written. */
export async function markUninstalled(port: DockerPort, now: Date = new Date()): Promise<number> {
  const { current } = await listStoredSpecs(port);
  const conditions: Record<string, readonly Condition[]> = {};
  for (const [key, spec] of current) {
    const status = decodeStatus(spec.config.Spec.Labels?.[LABELS.status]);
    // A status of an older generation claims nothing about the current one: the next core writes it.
    if (status === undefined || status.observedGeneration !== spec.generation || !status.conditions.some((c) => OBSERVED_STATE.has(c.type))) continue;
    conditions[key] = status.conditions.map((c) =>
      OBSERVED_STATE.has(c.type) ? condition(c.type, 'Unknown', 'CoreUninstalled', 'swarmgate was uninstalled: no proxy serves this object; run swarmgate install') : { type: c.type, status: c.status, reason: c.reason, message: c.message },
    );
  }
  // Same generation as observed: the next core rewrites these at its first run.
  const observed = new Map([...current].filter(([key]) => conditions[key] !== undefined).map(([key, spec]) => [key, spec] as const));
  const { writes } = await writeStatuses(port, observed, conditions, now.toISOString());
  return writes;
}
