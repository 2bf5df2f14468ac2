/**
 * What the core's task poll holds and asks for (ADR 0044): only a digest of the last task
 * fingerprint, and one task listing at a time however slowly the engine answers.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startCore } from '../../src/core/core';
import { readTaskFingerprint, taskFingerprint } from '../../src/observed/read-snapshot';
import type { DockerPort } from '../../src/observed/docker-port';
import { FakeDocker } from '../fakes/fake-docker';

const quiet = pino({ level: 'silent' });
let stop: (() => void) | undefined;
afterEach(() => stop?.());

describe('task poll', () => {
  it('keeps a 64-character digest, not one line per task', async () => {
    const docker = FakeDocker.singleNode();
    docker.addNetwork('app');
    await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
    docker.addTasks('web', 2000);
    const digest = await readTaskFingerprint(docker);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    // Still a fingerprint: it changes with the tasks (and the full text it stands for is far longer).
    expect(taskFingerprint(await docker.listTasks()).length).toBeGreaterThan(100_000);
    docker.addTasks('web', 1);
    expect(await readTaskFingerprint(docker)).not.toBe(digest);
  });

  it('never has two task listings in flight: ticks during a slow answer are skipped', async () => {
    const docker = FakeDocker.singleNode({ emitWriteEvents: false });
    let inFlight = 0;
    let most = 0;
    let polls = 0;
    // Every listing takes 300 ms, six poll periods.
    const slow: DockerPort = new Proxy(docker, {
      get(target, prop, receiver) {
        if (prop !== 'listTasks') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<DockerPort['listTasks']>) => {
          polls++;
          most = Math.max(most, ++inFlight);
          await new Promise((r) => setTimeout(r, 300));
          inFlight--;
          return target.listTasks(...args);
        };
      },
    });
    const core = startCore({ port: slow, log: quiet, taskPollMs: 50, resyncMs: 60_000 });
    stop = core.stop;
    const sub = core.outcomes.subscribe();
    await new Promise((r) => setTimeout(r, 1500));
    sub.unsubscribe();
    // The poll's own listing, and at most one more from a reconcile run's read of the Swarm.
    expect(most).toBeLessThanOrEqual(2);
    // 30 ticks in 1.5 s; one listing per 300 ms answer (plus the runs') is what gets asked.
    expect(polls).toBeLessThan(12);
  });
});
