/**
 * The core's loop wiring (events, task poll, resync) over the in-memory Docker fake, on the real
 * scheduler with short periods: a version conflict is retried at once, a dead event stream is
 * reconnected, and a lost event is covered by the task poll.
 */
import pino from 'pino';
import { firstValueFrom, filter, take, toArray, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { startCore } from '../../src/core/core';
import { applyObject } from '../../src/desired/spec-store';
import { outOfSequenceError } from '../../src/observed/docker-errors';
import type { Outcome } from '../../src/reconcile';
import { FakeDocker } from '../fakes/fake-docker';
import { route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
let stop: (() => void) | undefined;

afterEach(() => stop?.());

async function setup(): Promise<{ docker: FakeDocker; outcomes: Observable<Outcome> }> {
  const docker = FakeDocker.singleNode({ emitWriteEvents: false });
  docker.addNetwork('app');
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 1);
  await applyObject(docker, route('web', { hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port: 80 }] }] }));
  docker.clearActions();
  const core = startCore({ port: docker, log: quiet, taskPollMs: 50, resyncMs: 60_000 });
  stop = core.stop;
  return { docker, outcomes: core.outcomes };
}

describe('core loop', () => {
  it('runs at start, then re-runs at once after an update-out-of-sequence conflict', async () => {
    const { docker, outcomes } = await setup();
    docker.failNext('updateConfigLabels', outOfSequenceError('updateConfigLabels'));
    const first = await firstValueFrom(outcomes);
    expect(first).toMatchObject({ seq: 1, result: 'applied' });
    const failed = docker.actions.filter((a) => a.error !== undefined).map((a) => a.op);
    expect(failed).toEqual(['updateConfigLabels']);
    expect(docker.writes.filter((a) => a.op === 'createService').length).toBe(1);
  });

  it('keeps converging when the event stream dies and events are lost: the task poll covers it', async () => {
    const { docker, outcomes } = await setup();
    const seen: Outcome[] = [];
    const sub = outcomes.subscribe((o) => seen.push(o));
    await new Promise((r) => setTimeout(r, 400));
    expect(seen[0]?.result).toBe('applied');
    docker.killEvents();
    docker.clearActions();
    // A scale-up with no event at all (Swarm never sends task events): only the poll can notice.
    docker.addTasks('web', 1);
    await new Promise((r) => setTimeout(r, 1500));
    sub.unsubscribe();
    expect(docker.writes.map((a) => a.op)).toContain('updateService');
    expect(docker.subscriberCount).toBe(0);
    expect(seen.every((o) => o.result !== 'failed')).toBe(true);
  });

  it('reconnects the event stream after it dies', async () => {
    const { docker, outcomes } = await setup();
    const sub = outcomes.subscribe();
    await new Promise((r) => setTimeout(r, 200));
    expect(docker.subscriberCount).toBe(1);
    docker.killEvents();
    expect(docker.subscriberCount).toBe(0);
    await new Promise((r) => setTimeout(r, 2500));
    expect(docker.subscriberCount).toBe(1);
    sub.unsubscribe();
  });

  it('emits increasing sequence numbers', async () => {
    const { docker, outcomes } = await setup();
    const two = firstValueFrom(outcomes.pipe(filter((o) => o.seq <= 2), take(2), toArray()));
    await new Promise((r) => setTimeout(r, 300));
    docker.addTasks('web', 1);
    const got = await two;
    expect(got.map((o) => o.seq)).toEqual([1, 2]);
  });
});
