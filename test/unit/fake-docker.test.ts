import * as E from 'fp-ts/Either';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decode } from '../../src/domain/codec';
import { Snapshot } from '../../src/domain/snapshot';
import { DockerApiError, isInUse, isNameConflict, isNotFound, isOutOfSequence, isTransient } from '../../src/observed/docker-errors';
import type { DockerEvent, ServiceSpec } from '../../src/observed/docker-port';
import { readSnapshot, readTaskFingerprint } from '../../src/observed/read-snapshot';
import { FakeDocker } from '../fakes/fake-docker';

const spec = (name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec => ({
  Name: name,
  TaskTemplate: { ContainerSpec: { Image: 'img:1' }, Networks: [{ Target: 'app' }] },
  Mode: { Replicated: { Replicas: 2 } },
  ...extra,
});

function fresh(): FakeDocker {
  const f = FakeDocker.singleNode();
  f.addNetwork('app');
  return f;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('FakeDocker versions', () => {
  it('bumps Version.Index on every write and rejects stale versions like the daemon', async () => {
    const f = fresh();
    const id = await f.createConfig({ Name: 'c1', Labels: { a: '1' }, Data: Buffer.from('hello').toString('base64') });
    const v1 = (await f.inspectConfig(id)).Version.Index;
    await f.updateConfigLabels(id, v1, { Name: 'c1', Labels: { a: '2' } });
    const after = await f.inspectConfig(id);
    expect(after.Version.Index).toBeGreaterThan(v1);
    expect(after.Spec.Labels).toEqual({ a: '2' });
    expect(Buffer.from(after.Spec.Data ?? '', 'base64').toString()).toBe('hello');

    const err = await rejection(f.updateConfigLabels(id, v1, { Name: 'c1', Labels: { a: '3' } }));
    expect(err).toBeInstanceOf(DockerApiError);
    expect(err).toMatchObject({ statusCode: 500, message: 'rpc error: code = Unknown desc = update out of sequence' });
    expect(isOutOfSequence(err)).toBe(true);
    expect(isTransient(err)).toBe(false);
    expect((await f.inspectConfig(id)).Spec.Labels).toEqual({ a: '2' });
  });

  it('versions services the same way and keeps network targets as IDs', async () => {
    const f = fresh();
    const id = await f.createService(spec('web'));
    const s = f.service('web');
    expect(s?.ID).toBe(id);
    expect(s?.Spec.TaskTemplate.Networks?.[0]?.Target).not.toBe('app');
    expect(s?.Endpoint?.VirtualIPs).toHaveLength(1);
    const v = s?.Version.Index ?? -1;
    await f.updateService(id, v, spec('web', { Mode: { Replicated: { Replicas: 3 } } }));
    expect(isOutOfSequence(await rejection(f.updateService(id, v, spec('web'))))).toBe(true);
    expect(f.service(id)?.Spec.Mode?.Replicated?.Replicas).toBe(3);
  });

  it('rejects what the daemon rejects: duplicate names (409), unknown IDs (404), data changes, configs in use', async () => {
    const f = fresh();
    const cid = await f.createConfig({ Name: 'c1', Data: 'eA==' });
    const dup = await rejection(f.createConfig({ Name: 'c1', Data: 'eQ==' }));
    expect(dup).toMatchObject({ statusCode: 409, message: 'rpc error: code = AlreadyExists desc = config c1 already exists' });
    expect(isNameConflict(dup)).toBe(true);
    await f.createService(spec('web'));
    const dupSvc = await rejection(f.createService(spec('web')));
    expect(dupSvc).toMatchObject({ statusCode: 409 });
    expect(isNameConflict(dupSvc)).toBe(true);
    expect(isNotFound(await rejection(f.inspectConfig('nope')))).toBe(true);
    expect(isNotFound(await rejection(f.removeService('nope')))).toBe(true);
    const v = (await f.inspectConfig(cid)).Version.Index;
    expect(await rejection(f.updateConfigLabels(cid, v, { Name: 'renamed' }))).toMatchObject({ statusCode: 400 });
    await f.updateConfigLabels(cid, v, { Name: 'c1', Data: 'ignored' });
    expect((await f.inspectConfig(cid)).Spec.Data).toBe('eA==');
    expect(await rejection(f.createConfig({ Name: 'empty', Data: '' }))).toMatchObject({ statusCode: 400 });
    await f.createService(
      spec('user', { TaskTemplate: { ContainerSpec: { Image: 'i', Configs: [{ ConfigID: cid, ConfigName: 'c1', File: { Name: '/c', UID: '0', GID: '0', Mode: 0o444 } }] } } }),
    );
    const inUse = await rejection(f.removeConfig(cid));
    expect(isInUse(inUse)).toBe(true);
    expect(await rejection(f.createService(spec('bad name')))).toMatchObject({ statusCode: 400 });
    expect(await rejection(f.createService(spec('nonet', { TaskTemplate: { ContainerSpec: { Image: 'i' }, Networks: [{ Target: 'nope' }] } })))).toMatchObject({
      statusCode: 500,
      message: 'network nope not found',
    });
  });

  it("lists one service's tasks when asked, every task otherwise", async () => {
    const f = new FakeDocker();
    const a = await f.createService({ Name: 'a', TaskTemplate: { ContainerSpec: { Image: 'x' } }, Mode: { Replicated: { Replicas: 2 } } });
    await f.createService({ Name: 'b', TaskTemplate: { ContainerSpec: { Image: 'x' } }, Mode: { Replicated: { Replicas: 1 } } });
    f.addTasks('a', 2);
    f.addTasks('b', 1);
    const all = await f.listTasks();
    const onlyA = await f.listTasks({ serviceId: a });
    expect(onlyA.map((t) => t.ID).sort()).toEqual(all.filter((t) => t.ServiceID === a).map((t) => t.ID).sort());
    expect([onlyA.length, all.length]).toEqual([2, 3]);
  });

  it('lists configs without data and filters by labels', async () => {
    const f = fresh();
    await f.createConfig({ Name: 'a', Labels: { 'io.swarmgate.kind': 'Route', tier: 'x' }, Data: 'eA==' });
    await f.createConfig({ Name: 'b', Labels: { tier: 'y' }, Data: 'eA==' });
    const listed = await f.listConfigs(['io.swarmgate.kind']);
    expect(listed.map((c) => c.Spec.Name)).toEqual(['a']);
    expect(listed[0]?.Spec.Data).toBeUndefined();
    expect((await f.listConfigs(['tier=y'])).map((c) => c.Spec.Name)).toEqual(['b']);
    expect(await f.listConfigs()).toHaveLength(2);
  });

  it('returns copies: mutating a result does not change the fake', async () => {
    const f = fresh();
    await f.createService(spec('web'));
    const [s] = await f.listServices();
    (s?.Spec as { Name: string }).Name = 'changed';
    expect((await f.listServices())[0]?.Spec.Name).toBe('web');
  });
});

describe('FakeDocker action log', () => {
  it('records every write in order, failed ones with their error, and no reads', async () => {
    const f = fresh();
    const cid = await f.createConfig({ Name: 'c1', Data: 'eA==' });
    const sid = await f.createService(spec('web'));
    await f.listServices();
    await f.listTasks();
    await f.inspectConfig(cid);
    await rejection(f.updateService(sid, 1, spec('web')));
    await f.removeService(sid);
    await f.removeConfig('c1');
    expect(f.actions.map((a) => [a.op, a.target, a.error === undefined ? 'ok' : 'failed'])).toEqual([
      ['createConfig', 'c1', 'ok'],
      ['createService', 'web', 'ok'],
      ['updateService', 'web', 'failed'],
      ['removeService', 'web', 'ok'],
      ['removeConfig', 'c1', 'ok'],
    ]);
    expect(f.actions[2]).toMatchObject({ id: sid, version: 1, error: 'rpc error: code = Unknown desc = update out of sequence' });
    expect(f.writes).toHaveLength(4);
    f.clearActions();
    expect(f.actions).toEqual([]);
  });

  it('shows 0 writes for a read-only pass', async () => {
    const f = fresh();
    await f.createService(spec('web'));
    f.addTasks('web', 2);
    f.clearActions();
    await readSnapshot(f);
    await f.listConfigs();
    expect(f.actions).toHaveLength(0);
  });
});

describe('FakeDocker fault injection', () => {
  it('fails the next N calls of one method, then recovers', async () => {
    const f = fresh();
    const boom = new DockerApiError(503, 'node is not part of a swarm');
    f.failNext('listTasks', boom, 2);
    expect(await rejection(f.listTasks())).toBe(boom);
    expect(await rejection(f.listTasks())).toBe(boom);
    expect(await f.listTasks()).toEqual([]);
    expect(await f.listServices()).toEqual([]);
  });

  it('logs a faulted write without applying it', async () => {
    const f = fresh();
    f.failNext('createConfig', new DockerApiError(0, 'connect ECONNREFUSED', 'createConfig', 'ECONNREFUSED'));
    const err = await rejection(f.createConfig({ Name: 'c1', Data: 'eA==' }));
    expect(isTransient(err)).toBe(true);
    expect(await f.listConfigs()).toEqual([]);
    expect(f.actions).toEqual([{ op: 'createConfig', target: 'c1', spec: { Name: 'c1', Data: 'eA==' }, error: 'connect ECONNREFUSED' }]);
    await f.createConfig({ Name: 'c1', Data: 'eA==' });
    expect(f.writes).toHaveLength(1);
  });

  it('delays calls (with fake timers) and can delay then fail', async () => {
    vi.useFakeTimers();
    const f = fresh();
    f.delayNext('listNodes', 1000);
    let done = false;
    const p = f.listNodes().then((n) => {
      done = true;
      return n;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await p).toHaveLength(1);

    f.failNext('removeService', { error: new DockerApiError(500, 'boom'), delayMs: 50 });
    const r = rejection(f.removeService('x'));
    await vi.advanceTimersByTimeAsync(50);
    expect(await r).toMatchObject({ statusCode: 500, message: 'boom' });
  });

  it('simulates a lost race: someone else updated first', async () => {
    const f = fresh();
    const id = await f.createService(spec('web'));
    const v = f.service(id)?.Version.Index ?? 0;
    f.failNext('updateService', new DockerApiError(500, 'rpc error: code = Unknown desc = update out of sequence'));
    expect(isOutOfSequence(await rejection(f.updateService(id, v, spec('web'))))).toBe(true);
    await f.updateService(id, v, spec('web'));
  });
});

describe('FakeDocker tasks and snapshot', () => {
  it('adds tasks with addresses on the service networks and moves their states', async () => {
    const f = fresh();
    await f.createService(spec('web'));
    const [t1, t2] = f.addTasks('web', 2);
    if (t1 === undefined || t2 === undefined) throw new Error('tasks');
    const fp1 = await readTaskFingerprint(f);
    f.setTaskState(t2, 'running', 'shutdown');
    expect(await readTaskFingerprint(f)).not.toBe(fp1);

    const { snapshot, dropped } = await readSnapshot(f);
    expect(dropped).toEqual([]);
    expect(E.isRight(decode(Snapshot, JSON.parse(JSON.stringify(snapshot))))).toBe(true);
    expect(snapshot.tasks.map((t) => [t.slot, t.state, t.desiredState, t.addresses.map((a) => a.network)])).toEqual([
      [1, 'running', 'running', ['app']],
      [2, 'running', 'shutdown', ['app']],
    ]);
    expect(new Set(snapshot.tasks.flatMap((t) => t.addresses.map((a) => a.ip))).size).toBe(2);
    expect(snapshot.services[0]?.vips[0]?.network).toBe('app');

    f.addTask('web', { addresses: [{ network: 'app', ip: '10.9.9.9' }], state: 'starting' });
    expect((await readSnapshot(f)).snapshot.tasks.find((t) => t.state === 'starting')?.addresses).toEqual([{ network: 'app', ip: '10.9.9.9' }]);

    await f.removeService('web');
    expect(await f.listTasks()).toEqual([]);
  });
});

describe('FakeDocker events', () => {
  it('delivers emitted events, write events after the write, and stops after unsubscribe', async () => {
    const f = fresh();
    const seen: DockerEvent[] = [];
    const errors: Error[] = [];
    const stop = f.watchEvents((e) => seen.push(e), (e) => errors.push(e));
    expect(f.subscriberCount).toBe(1);
    f.emitEvent({ Type: 'node', Action: 'update', Actor: { ID: 'n1' } });
    const id = await f.createService(spec('web'));
    await Promise.resolve();
    expect(seen).toEqual([
      { Type: 'node', Action: 'update', Actor: { ID: 'n1' } },
      expect.objectContaining({ Type: 'service', Action: 'create', Actor: { ID: id, Attributes: { name: 'web' } } }),
    ]);
    stop();
    f.emitEvent({ Type: 'service', Action: 'update' });
    expect(seen).toHaveLength(2);
    expect(errors).toEqual([]);
  });

  it('kills subscriptions with an error, and can fail a subscription on demand', async () => {
    const f = fresh();
    const errors: Error[] = [];
    f.watchEvents(() => undefined, (e) => errors.push(e));
    f.killEvents();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DockerApiError);
    expect(f.subscriberCount).toBe(0);

    f.failNext('watchEvents', new DockerApiError(0, 'connect ENOENT /var/run/docker.sock'));
    f.watchEvents(() => undefined, (e) => errors.push(e));
    await Promise.resolve();
    expect(errors[1]?.message).toBe('connect ENOENT /var/run/docker.sock');
    expect(f.subscriberCount).toBe(0);
  });

  it('can stay silent about its own writes', async () => {
    const f = new FakeDocker({ emitWriteEvents: false });
    const seen: DockerEvent[] = [];
    f.watchEvents((e) => seen.push(e), () => undefined);
    await f.createConfig({ Name: 'c', Data: 'eA==' });
    await Promise.resolve();
    expect(seen).toEqual([]);
  });
});

describe('FakeDocker interleaving hooks', () => {
  it('runs a beforeNext hook before the call reads the state, an afterNext hook after it wrote, each once', async () => {
    const f = new FakeDocker();
    const id = await f.createConfig({ Name: 'c', Labels: { a: '1' }, Data: 'eA==' });
    const v = f.config(id)?.Version.Index ?? 0;
    // Another writer updates the labels just before this update reads the version: the update loses.
    f.beforeNext('updateConfigLabels', () => f.updateConfigLabels(id, v, { Name: 'c', Labels: { a: 'other' } }));
    await expect(f.updateConfigLabels(id, v, { Name: 'c', Labels: { a: 'mine' } })).rejects.toThrow('update out of sequence');
    expect(f.config(id)?.Spec.Labels).toEqual({ a: 'other' });
    // After: the hook sees the write done, the caller sees the hook done.
    const seen: (string | undefined)[] = [];
    f.afterNext('createConfig', () => seen.push(f.config('d')?.Spec.Name));
    await f.createConfig({ Name: 'd', Data: 'eA==' });
    expect(seen).toEqual(['d']);
    await f.createConfig({ Name: 'e', Data: 'eA==' });
    expect(seen).toEqual(['d']);
  });

  it('fires no hook for calls made while a hook runs', async () => {
    const f = new FakeDocker();
    const order: string[] = [];
    f.beforeNext('listConfigs', async () => {
      order.push('hook 1');
      await f.listConfigs();
    });
    f.beforeNext('listConfigs', () => order.push('hook 2'));
    await f.listConfigs();
    expect(order).toEqual(['hook 1']);
    await f.listConfigs();
    expect(order).toEqual(['hook 1', 'hook 2']);
  });
});
