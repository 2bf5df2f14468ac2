/**
 * The task fast path's index from the observer's changed services (ADR 0047) equals indexing every
 * task: over random chains of task lists (tasks added, removed, changed state, services emptied),
 * each noted with the services whose tasks changed, the incremental index holds exactly what
 * indexTasks gives — also past the overlay's flattening depth — and keeps the last index's arrays for
 * the services not noted. Without a note it is indexTasks itself.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { noteTaskChanges, type ChangedServices } from '../../src/domain/task-changes';
import type { SnapshotTask } from '../../src/domain/snapshot';
import { indexTasks, type TaskIndex } from '../../src/plan/resolve-backends';
import { tasksIndexFrom } from '../../src/plan/task-refresh';

const SERVICES = ['a', 'b', 'c', 'd'];

const genTask = fc.record({
  id: fc.constantFrom('t1', 't2', 't3', 't4', 't5', 't6'),
  service: fc.constantFrom(...SERVICES),
  state: fc.constantFrom('running', 'running', 'pending', 'shutdown'),
  desiredState: fc.constantFrom('running', 'running', 'shutdown'),
  ip: fc.integer({ min: 1, max: 9 }),
});

function task(g: { id: string; service: string; state: string; desiredState: string; ip: number }): SnapshotTask {
  return { id: g.id, service: g.service, state: g.state, desiredState: g.desiredState, addresses: [{ network: 'app', ip: `10.0.0.${g.ip}` }], ports: [] } as unknown as SnapshotTask;
}

/** As the observer lists: sorted by service, then id; an unchanged task keeps its object. */
function listOf(byId: ReadonlyMap<string, SnapshotTask>): SnapshotTask[] {
  return [...byId.values()].sort((x, y) => (x.service + x.id < y.service + y.id ? -1 : x.service + x.id > y.service + y.id ? 1 : 0));
}

const plain = (i: TaskIndex): unknown => ({ addresses: Object.fromEntries([...i.runningAddresses].sort()), tasks: Object.fromEntries([...i.runningTasks].sort()) });

describe('incremental task index', () => {
  it('equals indexing every task along random chains of changes', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.option(genTask, { nil: undefined }), { maxLength: 3 }), { minLength: 1, maxLength: 24 }), fc.array(fc.constantFrom(...['t1', 't2', 't3', 't4', 't5', 't6']), { maxLength: 24 }), (steps, removals) => {
        let byId = new Map<string, SnapshotTask>();
        let tasks = listOf(byId);
        let index = indexTasks(tasks);
        steps.forEach((changes, k) => {
          const next = new Map(byId);
          for (const c of changes) if (c !== undefined) next.set(c.id, task(c));
          const gone = removals[k];
          if (gone !== undefined && changes.length === 0) next.delete(gone);
          const list = listOf(next);
          // The services whose tasks are not the same objects, and their tasks in the new list.
          const touched = new Set<string>();
          for (const [id, t] of next) if (byId.get(id) !== t) touched.add(t.service);
          for (const [id, t] of byId) if (next.get(id) !== t) touched.add(t.service);
          const changed: ChangedServices = new Map([...touched].map((s) => [s, list.filter((t) => t.service === s)]));
          noteTaskChanges(list, tasks, changed);
          const got = tasksIndexFrom({ index, tasks }, list);
          expect(plain(got.index)).toEqual(plain(indexTasks(list)));
          for (const s of SERVICES) if (!touched.has(s)) expect(got.index.runningTasks.get(s)).toBe(index.runningTasks.get(s));
          expect(got.index.runningTasks.size).toBe(indexTasks(list).runningTasks.size);
          byId = next;
          tasks = list;
          index = got.index;
        });
      }),
      { numRuns: 300 },
    );
  });

  it('indexes every task when the observer said nothing about the list', () => {
    const list = [task({ id: 't1', service: 'a', state: 'running', desiredState: 'running', ip: 1 })];
    const last = { index: indexTasks([]), tasks: [] as SnapshotTask[] };
    const got = tasksIndexFrom(last, list);
    expect(got.among).toBeUndefined();
    expect(plain(got.index)).toEqual(plain(indexTasks(list)));
  });
});
