/** The Programmed condition of a hitless cluster when a replica rejects the delivered config, or its agent is not connected. */
import { describe, expect, it } from 'vitest';
import type { TaskInfo } from '../../src/observed/docker-port';
import { buildModel } from '../../src/plan/build-model';
import { clusterStatus, type ClusterRuntime } from '../../src/status/cluster-status';
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
