/** The Programmed condition of a hitless cluster when a replica rejects the delivered config, or its agent is not connected; Ready from Swarm's task errors. */
import { describe, expect, it } from 'vitest';
import type { TaskInfo } from '../../src/observed/docker-port';
import { buildModel } from '../../src/plan/build-model';
import { clusterStatus, routeProgrammed, taskProblem, type ClusterRuntime } from '../../src/status/cluster-status';
import { desired, route, snapshot, task } from '../helpers/specs';

const tlsRoute = route('shop', { hosts: ['shop.test'], tls: { mode: 'Terminate', certificate: { certSecret: 'shop-v2.crt', keySecret: 'shop-v2.key' } }, rules: [{ backends: [{ service: 'web', port: 80 }] }] });
const snap = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: [task('web', '10.0.0.5')], networks: [{ name: 'app' }], secrets: [{ name: 'shop-v2.crt' }, { name: 'shop-v2.key' }] });
const model = buildModel(desired([tlsRoute]), snap).clusters[0];

function proxyTask(id: string, secrets: readonly string[]): TaskInfo {
  return { ID: id, ServiceID: 'svc', DesiredState: 'running', Status: { State: 'running' }, Spec: { ContainerSpec: { Secrets: secrets.map((s) => ({ SecretID: s, SecretName: s })) } } };
}

function runtime(): ClusterRuntime {
  if (model === undefined) throw new Error('no model');
  return {
    model,
    serviceId: 'svc',
    expectedReplicas: 1,
    hitless: { configHash: 'new', reports: [{ replicaId: 't1', appliedHash: 'old', lastValidation: { ok: false, output: 'cannot load certificate "/run/secrets/shop-v2.crt"' } }] },
  };
}

describe('clusterStatus with a rejected hitless config', () => {
  it('is Invalid when the replica mounts every secret the config needs', () => {
    const st = clusterStatus(runtime(), [proxyTask('t1', ['shop-v2.crt', 'shop-v2.key'])]);
    expect(st.conditions.find((c) => c.type === 'Programmed')).toMatchObject({ status: 'False', reason: 'Invalid' });
  });

  it('is Pending while the replica still lacks a secret the rolling update is adding', () => {
    const st = clusterStatus(runtime(), [proxyTask('t1', ['shop-v1.crt', 'shop-v1.key'])]);
    const c = st.conditions.find((x) => x.type === 'Programmed');
    expect(c).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(c?.message).toContain('being replaced to mount secret shop-v2.crt, shop-v2.key');
  });
});

describe('clusterStatus with agents that are not connected', () => {
  const rt = (connected: readonly string[], reports: { replicaId: string; appliedHash: string }[] = []): ClusterRuntime => {
    if (model === undefined) throw new Error('no model');
    return { model, serviceId: 'svc', expectedReplicas: 2, hitless: { configHash: 'new', reports, connected: new Set(connected) } };
  };
  const tasks = [proxyTask('t1', ['shop-v2.crt', 'shop-v2.key']), proxyTask('t2', ['shop-v2.crt', 'shop-v2.key'])];
  const programmed = (r: ClusterRuntime) => clusterStatus(r, tasks).conditions.find((c) => c.type === 'Programmed');

  it('is Unknown, AgentsDisconnected, naming the replicas nobody can hear', () => {
    const c = programmed(rt(['t2'], [{ replicaId: 't1', appliedHash: 'old' }]));
    expect(c).toMatchObject({ status: 'Unknown', reason: 'AgentsDisconnected' });
    expect(c?.message).toContain('0/2 running proxies serve');
    expect(c?.message).toContain('the agents of replica t1 are not connected to the core');
    expect(clusterStatus(rt([]), tasks).disconnected).toEqual(['t1', 't2']);
  });

  it('counts a replica that reported the current config before it was cut off, and is Pending when every laggard is connected', () => {
    expect(programmed(rt([], [{ replicaId: 't1', appliedHash: 'new' }, { replicaId: 't2', appliedHash: 'new' }]))).toMatchObject({ status: 'True', reason: 'Programmed' });
    expect(programmed(rt(['t1', 't2'], [{ replicaId: 't1', appliedHash: 'new' }]))).toMatchObject({ status: 'False', reason: 'Pending' });
  });

  it('keeps Pending when connections are not tracked', () => {
    if (model === undefined) throw new Error('no model');
    expect(programmed({ model, serviceId: 'svc', expectedReplicas: 2, hitless: { configHash: 'new', reports: [] } })).toMatchObject({ status: 'False', reason: 'Pending' });
  });
});

describe('taskProblem: why the slots without a serving proxy task do not run', () => {
  const t = (id: string, slot: number, state: string, at: number, err?: string, desired = 'running'): TaskInfo => ({
    ID: id,
    ServiceID: 'svc',
    Slot: slot,
    DesiredState: desired,
    Status: { State: state, Timestamp: new Date(at * 1000).toISOString(), ...(err !== undefined ? { Err: err } : {}) },
  });

  it('is Unschedulable for a pending task with a scheduler error, TasksFailing for a rejected one; the newest wins', () => {
    const pending = t('p', 2, 'pending', 5, 'no suitable node (host-mode port already in use on 1 node)');
    const rejected = t('r', 3, 'rejected', 4, 'No such image: x', 'shutdown');
    expect(taskProblem([pending, rejected])).toMatchObject({ reason: 'Unschedulable', task: { ID: 'p' } });
    expect(taskProblem([{ ...pending, Status: { ...pending.Status, Timestamp: new Date(1000).toISOString() } }, rejected])).toMatchObject({ reason: 'TasksFailing', task: { ID: 'r' } });
  });

  it('looks through the next attempt on its way, but not past a task that ended without error or a slot that serves', () => {
    expect(taskProblem([t('a', 1, 'failed', 1, 'task: non-zero exit (1)', 'shutdown'), t('b', 1, 'starting', 2)])).toMatchObject({ reason: 'TasksFailing' });
    expect(taskProblem([t('a', 1, 'failed', 1, 'task: non-zero exit (1)', 'shutdown'), t('b', 1, 'shutdown', 2, undefined, 'shutdown'), t('c', 1, 'starting', 3)])).toBeUndefined();
    expect(taskProblem([t('a', 1, 'failed', 1, 'task: non-zero exit (1)', 'shutdown'), t('b', 1, 'running', 2)])).toBeUndefined();
    expect(taskProblem([t('a', 1, 'pending', 1)])).toBeUndefined();
  });

  it('orders by time, not text: Swarm trims trailing zeros of the fraction', () => {
    const at = (x: TaskInfo, ts: string): TaskInfo => ({ ...x, Status: { ...x.Status, Timestamp: ts } });
    const older = at(t('old', 1, 'failed', 0, 'task: non-zero exit (1)', 'shutdown'), '2026-12-06T12:01:03Z');
    const newer = at(t('new', 1, 'shutdown', 0, undefined, 'shutdown'), '2026-12-06T12:01:03.5Z');
    expect(taskProblem([older, newer])).toBeUndefined();
  });
});

describe('routeProgrammed while the cluster moves to a newer config', () => {
  const rt = (servedRoutes?: ReadonlyMap<string, ReadonlySet<string>>, invalid?: string): ClusterRuntime => {
    if (model === undefined) throw new Error('no model');
    return { model, serviceId: 'svc', expectedReplicas: 2, hitless: { configHash: 'new', reports: [{ replicaId: 't1', appliedHash: 'old' }, { replicaId: 't2', appliedHash: 'new' }] }, ...(servedRoutes !== undefined ? { servedRoutes } : {}), ...(invalid !== undefined ? { invalid } : {}) };
  };
  const tasks = [proxyTask('t1', ['shop-v2.crt', 'shop-v2.key']), proxyTask('t2', ['shop-v2.crt', 'shop-v2.key'])];
  const generation = tlsRoute.metadata.name === 'shop' ? (model?.routes.find((r) => r.name === 'shop')?.generation ?? 0) : 0;
  const programmed = (r: ClusterRuntime) => routeProgrammed('shop', generation, r, clusterStatus(r, tasks));

  it('stays True when every running replica serves a config with its generation (a backend task change elsewhere)', () => {
    const both = new Map([['t1', new Set([`shop@${generation}`, 'blog@1'])], ['t2', new Set([`shop@${generation}`, 'blog@2'])]]);
    const c = programmed(rt(both));
    expect(c).toMatchObject({ status: 'True', reason: 'Programmed' });
    expect(c.message).toContain('served by 2 proxy replicas');
    // The newest config being refused for another route's sake does not take this one down either.
    expect(programmed(rt(both, 'nginx: [emerg] … in blog'))).toMatchObject({ status: 'True', reason: 'Programmed' });
  });

  it("is Invalid with the replica's reason when a replica's own check refused the config that adds it; True, with the reason, where an older config serves it", () => {
    if (model === undefined) throw new Error('no model');
    const refused = 'TLS certificate check: the key /run/secrets/shop-v2.key does not belong to the certificate /run/secrets/shop-v2.crt (served for shop.test)';
    const r: ClusterRuntime = { model, serviceId: 'svc', expectedReplicas: 1, hitless: { configHash: 'new', reports: [{ replicaId: 't1', appliedHash: 'old', lastValidation: { ok: false, output: refused } }] } };
    const one = [proxyTask('t1', ['shop-v2.crt', 'shop-v2.key'])];
    const c = routeProgrammed('shop', generation, r, clusterStatus(r, one));
    expect(c).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(c.message).toBe(`cluster "default": replica t1 rejected config new (hitless) and keeps the last good one: ${refused}`);
    const served = routeProgrammed('shop', generation, { ...r, servedRoutes: new Map([['t1', new Set([`shop@${generation}`])]]) }, clusterStatus(r, one));
    expect(served).toMatchObject({ status: 'True', reason: 'Programmed' });
    expect(served.message).toContain(`Invalid: replica t1 rejected config new (hitless) and keeps the last good one: ${refused}`);
  });

  it('is Pending when one replica serves an older generation of it, or what a replica serves is unknown', () => {
    const stale = new Map([['t1', new Set([`shop@${generation - 1}`])], ['t2', new Set([`shop@${generation}`])]]);
    expect(programmed(rt(stale))).toMatchObject({ status: 'False', reason: 'Pending' });
    const unknown = new Map([['t2', new Set([`shop@${generation}`])]]);
    expect(programmed(rt(unknown))).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(programmed(rt())).toMatchObject({ status: 'False', reason: 'Pending' });
  });
});
