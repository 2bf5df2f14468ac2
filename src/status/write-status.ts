/**
 * Write each object's status as a label update on its current spec config, only when it changed.
 * Every write is version-checked against the config as this run read it, and a config that an apply is
 * replacing (sealed) is not written at all: the apply copies the rollout labels from the sealed version,
 * so a later write there would be lost. Such objects are skipped, not failed; the run after (the apply's
 * create wakes one) writes them on the new generation, from its carried rollout state.
 */
import type { Condition } from '../domain/conditions';
import { LABELS } from '../domain/labels';
import type { StoredSpec } from '../desired/spec-store';
import { isNotFound, isOutOfSequence } from '../observed/docker-errors';
import type { DockerPort } from '../observed/docker-port';
import { decodeStatus, encodeStatus, type BackendsStatus, type ProxyStatus } from '../domain/status-label';
import { nextStatus, sameStatus } from './object-status';

export async function writeStatuses(
  port: DockerPort,
  stored: ReadonlyMap<string, StoredSpec>,
  conditions: Readonly<Record<string, readonly Condition[]>>,
  now: string,
  proxies: Readonly<Record<string, ProxyStatus>> = {},
  /** By object key: other labels to set (string) or remove (undefined) in the same write (rollout state). */
  extraLabels: ReadonlyMap<string, Readonly<Record<string, string | undefined>>> = new Map(),
  /** By object key: a Route's backend counts, written only along with a status that changed otherwise. */
  backends: Readonly<Record<string, BackendsStatus>> = {},
): Promise<{ writes: number; raced: string[]; sealed: string[] }> {
  let writes = 0;
  /** Keys whose write lost its version check to another writer (an apply, a delete, a CLI command). */
  const raced: string[] = [];
  /** Keys an apply is replacing right now: its new generation's event brings the next run. */
  const sealed: string[] = [];
  for (const [key, spec] of stored) {
    const conds = conditions[key];
    if (conds === undefined) continue;
    if (spec.sealed !== undefined) {
      sealed.push(key);
      continue;
    }
    const labels = spec.config.Spec.Labels ?? {};
    const prev = decodeStatus(labels[LABELS.status]);
    const next = nextStatus(prev, spec.generation, conds, now, proxies[key], backends[key]);
    const extra = Object.entries(extraLabels.get(key) ?? {}).filter(([k, v]) => labels[k] !== v);
    if (sameStatus(prev, next) && extra.length === 0) continue;
    const removed = new Set(extra.filter(([, v]) => v === undefined).map(([k]) => k));
    const merged: Record<string, string> = Object.fromEntries(Object.entries({ ...labels, [LABELS.status]: encodeStatus(next) }).filter(([k]) => !removed.has(k)));
    for (const [k, v] of extra) if (v !== undefined) merged[k] = v;
    // Version-checked: a concurrent write (apply's seal, a CLI command) or a removal makes this fail; the next run retries on a fresh read.
    try {
      await port.updateConfigLabels(spec.config.ID, spec.config.Version.Index, { ...spec.config.Spec, Labels: merged });
      writes++;
    } catch (e) {
      if (!(isOutOfSequence(e) || isNotFound(e))) throw e;
      raced.push(key);
    }
  }
  return { writes, raced, sealed };
}
