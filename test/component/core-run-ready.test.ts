/**
 * The ServiceCluster's Ready condition through the whole core run (in-memory Docker fake): True only
 * when every requested proxy replica runs; False otherwise with Swarm's own task error and a reason
 * a user can act on (Unschedulable, TasksFailing, Pending). Routes of a cluster with no running
 * proxy say why in their Programmed message.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { applyObject } from '../../src/desired/spec-store';
import { parseStatus } from '../../src/status/object-status';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
const PORT_IN_USE = 'no suitable node (host-mode port already in use on 1 node)';
const CONSTRAINT = 'no suitable node (scheduling constraints not satisfied on 1 node)';
const MAX_PER_NODE = 'no suitable node (max replicas per node limit exceed)';
let docker: FakeDocker;

const web = route('web', { serviceCluster: 'edge', hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] });

async function conditionOf(kind: string, name: string, type: string) {
  const [c] = await docker.listConfigs([`${LABELS.kind}=${kind}`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions.find((x) => x.type === type);
}

const ready = () => conditionOf('ServiceCluster', 'edge', 'Ready');

/** A core whose first run created the proxy service of a host-mode cluster with `replicas` replicas. */
async function setUp(replicas: number): Promise<CoreRun> {
  await applyObject(docker, cluster('edge', { proxy: { replicas, delivery: 'rolling', publish: { mode: 'host', http: 18080, https: 18443 } } }));
  await applyObject(docker, web);
  const run = new CoreRun(docker, quiet);
  await run.run(1);
  return run;
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 1);
});

describe('ServiceCluster Ready', () => {
  it('is False, Unschedulable, with Swarm\'s error when the host port is taken, and the route says why', async () => {
    const run = await setUp(1);
    docker.addTask('sg-proxy-edge', { slot: 1, state: 'pending', err: PORT_IN_USE, message: 'pending task scheduling' });
    await run.run(2);
    const c = await ready();
    expect(c).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    expect(c?.message).toMatch(/^0\/1 proxy replicas running; task [0-9a-z]{1,12} \(slot 1\) pending: no suitable node \(host-mode port already in use on 1 node\) \(pending task scheduling\)$/);
    const p = await conditionOf('Route', 'web', 'Programmed');
    expect(p).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(p?.message).toContain('no proxy replica of cluster "edge" runs: it is not Ready (Unschedulable: 0/1 proxy replicas running;');
    expect(p?.message).toContain(PORT_IN_USE);
  });

  it('is Unschedulable when no node matches the constraints', async () => {
    const run = await setUp(1);
    docker.addTask('sg-proxy-edge', { slot: 1, state: 'pending', err: CONSTRAINT });
    await run.run(2);
    expect(await ready()).toMatchObject({ status: 'False', reason: 'Unschedulable', message: expect.stringContaining(CONSTRAINT) as unknown });
  });

  it('is False with 1 of 3 host-mode replicas on one node (the others cannot be placed), never True', async () => {
    const run = await setUp(3);
    docker.addTask('sg-proxy-edge', { slot: 1 });
    await run.run(2);
    // Swarm has not reported on the other slots yet: still starting, no error.
    expect(await ready()).toMatchObject({ status: 'False', reason: 'Pending', message: '1/3 proxy replicas running' });
    docker.addTask('sg-proxy-edge', { slot: 2, state: 'pending', err: MAX_PER_NODE });
    docker.addTask('sg-proxy-edge', { slot: 3, state: 'pending', err: MAX_PER_NODE });
    await run.run(3);
    const c = await ready();
    expect(c).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    expect(c?.message).toMatch(/^1\/3 proxy replicas running; task \S+ \(slot 3\) pending: no suitable node \(max replicas per node limit exceed\)$/);
    // Routes are served by the replica that runs.
    expect(await conditionOf('Route', 'web', 'Programmed')).toMatchObject({ status: 'True' });
  });

  it('is TasksFailing while tasks are rejected, also while the next attempt is on its way', async () => {
    const run = await setUp(1);
    const first = docker.addTask('sg-proxy-edge', { slot: 1, state: 'preparing' });
    docker.setTaskState(first, 'rejected', 'shutdown', 'No such image: swarmgate/proxy:nope');
    await run.run(2);
    const c = await ready();
    expect(c).toMatchObject({ status: 'False', reason: 'TasksFailing' });
    expect(c?.message).toContain('0/1 proxy replicas running; task');
    expect(c?.message).toContain('(slot 1) rejected: No such image: swarmgate/proxy:nope');
    docker.addTask('sg-proxy-edge', { slot: 1, state: 'starting' });
    await run.run(3);
    expect(await ready()).toMatchObject({ status: 'False', reason: 'TasksFailing' });
  });

  it('is Pending while tasks start without an error, and True once every replica runs; old errors are history', async () => {
    const run = await setUp(2);
    const failed = docker.addTask('sg-proxy-edge', { slot: 1, state: 'failed', desiredState: 'shutdown', err: 'task: non-zero exit (1)' });
    const stopped = docker.addTask('sg-proxy-edge', { slot: 1, state: 'running' });
    docker.setTaskState(stopped, 'shutdown', 'shutdown');
    const starting = docker.addTask('sg-proxy-edge', { slot: 1, state: 'starting' });
    docker.addTask('sg-proxy-edge', { slot: 2 });
    await run.run(2);
    expect(await ready()).toMatchObject({ status: 'False', reason: 'Pending', message: '1/2 proxy replicas running' });
    docker.setTaskState(starting, 'running');
    await run.run(3);
    expect(await ready()).toMatchObject({ status: 'True', reason: 'Ready', message: '2/2 proxy replicas running' });
    expect(failed).toBeDefined();
  });
});
