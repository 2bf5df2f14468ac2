/**
 * Write each object's status as a label update on its current spec config, only when it changed.
 * Every write is version-checked against the config as this run read it, and a config that an apply is
 * replacing (sealed) is not written at all: the apply copies the rollout labels from the sealed version,
 * so a later write there would be lost. Such objects are skipped, not failed; the run after (the apply's
 * create wakes one) writes them on the new generation, from its carried rollout state.
 *
 * Writes go out STATUS_WRITE_CONCURRENCY at a time (ADR 0046): one object is written at most once per
 * call, and the call returns only once every write has been answered, so the next run's write for an
 * object (runs never overlap) cannot be overtaken by this one's. Docker's version check covers what is
 * left: a write whose answer never came (a call deadline) and that lands late carries an older version
 * and is refused if the object was written since.
 */
import type { Condition } from '../domain/conditions';
import { LABELS } from '../domain/labels';
import type { StoredSpec } from '../desired/spec-store';
import { isNotFound, isOutOfSequence } from '../observed/docker-errors';
import type { DockerPort } from '../observed/docker-port';
import { decodeStatus, encodeStatus, type BackendsStatus, type ProxyStatus } from '../domain/status-label';
import { settleBounded } from './bounded';
import { nextStatus, sameStatus } from './object-status';

/**
 * Status label updates in flight at once. Each is a small request that costs the daemon a Raft write;
 * at 10,000 routes the first run writes 10,000 of them, and one at a time took longer than the 30 s
 * resync (ADR 0044). 8 cuts the first run's waits to an eighth of the round trips without letting one
 * core crowd out the manager's other clients (ADR 0046).
 */
export const STATUS_WRITE_CONCURRENCY = 8;

interface Write {
  readonly key: string;
  readonly spec: StoredSpec;
  readonly labels: Record<string, string>;
}

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
  concurrency: number = STATUS_WRITE_CONCURRENCY,
): Promise<{ writes: number; raced: string[]; sealed: string[] }> {
  /** Keys an apply is replacing right now: its new generation's event brings the next run. */
  const sealed: string[] = [];
  const writes: Write[] = [];
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
    writes.push({ key, spec, labels: merged });
  }
  // Version-checked: a concurrent write (apply's seal, a CLI command) or a removal makes one fail; the next run retries on a fresh read.
  const outcomes = await settleBounded(
    writes.map((w) => () => port.updateConfigLabels(w.spec.config.ID, w.spec.config.Version.Index, { ...w.spec.config.Spec, Labels: w.labels })),
    concurrency,
  );
  /** Keys whose write lost its version check to another writer (an apply, a delete, a CLI command). */
  const raced: string[] = [];
  let written = 0;
  let failure: { readonly reason: unknown } | undefined;
  outcomes.forEach((o, i) => {
    if (o.status === 'fulfilled') written++;
    else if (isOutOfSequence(o.reason) || isNotFound(o.reason)) raced.push(writes[i]?.key ?? '');
    else failure ??= { reason: o.reason };
  });
  // Only now, with every write answered: the run fails and the next one starts from a fresh read.
  if (failure !== undefined) throw failure.reason;
  return { writes: written, raced, sealed };
}
