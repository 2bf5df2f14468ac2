/**
 * The executor of a Plan over the Docker fake, and the Docker error table it classifies with:
 * references to created IDs are bound before the write, a failed write ends its group only, removals
 * treat 404 as done and "in use" as deferred, and a failure remembered from an earlier run is not sent.
 */
import { describe, expect, it } from 'vitest';
import { executeGroup, executePlan } from '../../src/apply/execute-plan';
import { LABELS } from '../../src/domain/labels';
import { classifyDockerError, DockerApiError, outOfSequenceError } from '../../src/observed/docker-errors';
import { labelledServiceSpec, serviceSpecHash, unlabelledServiceSpec } from '../../src/plan/writes/service-labels';
import { configRef, type Step, type StepGroup } from '../../src/plan/writes/steps';
import { FakeDocker } from '../fakes/fake-docker';

describe('Docker error table', () => {
  it.each([
    [outOfSequenceError('updateService'), 'conflict'],
    [new DockerApiError(409, 'rpc error: code = Unknown desc = update out of sequence'), 'conflict'],
    [new DockerApiError(409, 'rpc error: code = AlreadyExists desc = config sg-x already exists'), 'conflict'],
    [new DockerApiError(0, 'connect ECONNREFUSED /var/run/docker.sock', 'listServices', 'ECONNREFUSED'), 'transient'],
    [new DockerApiError(503, 'This node is not a swarm manager.'), 'transient'],
    [new DockerApiError(500, 'daemon busy'), 'transient'],
    [new Error('socket hang up'), 'transient'],
    [new DockerApiError(500, 'network sg-gone not found'), 'terminal'],
    [new DockerApiError(400, 'rpc error: code = InvalidArgument desc = config not found: sg-x'), 'terminal'],
    [new DockerApiError(404, 'service abc not found'), 'terminal'],
    [new DockerApiError(501, 'rpc error: code = Unimplemented desc = renaming services is not supported'), 'terminal'],
  ])('%s is %s', (error, expected) => {
    expect(classifyDockerError(error)).toBe(expected);
  });
});

const service = (name: string, config: { id: string; name: string }) =>
  labelledServiceSpec({
    Name: name,
    Labels: { [LABELS.role]: 'proxy' },
    TaskTemplate: { ContainerSpec: { Image: 'nginx', Configs: [{ ConfigID: config.id, ConfigName: config.name, File: { Name: '/etc/nginx/nginx.conf', UID: '0', GID: '0', Mode: 0o444 } }] } },
  });

function group(steps: Step[]): StepGroup {
  return { key: 'cluster/edge', steps };
}

const createConfig: Step = { op: 'createConfig', id: 'proxy-config', cluster: 'edge', spec: { Name: 'sg-nginx-edge-aaaaaaaaaaaa', Data: Buffer.from('events {}').toString('base64') }, reason: 'new' };

describe('executeGroup', () => {
  it('binds a reference to the config created earlier in the group and labels the spec with the bound hash', async () => {
    const docker = FakeDocker.singleNode();
    const create: Step = { op: 'createService', id: 'proxy-service', cluster: 'edge', role: 'proxy', spec: service('sg-proxy-edge', { id: configRef('proxy-config'), name: 'sg-nginx-edge-aaaaaaaaaaaa' }), effect: 'starts-tasks', reason: 'new' };
    const out = await executeGroup(group([createConfig, create]), { docker });
    expect(out.outcomes.map((o) => o.result)).toEqual(['ok', 'ok']);
    const configId = out.created.get('proxy-config');
    const written = docker.service('sg-proxy-edge')?.Spec;
    expect(written?.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigID).toBe(configId);
    expect(written?.Labels?.[LABELS.specHash]).toBe(serviceSpecHash(unlabelledServiceSpec(written ?? service('x', { id: '', name: '' }))));
    expect(out.created.get('proxy-service')).toBe(docker.service('sg-proxy-edge')?.ID);
  });

  it('ends the group at a failed write (later steps skipped) but not at a failed removal', async () => {
    const docker = FakeDocker.singleNode();
    docker.failNext('createConfig', new DockerApiError(400, 'rpc error: code = InvalidArgument desc = config data must be larger than 0'));
    const create: Step = { op: 'createService', id: 'proxy-service', cluster: 'edge', role: 'proxy', spec: service('sg-proxy-edge', { id: configRef('proxy-config'), name: 'x' }), effect: 'starts-tasks', reason: 'new' };
    const out = await executeGroup(group([createConfig, create]), { docker });
    expect(out.outcomes.map((o) => o.result)).toEqual(['failed', 'skipped']);
    expect(out.failed).toMatchObject({ errorClass: 'terminal', step: { op: 'createConfig' } });
    expect(docker.service('sg-proxy-edge')).toBeUndefined();

    const id = await docker.createConfig({ Name: 'sg-nginx-edge-bbbbbbbbbbbb', Data: 'eA==' });
    docker.failNext('removeConfig', new DockerApiError(500, 'daemon busy'));
    const removals = await executeGroup(group([
      { op: 'removeConfig', cluster: 'edge', targetId: id, name: 'b', reason: 'old' },
      { op: 'removeConfig', cluster: 'edge', targetId: 'gone', name: 'gone', reason: 'old' },
    ]), { docker });
    expect(removals.outcomes.map((o) => o.result)).toEqual(['failed', 'ok']);
    expect(removals.failed).toBeUndefined();
  });

  it('defers a removal of a config a service still mounts', async () => {
    const docker = FakeDocker.singleNode();
    const id = await docker.createConfig({ Name: 'sg-nginx-edge-cccccccccccc', Data: 'eA==' });
    await docker.createService(service('sg-proxy-edge', { id, name: 'sg-nginx-edge-cccccccccccc' }));
    const out = await executeGroup(group([{ op: 'removeConfig', cluster: 'edge', targetId: id, name: 'c', reason: 'old' }]), { docker });
    expect(out.outcomes).toMatchObject([{ result: 'deferred', why: 'still in use' }]);
  });

  it('does not send a write Docker rejected before (remembered), and reports it as that failure', async () => {
    const docker = FakeDocker.singleNode();
    const rejected = new DockerApiError(400, 'bad spec');
    const out = await executePlan({ groups: [group([createConfig]), { key: 'cluster/other', steps: [{ ...createConfig, cluster: 'other', spec: { Name: 'sg-nginx-other-dddddddddddd', Data: 'eA==' } }] }] }, { docker }, (g) => (g === 'cluster/edge' ? { error: rejected, errorClass: 'terminal' } : undefined));
    expect(out[0]?.outcomes).toMatchObject([{ result: 'failed', remembered: true, error: rejected }]);
    expect(out[1]?.outcomes).toMatchObject([{ result: 'ok' }]);
    expect(docker.writes.map((a) => a.target)).toEqual(['sg-nginx-other-dddddddddddd']);
  });
});

describe('what a service update does to the tasks', () => {
  const base = service('sg-proxy-edge', { id: 'c1', name: 'sg-nginx-edge-c1' });
  const live = (spec: typeof base) => ({ ID: 's1', Version: { Index: 7 }, Spec: spec });

  it('keeps the tasks when only service-level fields change (replicas, labels, update policy)', async () => {
    const { updateEffect } = await import('../../src/plan/writes/service-labels');
    const scaled = labelledServiceSpec({ ...unlabelledServiceSpec(base), Mode: { Replicated: { Replicas: 3 } }, UpdateConfig: { Parallelism: 2 } });
    expect(updateEffect(live(base), scaled)).toBe('keeps-tasks');
  });

  it('restarts them when the task template or the published ports change, or when the live service has no task hash', async () => {
    const { updateEffect } = await import('../../src/plan/writes/service-labels');
    const remounted = service('sg-proxy-edge', { id: 'c2', name: 'sg-nginx-edge-c2' });
    expect(updateEffect(live(base), remounted)).toBe('restarts-tasks');
    const ported = labelledServiceSpec({ ...unlabelledServiceSpec(base), EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } });
    expect(updateEffect(live(base), ported)).toBe('restarts-tasks');
    const { [LABELS.taskHash]: _t, ...older } = base.Labels ?? {};
    expect(updateEffect(live({ ...base, Labels: older }), base)).toBe('restarts-tasks');
  });
});
