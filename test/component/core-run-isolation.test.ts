/**
 * Per-cluster isolation of the core's writes, over the in-memory Docker fake: Docker rejects one
 * cluster's proxy service update with a 4xx while a second cluster converges. Both get status, the
 * rejected one Programmed=False with Docker's message; the run ends as a TerminalError (no backoff),
 * and the same write is not sent again — not by later runs, not by the loop's triggers — until an
 * input of the write changes.
 */
import pino from 'pino';
import { firstValueFrom, filter } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCore } from '../../src/core/core';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { applyObject } from '../../src/desired/spec-store';
import { DockerApiError } from '../../src/observed/docker-errors';
import { TerminalError, type Outcome } from '../../src/reconcile';
import { parseStatus } from '../../src/status/object-status';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
const REJECTED = 'rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided';
let docker: FakeDocker;
let stop: (() => void) | undefined;

const edge = (name: string, replicas: number, http: number) => cluster(name, { proxy: { replicas, publish: { mode: 'host', http, https: http + 1 } } });

async function statusOf(name: string, kind = 'Route') {
  const [c] = await docker.listConfigs([`${LABELS.kind}=${kind}`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status]);
}

async function programmed(name: string, kind = 'Route') {
  return (await statusOf(name, kind))?.conditions.find((c) => c.type === 'Programmed');
}

/** Update attempts on a service, failed ones included. */
function updatesOf(service: string): number {
  return docker.actions.filter((a) => a.op === 'updateService' && a.target === service).length;
}

/** Start the tasks Swarm would start for each proxy's current spec. */
function startProxies(...clusters: string[]): void {
  for (const c of clusters) {
    for (const id of docker.taskIds(`sg-proxy-${c}`)) docker.setTaskState(id, 'shutdown', 'shutdown');
    docker.addTasks(`sg-proxy-${c}`, 1);
  }
}

beforeEach(async () => {
  docker = FakeDocker.singleNode({ emitWriteEvents: false });
  docker.addNetwork('app');
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 1);
  await applyObject(docker, edge('alpha', 1, 18080));
  await applyObject(docker, edge('beta', 1, 19080));
  await applyObject(docker, route('a', { serviceCluster: 'alpha', hosts: ['a.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
  await applyObject(docker, route('b', { serviceCluster: 'beta', hosts: ['b.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
  const run = new CoreRun(docker, quiet);
  await run.run(1);
  startProxies('alpha', 'beta');
  await run.run(2);
  expect((await programmed('a'))?.status).toBe('True');
  // Both clusters now need a service update: two replicas each.
  await applyObject(docker, edge('alpha', 2, 18080));
  await applyObject(docker, edge('beta', 2, 19080));
  docker.clearActions();
});

afterEach(() => stop?.());

describe('one cluster rejected, the other converging', () => {
  it('gives both clusters status, the rejected one Programmed=False with Docker\'s message, and does not resend the write until its input changes', async () => {
    // Groups run in cluster order: alpha's update is the first one.
    docker.failNext('updateService', new DockerApiError(400, REJECTED, 'updateService'));
    const run = new CoreRun(docker, quiet);
    const first = run.run(3);
    await expect(first).rejects.toBeInstanceOf(TerminalError);
    await expect(first).rejects.toThrow(REJECTED);
    expect(updatesOf('sg-proxy-alpha')).toBe(1);
    // beta converged in the same run.
    expect(docker.service('sg-proxy-beta')?.Spec.Mode?.Replicated?.Replicas).toBe(2);
    expect(docker.service('sg-proxy-alpha')?.Spec.Mode?.Replicated?.Replicas).toBe(1);
    // Both have status: the rejected cluster and its route say why, with Docker's own words.
    const alpha = await programmed('alpha', 'ServiceCluster');
    expect(alpha).toMatchObject({ status: 'False', reason: 'Rejected' });
    expect(alpha?.message).toContain(`updateService sg-proxy-alpha (HTTP 400: ${REJECTED})`);
    // Its route's generation is still served by the running replica: Programmed, with the cluster's rejection in the message.
    expect(await programmed('a')).toMatchObject({ status: 'True', reason: 'Programmed' });
    expect((await programmed('a'))?.message).toContain(REJECTED);
    expect((await statusOf('beta', 'ServiceCluster'))?.conditions.find((c) => c.type === 'Ready')?.message).toBe('1/2 proxy replicas running');
    expect(await programmed('b')).toMatchObject({ status: 'True' });

    // Later runs with the same inputs: the write is not sent again, the run does not fail, status stays.
    docker.clearActions();
    const again = await run.run(4);
    expect(again.result).toBe('unchanged');
    expect(again.reason).toContain('1 write held back');
    expect(updatesOf('sg-proxy-alpha')).toBe(0);
    expect(await programmed('alpha', 'ServiceCluster')).toMatchObject({ status: 'False', reason: 'Rejected' });

    // An input of the write changes (the cluster spec): it is attempted again, and now succeeds.
    await applyObject(docker, edge('alpha', 3, 18080));
    docker.clearActions();
    expect((await run.run(5)).result).toBe('applied');
    expect(updatesOf('sg-proxy-alpha')).toBe(1);
    expect(docker.service('sg-proxy-alpha')?.Spec.Mode?.Replicated?.Replicas).toBe(3);
    expect((await programmed('alpha', 'ServiceCluster'))?.reason).not.toBe('Rejected');
  });

  it('a change of the Swarm state the write depends on re-attempts it too', async () => {
    docker.failNext('updateService', new DockerApiError(400, REJECTED, 'updateService'));
    const run = new CoreRun(docker, quiet);
    await expect(run.run(3)).rejects.toBeInstanceOf(TerminalError);
    await run.run(4);
    expect(updatesOf('sg-proxy-alpha')).toBe(1);
    // A new backend task: a new config, so a different update of the proxy service.
    docker.addTasks('web', 1);
    await run.run(5);
    expect(updatesOf('sg-proxy-alpha')).toBe(2);
  });

  it('makes the loop give up at once (TerminalError, no backoff) and not retry on later triggers', async () => {
    docker.failNext('updateService', new DockerApiError(400, REJECTED, 'updateService'));
    const core = startCore({ port: docker, log: quiet, taskPollMs: 50, resyncMs: 60_000 });
    stop = core.stop;
    const seen: Outcome[] = [];
    const sub = core.outcomes.subscribe((o) => seen.push(o));
    await firstValueFrom(core.outcomes.pipe(filter((o) => o.seq >= 1)));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen[0]).toMatchObject({ seq: 1, result: 'failed', reason: 'TerminalError' });
    // A transient error would have been retried within this time (100 ms, 200 ms, 400 ms, …).
    await new Promise((r) => setTimeout(r, 1_000));
    expect(updatesOf('sg-proxy-alpha')).toBe(1);
    // Triggers (Docker events) run the core again: the rejected write is not sent again.
    for (let i = 0; i < 3; i++) {
      docker.emitEvent({ Type: 'service', Action: 'update' });
      await new Promise((r) => setTimeout(r, 400));
    }
    sub.unsubscribe();
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.slice(1).every((o) => o.result !== 'failed')).toBe(true);
    expect(updatesOf('sg-proxy-alpha')).toBe(1);
    expect(docker.service('sg-proxy-beta')?.Spec.Mode?.Replicated?.Replicas).toBe(2);
  });
});
