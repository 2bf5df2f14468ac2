/**
 * The task poll as a trigger (ADR 0047): a failed listing is not a task change. Without that, one
 * failed poll emitted twice (the failure, then the recovery) with no task changed.
 */
import pino from 'pino';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { taskChanges$ } from '../../src/core/task-poll';
import { FakeDocker } from '../fakes/fake-docker';

const quiet = pino({ level: 'silent' });

/** The fake with a service of two tasks, and whatever the poll emits collected. */
async function setup(): Promise<{ docker: FakeDocker; emitted: string[]; tick: () => Promise<void>; stop: () => void }> {
  const docker = FakeDocker.singleNode({ emitWriteEvents: false });
  docker.addNetwork('app');
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 2);
  const scheduler = new VirtualTimeScheduler();
  const emitted: string[] = [];
  const sub = taskChanges$(docker, 100, scheduler, quiet).subscribe((d) => emitted.push(d));
  let at = 0;
  // One poll period on virtual time, then let the listing's promise settle.
  const tick = async (): Promise<void> => {
    at += 100;
    scheduler.maxFrames = at;
    scheduler.flush();
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { docker, emitted, tick, stop: () => sub.unsubscribe() };
}

describe('task poll trigger', () => {
  it('emits nothing when listings fail and then read the same tasks again', async () => {
    const { docker, emitted, tick, stop } = await setup();
    await tick(); // the baseline
    docker.failNext('listTasks', new Error('daemon unavailable'), 3);
    for (let i = 0; i < 3; i++) await tick();
    await tick(); // reads the same tasks again
    await tick();
    stop();
    expect(emitted).toEqual([]);
  });

  it('emits once when the tasks changed while the listings failed, and on a change otherwise', async () => {
    const { docker, emitted, tick, stop } = await setup();
    await tick();
    docker.addTasks('web', 1);
    await tick();
    expect(emitted).toHaveLength(1);
    docker.failNext('listTasks', new Error('daemon unavailable'), 2);
    docker.addTasks('web', 1);
    await tick();
    await tick();
    expect(emitted).toHaveLength(1);
    await tick();
    await tick();
    stop();
    expect(emitted).toHaveLength(2);
    expect(emitted[1]).toMatch(/^[0-9a-f]{64}$/);
    expect(emitted[1]).not.toBe(emitted[0]);
  });

  it('a failure before the first listing is no baseline either', async () => {
    const { docker, emitted, tick, stop } = await setup();
    docker.failNext('listTasks', new Error('daemon unavailable'), 1);
    await tick();
    await tick(); // the first listing read: the baseline
    await tick();
    stop();
    expect(emitted).toEqual([]);
  });
});
