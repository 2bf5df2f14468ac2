/**
 * Is a swarmgate core running? Commands that store or wait on specs say so when not: without a
 * core nothing acts on what `apply` stores, and the conditions on stored specs were written by a
 * core that is gone.
 */
import { LABELS, OWNER_VALUE } from '../domain/labels';
import { isServingTask, type DockerPort, type ServiceInfo } from '../observed/docker-port';
import type { ObjectStatus } from '../status/object-status';

export type CorePresence = { readonly state: 'running'; readonly service: string } | { readonly state: 'stopped'; readonly service: string } | { readonly state: 'not-installed' };

/** The core service (undefined when not installed) and whether one of its tasks serves. */
export async function findCore(port: DockerPort): Promise<{ readonly service: ServiceInfo; readonly running: boolean } | undefined> {
  const services = await port.listServices([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=core`]);
  const core = services.find((s) => s.Spec.Labels?.[LABELS.role] === 'core');
  if (core === undefined) return undefined;
  const tasks = await port.listTasks();
  return { service: core, running: tasks.some((t) => t.ServiceID === core.ID && isServingTask(t)) };
}

export async function corePresence(port: DockerPort): Promise<CorePresence> {
  const core = await findCore(port);
  if (core === undefined) return { state: 'not-installed' };
  return { state: core.running ? 'running' : 'stopped', service: core.service.Spec.Name };
}

/** One line for stderr when no core acts on stored specs; undefined when one runs. */
export function coreAbsenceWarning(p: CorePresence, consequence: string): string | undefined {
  if (p.state === 'running') return undefined;
  const what = p.state === 'not-installed' ? 'no swarmgate core is installed (swarmgate install)' : `the swarmgate core (${p.service}) is not running (docker service ps ${p.service})`;
  return `warning: ${what}: ${consequence}`;
}

/** Conditions that report what runs (proxies serving, replicas ready): stale as soon as no core watches. */
export const OBSERVED_STATE: ReadonlySet<string> = new Set(['Programmed', 'Ready', 'BackendsHealthy']);

/**
 * A stored status as a reader should show it: with no core running, Programmed and Ready are Unknown
 * (CoreNotRunning) — the last core's word is kept in the message, marked as such — since nobody
 * knows any more whether a proxy serves the object. Unchanged when a core runs.
 */
export function asSeenNow(status: ObjectStatus | undefined, p: CorePresence): ObjectStatus | undefined {
  if (status === undefined || p.state === 'running') return status;
  const why = p.state === 'not-installed' ? 'swarmgate is not installed' : `the core (${p.service}) is not running`;
  return {
    ...status,
    conditions: status.conditions.map((c) =>
      OBSERVED_STATE.has(c.type) && c.reason !== 'CoreUninstalled' ? { ...c, status: 'Unknown' as const, reason: 'CoreNotRunning' as const, message: `${why}; last known: ${c.status} (${c.reason}) ${c.message}` } : c,
    ),
  };
}
