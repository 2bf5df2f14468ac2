/** Write each object's status as a label update on its current spec config, only when it changed. */
import type { Condition } from '../domain/conditions';
import { LABELS } from '../domain/labels';
import type { StoredSpec } from '../desired/spec-store';
import type { DockerPort } from '../observed/docker-port';
import { nextStatus, parseStatus, sameStatus, type ProxyStatus } from './object-status';

export async function writeStatuses(
  port: DockerPort,
  stored: ReadonlyMap<string, StoredSpec>,
  conditions: Readonly<Record<string, readonly Condition[]>>,
  now: string,
  proxies: Readonly<Record<string, ProxyStatus>> = {},
  /** By object key: other labels to set (string) or remove (undefined) in the same write (rollout state). */
  extraLabels: ReadonlyMap<string, Readonly<Record<string, string | undefined>>> = new Map(),
): Promise<number> {
  let writes = 0;
  for (const [key, spec] of stored) {
    const conds = conditions[key];
    if (conds === undefined) continue;
    const labels = spec.config.Spec.Labels ?? {};
    const prev = parseStatus(labels[LABELS.status]);
    const next = nextStatus(prev, spec.generation, conds, now, proxies[key]);
    const extra = Object.entries(extraLabels.get(key) ?? {}).filter(([k, v]) => labels[k] !== v);
    if (sameStatus(prev, next) && extra.length === 0) continue;
    const removed = new Set(extra.filter(([, v]) => v === undefined).map(([k]) => k));
    const merged: Record<string, string> = Object.fromEntries(Object.entries({ ...labels, [LABELS.status]: JSON.stringify(next) }).filter(([k]) => !removed.has(k)));
    for (const [k, v] of extra) if (v !== undefined) merged[k] = v;
    // Version-checked: a concurrent apply that replaced the config makes this fail, and the next run retries.
    await port.updateConfigLabels(spec.config.ID, spec.config.Version.Index, { ...spec.config.Spec, Labels: merged });
    writes++;
  }
  return writes;
}
