/**
 * Status label writes go out a few at a time (STATUS_WRITE_CONCURRENCY, ADR 0046) and a call returns
 * only once every write it started has been answered: so the next run's write for an object cannot be
 * overtaken by this run's, a failing write does not keep the others from being made, and the answers
 * may come back in any order. Writes are held by a gate the test opens, in the order it chooses.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/api/control-plane';
import { CoreRun } from '../../src/core/core-run';
import { condition, type Condition } from '../../src/domain/conditions';
import { LABELS } from '../../src/domain/labels';
import { objectKey } from '../../src/domain/meta';
import { applyObject, listStoredSpecs } from '../../src/desired/spec-store';
import { DockerApiError } from '../../src/observed/docker-errors';
import type { DockerPort } from '../../src/observed/docker-port';
import { parseStatus } from '../../src/status/object-status';
import { STATUS_WRITE_CONCURRENCY, writeStatuses } from '../../src/status/write-status';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

const ROUTES = 20;
const names = Array.from({ length: ROUTES }, (_, i) => `r${String(i).padStart(2, '0')}`);

async function seeded(): Promise<FakeDocker> {
  const docker = FakeDocker.singleNode();
  for (const n of names) await applyObject(docker, route(n, { hosts: [`${n}.test`], rules: [{ backends: [{ service: 'app', port: 80 }] }] }));
  return docker;
}

const accepted = (status: 'True' | 'False'): Record<string, Condition[]> =>
  Object.fromEntries(names.map((n) => [objectKey('Route', n), [condition('Accepted', status, status === 'True' ? 'Accepted' : 'Invalid', `run said ${status}`)]]));

/** Each updateConfigLabels waits for the test to let it through; then it reaches the fake (or fails). */
class GatedPort {
  readonly held: { readonly id: string; readonly release: (error?: Error) => void }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly port: DockerPort;

  constructor(docker: FakeDocker) {
    this.port = new Proxy(docker, {
      get: (target, key, receiver) => {
        if (key !== 'updateConfigLabels') return Reflect.get(target, key, receiver) as unknown;
        return async (...args: Parameters<DockerPort['updateConfigLabels']>) => {
          this.inFlight++;
          this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
          try {
            const error = await new Promise<Error | undefined>((resolve) => this.held.push({ id: args[0], release: resolve }));
            if (error !== undefined) throw error;
            await docker.updateConfigLabels(...args);
          } finally {
            this.inFlight--;
          }
        };
      },
    });
  }

  /** Let the last-started held write through first, until none is left (started ones included). */
  async releaseNewestFirst(done: () => boolean, error?: (id: string) => Error | undefined): Promise<void> {
    for (;;) {
      await settle();
      const next = this.held.pop();
      if (next === undefined) {
        if (done()) return;
        continue;
      }
      next.release(error?.(next.id));
    }
  }
}

/** Let every promise that can move, move (the fake answers in microtasks). */
const settle = () => new Promise((r) => setTimeout(r, 0));

async function statuses(docker: FakeDocker): Promise<Map<string, string | undefined>> {
  const { current } = await listStoredSpecs(docker);
  return new Map([...current.values()].map((s) => [s.name, parseStatus(s.config.Spec.Labels?.[LABELS.status])?.conditions[0]?.status]));
}

describe('status writes', () => {
  it(`keep ${STATUS_WRITE_CONCURRENCY} writes in flight, no more, and write every changed status`, async () => {
    const docker = await seeded();
    const gate = new GatedPort(docker);
    const { current } = await listStoredSpecs(docker);
    let finished = false;
    const call = writeStatuses(gate.port, current, accepted('True'), '2026-12-07T00:00:00Z').finally(() => (finished = true));
    await settle();
    expect(gate.inFlight).toBe(STATUS_WRITE_CONCURRENCY);
    await gate.releaseNewestFirst(() => finished);
    expect((await call).writes).toBe(ROUTES);
    expect(gate.maxInFlight).toBe(STATUS_WRITE_CONCURRENCY);
    expect([...(await statuses(docker)).values()]).toEqual(names.map(() => 'True'));
  });

  it('return only once every write is answered, so the next run\'s writes land last whatever order answers come in', async () => {
    const docker = await seeded();
    const gate = new GatedPort(docker);
    // Run 1: the first write started is answered last of all.
    let finished = false;
    const first = writeStatuses(gate.port, (await listStoredSpecs(docker)).current, accepted('False'), '2026-12-07T00:00:00Z').finally(() => (finished = true));
    await settle();
    const oldest = gate.held.shift();
    await gate.releaseNewestFirst(() => gate.inFlight === 1);
    await settle();
    expect(finished).toBe(false);
    oldest?.release();
    await gate.releaseNewestFirst(() => finished);
    await first;
    expect(gate.inFlight).toBe(0);
    // Run 2 reads afresh and says otherwise: its status is what stays, for every object.
    finished = false;
    const second = writeStatuses(gate.port, (await listStoredSpecs(docker)).current, accepted('True'), '2026-12-07T00:00:30Z').finally(() => (finished = true));
    await gate.releaseNewestFirst(() => finished);
    expect((await second).writes).toBe(ROUTES);
    expect([...(await statuses(docker)).values()]).toEqual(names.map(() => 'True'));
  });

  it('a write Docker refuses fails the call after the others were made and answered', async () => {
    const docker = await seeded();
    const gate = new GatedPort(docker);
    const { current } = await listStoredSpecs(docker);
    const failing = current.get(objectKey('Route', 'r00'))?.config.ID;
    let settledWith = -1;
    const call = writeStatuses(gate.port, current, accepted('True'), '2026-12-07T00:00:00Z').finally(() => (settledWith = gate.inFlight));
    // r00 is written first and refused at once (a daemon error, not a lost race); the rest are answered newest first.
    await settle();
    gate.held.find((h) => h.id === failing)?.release(new DockerApiError(500, 'rpc error: code = Unknown desc = raft: proposal dropped'));
    gate.held.splice(gate.held.findIndex((h) => h.id === failing), 1);
    const done = gate.releaseNewestFirst(() => settledWith >= 0);
    await expect(call).rejects.toThrow('proposal dropped');
    await done;
    expect(settledWith).toBe(0);
    const after = await statuses(docker);
    expect(after.get('r00')).toBeUndefined();
    expect(names.slice(1).map((n) => after.get(n))).toEqual(names.slice(1).map(() => 'True'));
  });
});

describe('a core run that finds nothing to do', () => {
  it('sends Docker no write at all, hitless with counted backends included', async () => {
    const docker = FakeDocker.singleNode();
    docker.addNetwork('app');
    docker.addNetwork('swarmgate-control');
    await docker.createService({ Name: 'app', TaskTemplate: { ContainerSpec: { Image: 'app' }, Networks: [{ Target: 'app' }] } });
    docker.addTasks('app', 2);
    await applyObject(docker, cluster('default', { proxy: { delivery: 'hitless' } }));
    for (const n of names) await applyObject(docker, route(n, { hosts: [`${n}.test`], rules: [{ backends: [{ service: 'app', port: 80 }] }] }));
    const run = new CoreRun(docker, pino({ level: 'silent' }), { plane: new ControlPlane(), agents: { coreAddress: 'swarmgate-core:50051', controlNetwork: 'swarmgate-control', insecure: true } });
    expect((await run.run(1)).result).toBe('applied');
    docker.addTasks('sg-proxy-default', 1);
    await run.run(2);
    docker.clearActions();
    const r = await run.run(3);
    expect(docker.actions).toEqual([]);
    expect(r).toEqual({ result: 'unchanged', reason: 'converged' });
    // It did write every status on the way: there was something to keep unchanged.
    const after = await statuses(docker);
    expect(names.map((n) => after.get(n))).toEqual(names.map(() => 'True'));
  });
});
