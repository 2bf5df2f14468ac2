/**
 * The task fast path (ADR 0030): when nothing but Swarm tasks changed since the last full pipeline
 * run, the new output is the last one with the servers of the touched upstreams recomputed — no
 * model build, and for dynamic-endpoint clusters no render: the main file keeps its bytes (so no
 * reload and no new validation) and only the endpoint lines change.
 *
 * Why this equals a full run (the property test test/property/task-refresh-properties.test.ts checks it):
 * - Every input of the pipeline other than `snapshot.tasks` is compared (sameData) with the last
 *   run's: specs, the rest of the snapshot, rollout weights, ACME certificates, rollbacks, the render
 *   flag, and `now` through the only thing the model reads from it (each certificate's expiry state).
 * - The model reads tasks only through indexSnapshot's `runningAddresses` and `runningTasks`
 *   (resolve-backends.ts). `runningTasks` is read for `mode: host` backends only, whose resolution
 *   (servers and the PortNotExposed problem) depends on task ports and nodes: a changed service that
 *   publishes host-mode ports takes the full path. `runningAddresses` gives task-mode servers, through
 *   taskServers, which this module calls with the upstream's own service, network, port and health.
 * - Beyond the servers themselves, the model depends on them only through whether an upstream has servers
 *   at all (a target without servers is dropped): a change of that takes the full path. Pools (`split: Tasks`)
 *   take it too: their servers are a union over member upstreams the model does not name.
 * - Conditions depend on tasks only through the host-mode problem above, so they are kept.
 * - Files: renderCluster(model) reads servers of `dynamicUpstreams` only into the endpoint lines
 *   (withEndpointServers rewrites those); any other touched upstream's cluster is rendered again from
 *   the refreshed model (a Static cluster's config holds the addresses). A rolled-back cluster ships
 *   the stored revision's text, which no task changes.
 * - The index of the new tasks is the last run's with only the services the observer noted as changed
 *   re-indexed (ADR 0047); the observer guarantees every other task is the same object, in the same
 *   order (test/property/snapshot-converter-properties.test.ts). Without its note every task is indexed.
 */
import type { Snapshot } from '../domain/snapshot';
import { servicesChangedSince } from '../domain/task-changes';
import { renderCluster, withEndpointServers } from '../render/render-cluster';
import { expiryState } from './certificates';
import type { Upstream } from './model';
import type { ClusterConfig, DesiredConfig, PipelineInputs } from './pipeline';
import { indexTasks, serverHealth, sortServers, taskServers, type TaskIndex } from './resolve-backends';
import { OverlayMap } from './overlay-map';
import { sameData, sameDataExcept } from './same-data';

/** A pipeline run kept for the next one: its inputs, its snapshot's tasks as the model reads them, and its output. */
export interface PipelineRun {
  readonly inputs: PipelineInputs;
  readonly index: TaskIndex;
  readonly output: DesiredConfig;
}

export type Refresh =
  | { readonly kind: 'refreshed'; readonly output: DesiredConfig; readonly index: TaskIndex; readonly upstreams: number; readonly rendered: readonly string[] }
  /** The full pipeline must run; `reason` says why (logged, and asserted by tests). */
  | { readonly kind: 'full'; readonly reason: string };

const full = (reason: string): Refresh => ({ kind: 'full', reason });

/** Every expiry state the model could judge at `now` (undefined without `now`: none is judged). */
function expiryStates(snapshot: Snapshot, now: Date | undefined): unknown {
  if (now === undefined) return undefined;
  return snapshot.secrets.map((s) => (s.certificate?.notAfter === undefined ? undefined : expiryState(s.certificate.notAfter, now)));
}

/**
 * The snapshots are equal but for what only task churn changes: its tasks, and each service's `replicas` (a
 * scale changes it together with the tasks). The pipeline never reads `replicas` (the property test
 * varies it between the two snapshots it compares).
 */
function sameButTasks(a: Snapshot, b: Snapshot): boolean {
  const { tasks: _ta, services: sa, ...ra } = a;
  const { tasks: _tb, services: sb, ...rb } = b;
  // The observer hands over the last run's list itself when no service changed (ADR 0047).
  return sameData(ra, rb) && (sa === sb || (sa.length === sb.length && sa.every((x, i) => sameDataExcept(x, sb[i], REPLICAS))));
}
const REPLICAS = new Set(['replicas']);

/** Which pipeline input other than the snapshot's tasks differs, or undefined when none does. */
export function changedInput(before: PipelineInputs, after: PipelineInputs): string | undefined {
  if (!sameData(before.specs, after.specs)) return 'specs';
  if (!sameButTasks(before.snapshot, after.snapshot)) return 'snapshot (other than tasks)';
  if (!sameData(expiryStates(before.snapshot, before.now), expiryStates(after.snapshot, after.now))) return 'certificate expiry';
  if (!sameData(before.rollouts, after.rollouts)) return 'rollout weights';
  if (!sameData(before.acme, after.acme)) return 'ACME certificates';
  if (!sameData(before.rollbacks, after.rollbacks)) return 'rollbacks';
  if ((before.render ?? true) !== (after.render ?? true)) return 'render flag';
  return undefined;
}

/** Equal lists of task address lists (what runningAddresses holds per service). */
function sameAddresses(a: AddressLists | undefined, b: AddressLists | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? [];
    const y = b[i] ?? [];
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j]?.network !== y[j]?.network || x[j]?.ip !== y[j]?.ip) return false;
  }
  return true;
}
type AddressLists = readonly (readonly { network: string; ip: string }[])[];

/**
 * Services whose running tasks differ between two indexes in what the model reads: their addresses
 * (task mode), or — for a service that publishes host-mode ports, itself or through a task — anything
 * of the tasks (host mode reads ports and nodes; such a change then takes the full path). Only
 * `among` are looked at when given: the services whose tasks the observer says changed (ADR 0047).
 */
function changedServices(before: TaskIndex, after: TaskIndex, hostPorts: (service: string) => boolean, among?: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const look = (service: string): void => {
    const was = before.runningTasks.get(service);
    const is = after.runningTasks.get(service);
    if (was === is) return;
    if (is === undefined) out.add(service);
    else if (!sameAddresses(before.runningAddresses.get(service), after.runningAddresses.get(service))) out.add(service);
    else if (hostPorts(service) && !sameData(was, is)) out.add(service);
  };
  if (among !== undefined) for (const service of among) look(service);
  else {
    for (const service of after.runningTasks.keys()) look(service);
    for (const service of before.runningTasks.keys()) if (!after.runningTasks.has(service)) out.add(service);
  }
  return out;
}

/** Per services list (the observer keeps the list while no service changes): the services that publish host-mode ports. */
const HOST_PORTS = new WeakMap<readonly Snapshot['services'][number][], ReadonlySet<string>>();

/** Whether a service publishes host-mode ports, itself or through a running task of either index. */
function hostPortsOf(snapshot: Snapshot, before: TaskIndex, after: TaskIndex): (service: string) => boolean {
  let own = HOST_PORTS.get(snapshot.services);
  if (own === undefined) {
    own = new Set<string>(snapshot.services.filter((s) => s.ports.some((p) => p.mode === 'host')).map((s) => s.name));
    HOST_PORTS.set(snapshot.services, own);
  }
  const mine = own;
  const byTasks = (idx: TaskIndex, service: string): boolean => (idx.runningTasks.get(service) ?? []).some((t) => t.ports.some((p) => p.mode === 'host'));
  return (service) => mine.has(service) || byTasks(before, service) || byTasks(after, service);
}

/**
 * The task index of `tasks`, from the last run's when the observer says which services' tasks changed
 * since the last run's list (ADR 0047): only those are indexed again, the rest is the last index's
 * (the same arrays). The services it re-indexed come with it; without the observer's word, every task
 * is indexed.
 */
export function tasksIndexFrom(last: Pick<PipelineRun, 'index'> & { readonly tasks: Snapshot['tasks'] }, tasks: Snapshot['tasks']): { index: TaskIndex; among?: Iterable<string> } {
  const changed = servicesChangedSince(tasks, last.tasks);
  if (changed === undefined) return { index: indexTasks(tasks) };
  if (changed.size === 0) return { index: last.index, among: [] };
  const fresh = indexTasks([...changed.values()].flat());
  // The last index's maps with the changed services' entries replaced, not copied (overlay-map.ts).
  const gone = [...changed.keys()].filter((s) => !fresh.runningTasks.has(s));
  const runningAddresses = OverlayMap.of(last.index.runningAddresses, fresh.runningAddresses, gone);
  const runningTasks = OverlayMap.of(last.index.runningTasks, fresh.runningTasks, gone);
  return { index: { runningAddresses, runningTasks }, among: [...changed.keys()] };
}

/** The upstream with its servers as indexSnapshot(after) resolves them, or a reason for the full path. */
function refreshed(u: Upstream, after: TaskIndex): Upstream | string {
  if (u.members !== undefined) return `pooled upstream ${u.name} (split: Tasks)`;
  if (u.mode === 'vip') return u;
  if (u.mode !== 'task' || u.network === undefined) return `upstream ${u.name} in mode ${u.mode}`;
  const [first] = u.servers;
  // Without servers before, the health settings are not known here; none now either means no change.
  if (first === undefined) return (after.runningAddresses.get(u.service) ?? []).some((addrs) => addrs.some((a) => a.network === u.network)) ? `upstream ${u.name} gained its first server` : u;
  const servers = sortServers(taskServers(u.service, u.network, u.port, serverHealth(first), after));
  if (servers.length === 0) return `upstream ${u.name} lost its last server`;
  return sameData(servers, u.servers) ? u : { ...u, servers };
}

/** Positions of a model's upstreams (HTTP, stream) by the services they read (their own, and a pool's members). */
interface UpstreamPositions {
  readonly http: ReadonlyMap<string, readonly number[]>;
  readonly stream: ReadonlyMap<string, readonly number[]>;
}

function positionsOf(list: readonly Upstream[] | undefined): Map<string, number[]> {
  const out = new Map<string, number[]>();
  (list ?? []).forEach((u, i) => {
    for (const s of u.members === undefined ? [u.service] : [u.service, ...u.members]) {
      const at = out.get(s);
      if (at === undefined) out.set(s, [i]);
      else if (at[at.length - 1] !== i) at.push(i);
    }
  });
  return out;
}

/**
 * Per model object; a refreshed model inherits its source's (the fast path changes servers only, never
 * which upstream sits where or which services it reads), so a chain of task changes indexes the
 * upstreams once, and each change then visits only the touched ones (ADR 0038).
 */
const POSITIONS = new WeakMap<object, UpstreamPositions>();

function upstreamPositions(model: ClusterConfig['model']): UpstreamPositions {
  let p = POSITIONS.get(model);
  if (p === undefined) {
    p = { http: positionsOf(model.upstreams), stream: positionsOf(model.streamUpstreams) };
    POSITIONS.set(model, p);
  }
  return p;
}

/** The cluster's upstreams (HTTP and stream) refreshed for the changed services; the touched ones by list, in list order. */
function refreshCluster(c: ClusterConfig, services: ReadonlySet<string>, after: TaskIndex): { config: ClusterConfig; http: Upstream[]; stream: Upstream[] } | string {
  const positions = upstreamPositions(c.model);
  const http: Upstream[] = [];
  const stream: Upstream[] = [];
  const pass = (list: readonly Upstream[], at: ReadonlyMap<string, readonly number[]>, into: Upstream[]): readonly Upstream[] | string => {
    const touched = new Set<number>();
    for (const s of services) for (const i of at.get(s) ?? []) touched.add(i);
    let out: Upstream[] | undefined;
    for (const i of [...touched].sort((x, y) => x - y)) {
      const u = list[i];
      if (u === undefined) continue;
      const r = refreshed(u, after);
      if (typeof r === 'string') return r;
      if (r === u) continue;
      into.push(r);
      out ??= [...list];
      out[i] = r;
    }
    return out ?? list;
  };
  const upstreams = pass(c.model.upstreams, positions.http, http);
  if (typeof upstreams === 'string') return upstreams;
  const streamUpstreams = c.model.streamUpstreams === undefined ? undefined : pass(c.model.streamUpstreams, positions.stream, stream);
  if (typeof streamUpstreams === 'string') return streamUpstreams;
  if (http.length === 0 && stream.length === 0) return { config: c, http, stream };
  const model = { ...c.model, upstreams, ...(streamUpstreams !== undefined ? { streamUpstreams } : {}) };
  POSITIONS.set(model, positions);
  return { config: { ...c, model }, http, stream };
}

/**
 * The pipeline's output for `inputs` from the last full run, when only tasks changed and no upstream
 * gained its first server or lost its last; else why the full pipeline must run.
 */
export function refreshTasks(last: PipelineRun, inputs: PipelineInputs): Refresh {
  const changed = changedInput(last.inputs, inputs);
  if (changed !== undefined) return full(`${changed} changed`);
  const { index: after, among } = tasksIndexFrom({ index: last.index, tasks: last.inputs.snapshot.tasks }, inputs.snapshot.tasks);
  const hostPorts = hostPortsOf(inputs.snapshot, last.index, after);
  const services = changedServices(last.index, after, hostPorts, among);
  for (const s of services) if (hostPorts(s)) return full(`service ${s} publishes host-mode ports`);
  const clusters: ClusterConfig[] = [];
  const rendered: string[] = [];
  let upstreams = 0;
  for (const c of last.output.clusters) {
    const r = refreshCluster(c, services, after);
    if (typeof r === 'string') return full(r);
    upstreams += r.http.length + r.stream.length;
    const { config } = r;
    if (config === c || c.rolledBack !== undefined || c.files === undefined) {
      clusters.push(config);
      continue;
    }
    // Only endpoint lines change when every touched upstream is dynamic; otherwise the main file holds addresses.
    const files = r.stream.length === 0 ? withEndpointServers(c.files, r.http) : undefined;
    if (files === undefined) rendered.push(c.model.cluster);
    clusters.push({ ...config, files: files ?? renderCluster(config.model) });
  }
  const models = clusters.map((c) => c.model);
  const output: DesiredConfig = { ...last.output, result: { ...last.output.result, clusters: models }, clusters };
  return { kind: 'refreshed', output, index: after, upstreams, rendered };
}
