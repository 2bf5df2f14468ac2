/**
 * Component identities in the core run (ADR 0012), over the in-memory Docker fake with a real CA:
 * each cluster's proxy service mounts the CA and its own agent identity (never another cluster's,
 * never the CA key or the core's pair), the extension its own extension identity; the API accepts
 * exactly the current identities and knows which tasks belong to which cluster; a removed
 * cluster's identity is revoked at once and its secrets removed once unused.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/api/control-plane';
import { generateTlsMaterial } from '../../src/api/tls';
import { createTlsSet } from '../../src/apply/tls-secrets';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { identitySecrets } from '../../src/plan/identity-secrets';
import type { TlsSet } from '../../src/plan/tls-sets';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
const material = generateTlsMaterial(1);
let docker: FakeDocker;
let plane: ControlPlane;
let set: TlsSet;

const hitless = (name: string, port: number) => cluster(name, { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: port, https: port + 1 } } });

function newRun(extensionImage?: string): CoreRun {
  return new CoreRun(docker, quiet, {
    plane,
    agents: { coreAddress: 'swarmgate-core:50051', controlNetwork: 'swarmgate-control', insecure: false, tlsSet: set.id },
    identities: { ca: { cert: material.ca, key: material.caKey }, set: set.id },
    ...(extensionImage !== undefined ? { extensionImage } : {}),
  });
}

function mounts(service: string): { file: string; id: string }[] {
  return (docker.service(service)?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((s) => ({ file: s.File.Name, id: s.SecretID }));
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  docker.addNetwork('swarmgate-control');
  plane = new ControlPlane();
  set = await createTlsSet(docker, material);
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 1);
  await applyObject(docker, hitless('edge', 18080));
  await applyObject(docker, hitless('west', 19080));
  for (const c of ['edge', 'west']) await applyObject(docker, route(`web-${c}`, { serviceCluster: c, hosts: [`${c}.test`], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
});

describe('component identities in the core run', () => {
  it('mounts each cluster\'s own agent identity and the CA into its proxies, nothing else of the TLS set', async () => {
    await newRun().run(1);
    const ids = identitySecrets(await docker.listSecrets());
    const edge = ids.get(`${set.id}/agent/edge`);
    const west = ids.get(`${set.id}/agent/west`);
    expect(edge).toBeDefined();
    expect(west).toBeDefined();
    expect(edge?.fingerprint).not.toBe(west?.fingerprint);
    expect(mounts('sg-proxy-edge')).toEqual([
      { file: 'swarmgate-ca.crt', id: set.ca.id },
      { file: 'swarmgate-client.crt', id: edge?.cert.id },
      { file: 'swarmgate-client.key', id: edge?.key.id },
    ]);
    expect(mounts('sg-proxy-west').map((m) => m.id)).toEqual([set.ca.id, west?.cert.id, west?.key.id]);
    // Secret names fit Docker's 64 characters whatever the cluster name.
    for (const s of await docker.listSecrets()) expect(s.Spec.Name.length).toBeLessThanOrEqual(64);
  });

  it('accepts exactly the current identities and knows which cluster each proxy task belongs to', async () => {
    const run = newRun();
    await run.run(1);
    const [edgeTask = ''] = docker.addTasks('sg-proxy-edge', 1);
    const [westTask = ''] = docker.addTasks('sg-proxy-west', 1);
    await run.run(2);
    expect(plane.replicaCluster(edgeTask)).toBe('edge');
    expect(plane.replicaCluster(westTask)).toBe('west');
    // And where each task's agent calls from (its addresses, prefix length dropped): reports are bound to them.
    const attached = (await docker.listTasks()).find((t) => t.ID === edgeTask)?.NetworksAttachments?.flatMap((n) => n.Addresses ?? []) ?? [];
    expect(attached.length).toBeGreaterThan(0);
    expect(plane.replicaAddresses(edgeTask)).toEqual(attached.map((x) => x.split('/')[0]));
    const check = plane.identityCheck;
    const ids = identitySecrets(await docker.listSecrets());
    expect(check?.(ids.get(`${set.id}/agent/edge`)?.fingerprint ?? '')).toBe(true);
    expect(check?.('AB:CD')).toBe(false);
    // A second run issues nothing new: one identity per hitless cluster (the implicit default one too).
    expect([...identitySecrets(await docker.listSecrets()).keys()].sort()).toEqual(['default', 'edge', 'west'].map((c) => `${set.id}/agent/${c}`));
  });

  it('issues the extension of each cluster its own identity and mounts it into its extension service only', async () => {
    await newRun('swarmgate/swarmgate:latest').run(1);
    const ids = identitySecrets(await docker.listSecrets());
    const ext = ids.get(`${set.id}/extension/edge`);
    expect(mounts('sg-extension-edge').map((m) => m.id)).toEqual([set.ca.id, ext?.cert.id, ext?.key.id]);
    expect(mounts('sg-proxy-edge').map((m) => m.id)).not.toContain(ext?.cert.id);
  });

  it('replaces half a pair left by a run that died between its two writes', async () => {
    const run = newRun();
    await run.run(1);
    const west = identitySecrets(await docker.listSecrets()).get(`${set.id}/agent/west`);
    await docker.removeService(docker.service('sg-proxy-west')?.ID ?? '');
    await docker.removeSecret(west?.key.id ?? '');
    await run.run(2);
    const again = identitySecrets(await docker.listSecrets()).get(`${set.id}/agent/west`);
    expect(again?.fingerprint).not.toBe(west?.fingerprint);
    expect(mounts('sg-proxy-west').map((m) => m.id)).toEqual([set.ca.id, again?.cert.id, again?.key.id]);
  });

  it('revokes a removed cluster\'s identity at once and removes its secrets once unused', async () => {
    const run = newRun();
    await run.run(1);
    const west = identitySecrets(await docker.listSecrets()).get(`${set.id}/agent/west`);
    await deleteObject(docker, 'ServiceCluster', 'west');
    await run.run(2);
    expect(plane.identityCheck?.(west?.fingerprint ?? '')).toBe(false);
    await run.run(3);
    const left = [...identitySecrets(await docker.listSecrets()).keys()].sort();
    expect(left).toEqual([`${set.id}/agent/default`, `${set.id}/agent/edge`]);
    expect((await docker.listSecrets()).some((s) => s.Spec.Labels?.[LABELS.cluster] === 'west')).toBe(false);
  });

  describe('after rotate-certs (ADR 0019)', () => {
    const next = generateTlsMaterial(1);
    let newSet: TlsSet;
    const rotatedRun = (previous: string | undefined): CoreRun =>
      new CoreRun(docker, quiet, {
        plane,
        agents: { coreAddress: 'swarmgate-core:50051', controlNetwork: 'swarmgate-control', insecure: false, tlsSet: newSet.id, ...(previous !== undefined ? { previousTlsSet: previous } : {}) },
        identities: { ca: { cert: next.ca, key: next.caKey }, set: newSet.id, ...(previous !== undefined ? { previousSet: previous } : {}) },
      });

    beforeEach(async () => {
      await newRun().run(1);
      newSet = await createTlsSet(docker, next);
    });

    it('keeps each proxy service\'s mounts, accepts the mounted previous identity, and hands agents their new one', async () => {
      const before = docker.service('sg-proxy-edge');
      const old = identitySecrets(await docker.listSecrets()).get(`${set.id}/agent/edge`);
      await rotatedRun(set.id).run(2);
      const edge = docker.service('sg-proxy-edge');
      // No update at all: the tasks keep running.
      expect(edge?.Version.Index).toBe(before?.Version.Index);
      expect(mounts('sg-proxy-edge').map((m) => m.id)).toEqual([set.ca.id, old?.cert.id, old?.key.id]);
      const current = identitySecrets(await docker.listSecrets()).get(`${newSet.id}/agent/edge`);
      expect(current).toBeDefined();
      expect(plane.identityCheck?.(old?.fingerprint ?? '')).toBe(true);
      expect(plane.identityCheck?.(current?.fingerprint ?? '')).toBe(true);
      // An agent connected with the old pair is handed exactly the new identity's pair; one on the new pair gets nothing.
      const handed = plane.identityFor('agent', 'edge', old?.fingerprint ?? '');
      expect(handed?.fingerprint).toBe(current?.fingerprint);
      expect(handed?.ca).toBe(next.ca);
      expect(plane.identityFor('agent', 'edge', current?.fingerprint ?? '')).toBeUndefined();
      expect(plane.identityFor('agent', 'west', old?.fingerprint ?? '')?.fingerprint).not.toBe(current?.fingerprint);
    });

    it('moves a service to the new mounts only with a change that restarts its tasks anyway, and then drops the old identity', async () => {
      const run = rotatedRun(set.id);
      await run.run(2);
      const old = identitySecrets(await docker.listSecrets()).get(`${set.id}/agent/edge`);
      await applyObject(docker, cluster('edge', { proxy: { replicas: 2, delivery: 'hitless', publish: { mode: 'host', http: 18080, https: 18081 }, resources: { limits: { memory: '256M' } } } }));
      await run.run(3);
      const current = identitySecrets(await docker.listSecrets()).get(`${newSet.id}/agent/edge`);
      expect(mounts('sg-proxy-edge').map((m) => m.id)).toEqual([newSet.ca.id, current?.cert.id, current?.key.id]);
      await run.run(4);
      expect(plane.identityCheck?.(old?.fingerprint ?? '')).toBe(false);
      expect(identitySecrets(await docker.listSecrets()).has(`${set.id}/agent/edge`)).toBe(false);
      // west was not changed: it keeps the previous identity, still accepted.
      expect(identitySecrets(await docker.listSecrets()).has(`${set.id}/agent/west`)).toBe(true);
    });

    it('with --revoke-previous (no previous set), moves every proxy to the new mounts and refuses the old identity', async () => {
      const old = identitySecrets(await docker.listSecrets()).get(`${set.id}/agent/edge`);
      await rotatedRun(undefined).run(2);
      const current = identitySecrets(await docker.listSecrets()).get(`${newSet.id}/agent/edge`);
      expect(mounts('sg-proxy-edge').map((m) => m.id)).toEqual([newSet.ca.id, current?.cert.id, current?.key.id]);
      expect(plane.identityCheck?.(old?.fingerprint ?? '')).toBe(false);
    });
  });
});
