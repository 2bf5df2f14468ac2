/**
 * One consistent-enough read of the Swarm for a reconcile run, and the cheap task fingerprint the
 * loop's task poll compares to skip runs when no task changed.
 */
import { createHash } from 'node:crypto';
import { ERROR_PAGE_LABEL } from '../domain/middleware';
import type { DockerPort, TaskInfo } from './docker-port';
import { toSnapshot, type ToSnapshotResult } from './to-snapshot';

/**
 * Lists services, tasks, networks, secrets and nodes in parallel and maps them to a Snapshot.
 * The five lists are separate API calls, so they can disagree briefly (a task of a service created
 * a moment ago); toSnapshot tolerates that and the next run sees the settled state.
 * Rejects with the first DockerApiError if any list fails.
 */
export async function readSnapshot(port: DockerPort): Promise<ToSnapshotResult> {
  const [services, tasks, networks, secrets, nodes, pageConfigs] = await Promise.all([
    port.listServices(),
    port.listTasks(),
    port.listNetworks(),
    port.listSecrets(),
    port.listNodes(),
    port.listConfigs([ERROR_PAGE_LABEL]),
  ]);
  return toSnapshot({ services, tasks, networks, secrets, nodes, pageConfigs });
}

/**
 * A string that changes when any task appears, disappears, changes observed or desired state, or
 * changes addresses: one line per task (id, state, desired state, sorted addresses), lines sorted so
 * the API's ordering does not matter. Equal fingerprints ⇒ nothing in the tasks that the model
 * reads has changed. No JSON; readTaskFingerprint keeps only its hash.
 */
export function taskFingerprint(tasks: readonly TaskInfo[]): string {
  const lines = tasks.map((t) => {
    const addrs: string[] = [];
    for (const att of t.NetworksAttachments ?? []) for (const a of att.Addresses ?? []) addrs.push(`${att.Network.ID}=${a}`);
    addrs.sort();
    return `${t.ID} ${t.Status.State} ${t.DesiredState} ${addrs.join(',')}`;
  });
  lines.sort();
  return lines.join('\n');
}

/**
 * Lists only the tasks and returns their fingerprint's SHA-256 (the poll's whole job). The poll keeps
 * the last one to compare with, for as long as the core runs: at 10,000 bench-mix routes the
 * fingerprint itself is about 4 MB (50,000 tasks), its digest 64 characters (ADR 0044).
 */
export async function readTaskFingerprint(port: DockerPort): Promise<string> {
  return createHash('sha256').update(taskFingerprint(await port.listTasks())).digest('hex');
}
