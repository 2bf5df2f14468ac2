/**
 * Programmed and Ready, from what the proxy tasks actually run: a cluster is Programmed when every
 * running proxy task uses the current config (and at least one runs); a route is Programmed when
 * its generation is in that config. Pure: the core feeds it the task list.
 */
import { condition, type Condition, type Reason } from '../domain/conditions';
import { isServingTask, type TaskInfo } from '../observed/docker-port';
import type { ProxyModel } from '../plan/model';
import { revisionIdText, type RevisionId } from '../domain/revision-id';
import { modelHasRouteGeneration } from './model-index';

export interface ClusterRuntime {
  readonly model: ProxyModel;
  readonly serviceId?: string;
  readonly configName?: string;
  /** The current config as users see it (`rev 7 (3f2a9c1b04de)`), when known. */
  readonly revisionId?: RevisionId;
  /** Set when the rendered config failed validation: proxies keep the last good one. */
  readonly invalid?: string;
  /** Replicas the proxy service asks Swarm for (spec.proxy.replicas). */
  readonly expectedReplicas: number;
  /** Hitless delivery: the config handed to the agents and what each replica reported it runs. */
  readonly hitless?: {
    readonly configHash: string;
    readonly reports: readonly { readonly replicaId: string; readonly appliedHash: string; readonly lastValidation?: { readonly ok: boolean; readonly output: string } }[];
    /** Replicas whose agent is connected to the core; absent: not tracked (every replica counts as connected). */
    readonly connected?: ReadonlySet<string>;
  };
  /** Shown with the Programmed condition (e.g. why hitless delivery fell back to rolling). */
  readonly note?: string;
  /** Set while the config for the current model does not exist yet (the extension has not answered). */
  readonly waiting?: string;
  /** Set when a write of this run for the cluster failed (Docker's answer): proxies keep what they run. */
  readonly failed?: { readonly reason: Reason; readonly message: string };
  /**
   * The routes (`name@generation`) in the config each running replica serves, by task ID, where the
   * core knows them (configs it delivered or stored with their route list). A route whose generation
   * every running replica serves stays Programmed while the cluster's newest config is on its way.
   */
  readonly servedRoutes?: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface ClusterStatus {
  readonly running: number;
  readonly current: number;
  readonly programmed: boolean;
  /** Running hitless replicas not on the current config whose agent is not connected (task IDs). */
  readonly disconnected: readonly string[];
  /** Task IDs of the running replicas. */
  readonly runningIds?: readonly string[];
  readonly conditions: Condition[];
}

function replicaList(ids: readonly string[]): string {
  const shown = ids.slice(0, 5).map((id) => id.slice(0, 12));
  return `replica${ids.length === 1 ? '' : 's'} ${shown.join(', ')}${ids.length > shown.length ? ` and ${ids.length - shown.length} more` : ''}`;
}

/** Task states on the way to running: they say nothing yet about whether the slot can run. */
const TRANSITIONAL = new Set(['new', 'allocated', 'assigned', 'accepted', 'ready', 'preparing', 'starting']);

export interface TaskProblem {
  readonly reason: 'Unschedulable' | 'TasksFailing';
  readonly task: TaskInfo;
}

/** When the task last changed state; RFC 3339 with trimmed fractions does not sort as text ("03Z" after "03.5Z"). */
function changedAt(t: TaskInfo): number {
  const ms = Date.parse(t.Status.Timestamp ?? '');
  return Number.isNaN(ms) ? 0 : ms;
}

function taskText(t: TaskInfo): string {
  const err = t.Status.Err ?? '';
  const msg = t.Status.Message ?? '';
  // Swarm's Message is generic ("pending task scheduling", "starting"); the error says why.
  const why = err !== '' && msg !== '' && !err.includes(msg) ? `${err} (${msg})` : err || msg;
  return `task ${t.ID.slice(0, 12)}${t.Slot !== undefined ? ` (slot ${t.Slot})` : ''} ${t.Status.State}: ${why}`;
}

/**
 * Why the slots of a proxy service without a serving task do not run, from Swarm's own task errors:
 * per such slot, its newest task that is not merely on its way (restart attempts pass through
 * transitional states between failures); an error there is Unschedulable when the task is pending
 * (the scheduler found no node: host port in use, constraint, max replicas per node, resources) and
 * TasksFailing when it failed or was rejected (e.g. the image cannot be found). The newest problem wins.
 * A slot whose newest settled task ended without error (shutdown, complete) has none: its error is history.
 */
export function taskProblem(serviceTasks: readonly TaskInfo[]): TaskProblem | undefined {
  const slots = new Map<string, TaskInfo[]>();
  for (const t of serviceTasks) {
    const key = t.Slot !== undefined ? `slot ${t.Slot}` : `task ${t.ID}`;
    slots.set(key, [...(slots.get(key) ?? []), t]);
  }
  const problems: TaskProblem[] = [];
  for (const list of slots.values()) {
    if (list.some(isServingTask)) continue;
    const newestFirst = [...list].sort((x, y) => changedAt(y) - changedAt(x));
    const settled = newestFirst.find((t) => !TRANSITIONAL.has(t.Status.State) && !(t.Status.State === 'pending' && (t.Status.Err ?? '') === ''));
    if (settled === undefined || (settled.Status.Err ?? '') === '') continue;
    if (settled.Status.State === 'pending' && settled.DesiredState === 'running') problems.push({ reason: 'Unschedulable', task: settled });
    else if (settled.Status.State === 'failed' || settled.Status.State === 'rejected') problems.push({ reason: 'TasksFailing', task: settled });
  }
  return problems.sort((x, y) => changedAt(y.task) - changedAt(x.task))[0];
}

export function clusterStatus(rt: ClusterRuntime, tasks: readonly TaskInfo[]): ClusterStatus {
  const mine = tasks.filter((t) => t.ServiceID === rt.serviceId && isServingTask(t));
  const hitless = rt.hitless;
  const applied = new Map((hitless?.reports ?? []).map((r) => [r.replicaId, r]));
  const serves = (t: TaskInfo): boolean =>
    hitless !== undefined ? applied.get(t.ID)?.appliedHash === hitless.configHash : (t.Spec?.ContainerSpec?.Configs ?? []).some((c) => c.ConfigName === rt.configName);
  const current = mine.filter(serves).length;
  const running = mine.length;
  const programmed = rt.invalid === undefined && rt.waiting === undefined && rt.failed === undefined && running > 0 && current === running;
  // The core cannot know what a replica serves while its agent is not connected (the core restarted,
  // or the agent is cut off): it keeps its last config, which may or may not be the current one.
  const connected = hitless?.connected;
  const disconnected = connected === undefined ? [] : mine.filter((t) => !serves(t) && !connected.has(t.ID)).map((t) => t.ID).sort();
  const what = rt.revisionId !== undefined ? `${revisionIdText(rt.revisionId)}${hitless !== undefined ? ' (hitless)' : ''}` : hitless !== undefined ? `config ${hitless.configHash.slice(0, 12)} (hitless)` : `config ${rt.configName ?? ''}`;
  // A task started before the config needed a new secret (a new `tls apply` version) cannot load
  // it; the rolling update that mounts the secret replaces that task. Waiting, not invalid.
  const missingSecrets = (replicaId: string): string[] => {
    const task = mine.find((t) => t.ID === replicaId);
    const mounted = new Set((task?.Spec?.ContainerSpec?.Secrets ?? []).map((x) => x.SecretName));
    return task === undefined ? [] : [...rt.model.secrets].filter((name) => !mounted.has(name)).sort();
  };
  const failed = (hitless === undefined ? [] : [...applied.values()].filter((r) => r.lastValidation?.ok === false && r.appliedHash !== hitless.configHash)).map((r) => ({ ...r, missing: missingSecrets(r.replicaId) }));
  const rejected = failed.find((r) => r.missing.length === 0);
  const outdated = failed.find((r) => r.missing.length > 0);
  const note = rt.note !== undefined ? `; ${rt.note}` : '';
  // Start-first updates run old and new replicas side by side for a moment: more than requested is ready too.
  const ready = running >= rt.expectedReplicas;
  const replicas = `${running}/${rt.expectedReplicas} proxy replicas running`;
  const problem = ready || rt.serviceId === undefined ? undefined : taskProblem(tasks.filter((t) => t.ServiceID === rt.serviceId));
  const conditions = [
    ready
      ? condition('Ready', 'True', 'Ready', replicas)
      : problem !== undefined
        ? condition('Ready', 'False', problem.reason, `${replicas}; ${taskText(problem.task)}`)
        : condition('Ready', 'False', 'Pending', `${replicas}${rt.serviceId === undefined ? '; the proxy service does not exist yet' : ''}`),
    rt.waiting !== undefined
      ? condition('Programmed', 'False', 'Pending', `${rt.waiting}; proxies keep their current config`)
      : rt.invalid !== undefined
      ? condition('Programmed', 'False', 'Invalid', `rendered configuration failed validation; proxies keep the last good one: ${rt.invalid}`)
      : rt.failed !== undefined
      ? condition('Programmed', 'False', rt.failed.reason, rt.failed.message)
      : rejected !== undefined && !programmed
        ? condition('Programmed', 'False', 'Invalid', `replica ${rejected.replicaId.slice(0, 12)} rejected ${what} and keeps the last good one: ${rejected.lastValidation?.output ?? ''}`)
        : outdated !== undefined && !programmed
          ? condition('Programmed', 'False', 'Pending', `${current}/${running} running proxies serve ${what}; replica ${outdated.replicaId.slice(0, 12)} is being replaced to mount secret ${outdated.missing.join(', ')}${note}`)
        : programmed
          ? condition('Programmed', 'True', 'Programmed', `${current}/${running} running proxies serve ${what}${note}`)
          : disconnected.length > 0
            ? condition('Programmed', 'Unknown', 'AgentsDisconnected', `${current}/${running} running proxies serve ${what}; the agents of ${replicaList(disconnected)} are not connected to the core (they keep serving their last configuration)${note}`)
            : condition('Programmed', 'False', 'Pending', `${current}/${running} running proxies serve ${what}${note}`),
  ];
  return { running, current, programmed, disconnected, runningIds: mine.map((t) => t.ID), conditions };
}

export function routeProgrammed(route: string, generation: number, rt: ClusterRuntime, status: ClusterStatus): Condition {
  const inModel = modelHasRouteGeneration(rt.model, route, generation);
  if (!inModel) return condition('Programmed', 'False', 'Pending', 'not part of the proxy configuration (see Accepted and ResolvedRefs)');
  if (status.programmed) return condition('Programmed', 'True', 'Programmed', `served by ${status.current} proxy replica${status.current === 1 ? '' : 's'} of cluster "${rt.model.cluster}"`);
  // Another route's change (or a backend task change) is on its way: this route's generation is still served everywhere.
  const servedEverywhere = servingReplicas(`${route}@${generation}`, rt, status);
  // A replica's own check refused the cluster's config (e.g. a certificate and key that do not belong together).
  const clusterProgrammed = status.conditions.find((c) => c.type === 'Programmed');
  const rejected = clusterProgrammed?.status === 'False' && clusterProgrammed.reason === 'Invalid' && rt.invalid === undefined && rt.failed === undefined ? clusterProgrammed.message : undefined;
  if (servedEverywhere !== undefined) {
    // Still true for this route; why the cluster is not on its newest config is said here too.
    const why = rt.failed !== undefined ? `: ${rt.failed.reason}: ${rt.failed.message}` : rt.invalid !== undefined ? `: Invalid: ${rt.invalid}` : rejected !== undefined ? `: Invalid: ${rejected}` : '';
    return condition('Programmed', 'True', 'Programmed', `served by ${servedEverywhere} proxy replica${servedEverywhere === 1 ? '' : 's'} of cluster "${rt.model.cluster}" (the cluster's newest configuration, for other changes, is not everywhere yet${why})`);
  }
  // The cluster's new config cannot go out at all: say why here too, not only on the cluster.
  if (rt.invalid !== undefined) return condition('Programmed', 'False', 'Invalid', `cluster "${rt.model.cluster}" keeps its last good configuration: ${rt.invalid}`);
  if (rt.failed !== undefined) return condition('Programmed', 'False', rt.failed.reason, `cluster "${rt.model.cluster}": ${rt.failed.message}`);
  if (rejected !== undefined) return condition('Programmed', 'False', 'Invalid', `cluster "${rt.model.cluster}": ${rejected}`);
  if (status.conditions.some((c) => c.type === 'Programmed' && c.reason === 'AgentsDisconnected')) {
    return condition('Programmed', 'Unknown', 'AgentsDisconnected', `${status.current}/${status.running} proxy replicas of cluster "${rt.model.cluster}" serve the current config; the agents of ${replicaList(status.disconnected)} are not connected to the core`);
  }
  // No proxy runs at all: say why the cluster is not ready (e.g. Swarm finds no node for its tasks).
  const ready = status.conditions.find((c) => c.type === 'Ready');
  if (status.running === 0 && ready !== undefined && ready.status === 'False' && ready.reason !== 'Pending') {
    return condition('Programmed', 'False', 'Pending', `no proxy replica of cluster "${rt.model.cluster}" runs: it is not Ready (${ready.reason}: ${ready.message})`);
  }
  return condition('Programmed', 'False', 'Pending', `waiting for the proxies of cluster "${rt.model.cluster}" (${status.current}/${status.running} on the current config)`);
}

/**
 * How many replicas serve `routeKey` when every running replica is known to serve it; undefined when
 * one does not, or when what one serves is unknown (then the cluster's own state decides). An invalid
 * or undelivered config leaves the old one in place, which is fine for a route it contains.
 */
function servingReplicas(routeKey: string, rt: ClusterRuntime, status: ClusterStatus): number | undefined {
  const served = rt.servedRoutes;
  if (served === undefined || status.running === 0 || status.runningIds === undefined) return undefined;
  if (status.runningIds.length !== status.running) return undefined;
  return status.runningIds.every((id) => served.get(id)?.has(routeKey) === true) ? status.running : undefined;
}
