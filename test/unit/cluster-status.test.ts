/** The Programmed condition of a hitless cluster when a replica rejects the delivered config. */
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
