/**
 * bench-scale's inputs: the bench mix (inputs.ts) with two equal-split routes — the one whose
 * upstreams the NGINX config declares first and the one it declares last — moved onto loopback
 * addresses a local backend answers on, plus the task and route changes the benchmark times.
 */
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import type { DesiredState, Stored } from '../../src/plan/inputs';
import { decodeObject, type ServiceClusterObject } from '../../src/domain/object';
import * as E from 'fp-ts/Either';
import type { RouteObject } from '../../src/domain/object';
import type { IpAddress, Snapshot, SnapshotTask } from '../../src/domain/snapshot';
import type { Kind } from './local-proxy';
import { BACKEND_PORT, generateInputs, mustDecodeRoute, type GeneratedInputs } from './inputs';

export interface ProbeRoute {
  readonly index: number;
  readonly host: string;
  /** Loopback addresses of its running tasks (blue then green). */
  readonly ips: readonly string[];
}

export interface ScaleInputs {
  readonly inputs: GeneratedInputs;
  readonly first: ProbeRoute;
  readonly last: ProbeRoute;
  /** The address the added task of the first task change gets (a task of the last route's first service); taskIp(k) for the k-th. */
  readonly newTaskIp: string;
  /** Every loopback address a backend must answer on. */
  readonly backendIps: readonly string[];
}

/** The default cluster's model, for `kind`'s proxy. */
export function clusterModel(inputs: Pick<GeneratedInputs, 'desired' | 'snapshot'>, kind: Kind): ProxyModel {
  const m = buildModel(inputs.desired, inputs.snapshot).clusters.find((c) => c.cluster === 'default');
  if (m === undefined) throw new Error('no default cluster');
  return kind === 'nginx' ? m : { ...m, spec: { ...m.spec, proxy: { ...m.spec.proxy, kind } } };
}

const SPLIT_SERVICE = /^app-(\d+)-(blue|green)$/;

function relocate(snapshot: Snapshot, index: number, subnet: number): { snapshot: Snapshot; ips: string[] } {
  const ips: string[] = [];
  let n = 0;
  const tasks = snapshot.tasks.map((t): SnapshotTask => {
    if (t.service !== `app-${index}-blue` && t.service !== `app-${index}-green`) return t;
    if (t.state !== 'running') return t;
    n++;
    const ip = `127.0.${subnet}.${n}`;
    ips.push(ip);
    return { ...t, addresses: t.addresses.map((a) => ({ ...a, ip: ip as IpAddress })) };
  });
  return { snapshot: { ...snapshot, tasks }, ips };
}

/** The k-th task change's new task address (k ≥ 1): 127.0.2.200, .201, … */
export function taskIp(k: number): string {
  return `127.0.2.${199 + k}`;
}

/** `taskChanges` task changes (SCALE_TASK_RUNS) each need their own backend address. */
export function scaleInputs(routes: number, taskChanges = 1): ScaleInputs {
  const base = generateInputs(routes, { kind: 'per-route' });
  const upstreams = clusterModel(base, 'nginx').upstreams;
  // A route that redirects plain HTTP to HTTPS answers 308 on the port the benchmark probes: not a probe route.
  const redirecting = new Set<string>(base.desired.routes.filter((r) => r.object.spec.tls?.mode === 'Terminate' && r.object.spec.tls.redirectHTTP === true).map((r) => r.object.metadata.name));
  const routeOf = (u: (typeof upstreams)[number]): number | undefined => {
    const m = SPLIT_SERVICE.exec(u.service);
    return m === null || redirecting.has(`app-${m[1]}`) ? undefined : Number(m[1]);
  };
  const firstIndex = upstreams.map(routeOf).find((x) => x !== undefined);
  const lastIndex = [...upstreams].reverse().map(routeOf).find((x) => x !== undefined);
  if (firstIndex === undefined || lastIndex === undefined || firstIndex === lastIndex) throw new Error('need two equal-split routes');
  const a = relocate(base.snapshot, firstIndex, 1);
  const b = relocate(a.snapshot, lastIndex, 2);
  const newTaskIp = taskIp(1);
  return {
    inputs: { ...base, snapshot: b.snapshot },
    first: { index: firstIndex, host: `app-${firstIndex}.example.com`, ips: a.ips },
    last: { index: lastIndex, host: `app-${lastIndex}.example.com`, ips: b.ips },
    newTaskIp,
    backendIps: [...a.ips, ...b.ips, ...Array.from({ length: Math.max(1, taskChanges) }, (_, i) => taskIp(i + 1))],
  };
}

/**
 * The snapshot with one more running task of the last probe route's first service, at taskIp(k): the
 * k-th task change replaces the (k-1)-th's added task with a new one (one removed, one added).
 */
export function withAddedTask(s: ScaleInputs, snapshot: Snapshot, k = 1): Snapshot {
  const service = `app-${s.last.index}-blue`;
  const model = snapshot.tasks.find((t) => t.service === service && t.state === 'running');
  if (model === undefined) throw new Error(`no running task of ${service}`);
  const added: SnapshotTask = { ...model, id: `tbenchscaleadded${String(k).padStart(11, '0')}` as SnapshotTask['id'], slot: 99, addresses: model.addresses.map((a) => ({ ...a, ip: taskIp(k) as IpAddress })) };
  return { ...snapshot, tasks: [...snapshot.tasks, added] };
}

/** A new route (declared last by name) on the last probe route's services. */
export function probeRoute(s: ScaleInputs, n: number): Stored<RouteObject> {
  const object = mustDecodeRoute({
    apiVersion: 'swarmgate.io/v1',
    kind: 'Route',
    metadata: { name: `zz-probe-${n}` },
    spec: { hosts: [`zz-probe-${n}.example.com`], rules: [{ backends: [{ service: `app-${s.last.index}-blue`, port: BACKEND_PORT }] }] },
  });
  return { object, generation: 1, createdAt: new Date(Date.UTC(2026, 0, 1) + n).toISOString() };
}

/**
 * SCALE_MODE=dynamic: the specs with the default cluster declared as NGINX (or HAProxy), hitless, `endpoints:
 * Dynamic`, so that the core's own pipeline (renderCluster) renders endpoint lines, as in a real core.
 * `Static` pins the other layout (Dynamic is the default for hitless clusters since ADR 0039).
 */
export function withDynamicDefault(desired: DesiredState, kind: 'nginx' | 'haproxy' = 'nginx', endpoints: 'Static' | 'Dynamic' = 'Dynamic'): DesiredState {
  const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'ServiceCluster', metadata: { name: 'default' }, spec: { proxy: { kind, delivery: 'hitless', endpoints } } });
  if (E.isLeft(r) || r.right.kind !== 'ServiceCluster') throw new Error('the dynamic default cluster does not decode');
  const object: ServiceClusterObject = r.right;
  return { ...desired, clusters: [...desired.clusters.filter((c) => c.object.metadata.name !== 'default'), { object, generation: 1 }] };
}
