/**
 * What the observer knows about how one snapshot's tasks differ from an earlier snapshot's: the
 * services any task of which appeared, disappeared or changed (ADR 0047). The task fast path
 * (src/plan/task-refresh.ts) then re-indexes those services only, instead of every task of the
 * Swarm. A hint attached to the task list by identity, never data: a snapshot decoded from a file, a
 * test's, or one whose predecessor is not the list the fast path compares with has none, and the fast
 * path indexes every task as before.
 */
import type { SnapshotTask } from './snapshot';

/** By service whose tasks changed: its tasks in the new list, in that list's order. */
export type ChangedServices = ReadonlyMap<string, readonly SnapshotTask[]>;

interface TaskChanges {
  readonly since: readonly SnapshotTask[];
  readonly services: ChangedServices;
}

/** By the task list it describes; weak, so a snapshot dropped drops its note too. */
const CHANGES = new WeakMap<readonly SnapshotTask[], TaskChanges>();
const NONE: ChangedServices = new Map();

/**
 * Record that `tasks` differs from `since` only in tasks of the services `services` names (with each
 * one's tasks in `tasks`, in order): a task of any other service is in both lists, the same object, in
 * the same order among its service's. The caller (the observer's converter) guarantees it.
 */
export function noteTaskChanges(tasks: readonly SnapshotTask[], since: readonly SnapshotTask[], services: ChangedServices): void {
  if (tasks !== since) CHANGES.set(tasks, { since, services });
}

/** The services whose tasks differ between `since` and `tasks` (with their tasks in `tasks`), when known; undefined when not. */
export function servicesChangedSince(tasks: readonly SnapshotTask[], since: readonly SnapshotTask[]): ChangedServices | undefined {
  if (tasks === since) return NONE;
  const c = CHANGES.get(tasks);
  return c?.since === since ? c.services : undefined;
}
