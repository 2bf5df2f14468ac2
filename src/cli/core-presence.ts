/**
 * Is a swarmgate core running? Commands that store or wait on specs say so when not: without a
 * core nothing acts on what `apply` stores, and the conditions on stored specs were written by a
 * core that is gone.
 */
import { LABELS, OWNER_VALUE } from '../domain/labels';
import { isServingTask, type DockerPort, type ServiceInfo, type TaskInfo } from '../observed/docker-port';
import type { ObjectStatus } from '../status/object-status';

export type CorePresence =
  | { readonly state: 'running'; readonly service: string }
  /** A task Swarm is still bringing up (right after `install`, or a restart): the core runs in seconds. */
  | { readonly state: 'starting'; readonly service: string; readonly taskState: string }
  | { readonly state: 'stopped'; readonly service: string }
  | { readonly state: 'not-installed' };

/**
 * Task states of a task on its way to running (`docker service ps` shows them as Pending, Assigned,
 * Preparing — pulling the image —, Starting…); with desired state running, the core is starting, not
 * stopped. A task that failed or was rejected is replaced by a new one, which then has one of these.
 */
const STARTING_STATES: ReadonlySet<string> = new Set(['new', 'allocated', 'pending', 'assigned', 'accepted', 'ready', 'preparing', 'starting']);

export function isStartingTask(t: TaskInfo): boolean {
  return t.DesiredState === 'running' && STARTING_STATES.has(t.Status.State);
}

/** Running, starting (with the starting task's state) or stopped, from the core service's tasks. */
export function corePhase(tasks: readonly TaskInfo[]): { readonly phase: 'running' } | { readonly phase: 'starting'; readonly taskState: string } | { readonly phase: 'stopped' } {
  if (tasks.some(isServingTask)) return { phase: 'running' };
  const starting = tasks.find(isStartingTask);
  return starting !== undefined ? { phase: 'starting', taskState: starting.Status.State } : { phase: 'stopped' };
}

/** The core service (undefined when not installed), whether one of its tasks serves, and whether one is starting. */
export async function findCore(port: DockerPort): Promise<{ readonly service: ServiceInfo; readonly running: boolean; readonly starting?: string } | undefined> {
  const services = await port.listServices([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=core`]);
  const core = services.find((s) => s.Spec.Labels?.[LABELS.role] === 'core');
  if (core === undefined) return undefined;
  const phase = corePhase((await port.listTasks({ serviceId: core.ID })).filter((t) => t.ServiceID === core.ID));
  return { service: core, running: phase.phase === 'running', ...(phase.phase === 'starting' ? { starting: phase.taskState } : {}) };
}

export function presenceOf(service: ServiceInfo | undefined, tasks: readonly TaskInfo[]): CorePresence {
  if (service === undefined) return { state: 'not-installed' };
  const phase = corePhase(tasks.filter((t) => t.ServiceID === service.ID));
  return phase.phase === 'starting' ? { state: 'starting', service: service.Spec.Name, taskState: phase.taskState } : { state: phase.phase, service: service.Spec.Name };
}

export async function corePresence(port: DockerPort): Promise<CorePresence> {
  const core = await findCore(port);
  if (core === undefined) return { state: 'not-installed' };
  if (core.starting !== undefined) return { state: 'starting', service: core.service.Spec.Name, taskState: core.starting };
  return { state: core.running ? 'running' : 'stopped', service: core.service.Spec.Name };
}

/**
 * One line for stderr when no core acts on stored specs yet; undefined when one runs. A starting core
 * (the usual case right after `install`) is a note, not a warning: it acts on the specs in seconds.
 */
export function coreAbsenceWarning(p: CorePresence, consequence: string): string | undefined {
  if (p.state === 'running') return undefined;
  if (p.state === 'starting') return `note: the swarmgate core (${p.service}) is starting (its task is ${p.taskState}); it acts on these specs once it runs`;
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
  const why = p.state === 'not-installed' ? 'swarmgate is not installed' : p.state === 'starting' ? `the core (${p.service}) is starting (task ${p.taskState})` : `the core (${p.service}) is not running`;
  return {
    ...status,
    conditions: status.conditions.map((c) =>
      OBSERVED_STATE.has(c.type) && c.reason !== 'CoreUninstalled' ? { ...c, status: 'Unknown' as const, reason: 'CoreNotRunning' as const, message: `${why}; last known: ${c.status} (${c.reason}) ${c.message}` } : c,
    ),
  };
}
