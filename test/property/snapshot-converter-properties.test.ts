/**
 * The incremental converter (ADR 0047) equals the whole conversion: over random sequences of Docker
 * listings — objects added, removed, changed under a new version, listed in another order; network
 * names that change; services that fail to convert and take their tasks with them; tasks of services
 * not listed; bad addresses and labels; a repeated ID — each listing converts to exactly what
 * toSnapshot gives for it, dropped lines included. And what it reuses is what did not change: an
 * object with the same ID, version and context is the same value object as before, and the services
 * it notes as changed cover every task that is not the same object.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { servicesChangedSince, type ChangedServices } from '../../src/domain/task-changes';
import type { Snapshot } from '../../src/domain/snapshot';
import type { NetworkInfo, NodeInfo, SecretInfo, ServiceInfo, TaskInfo } from '../../src/observed/docker-port';
import { SnapshotConverter } from '../../src/observed/snapshot-converter';
import { toSnapshot, type DockerObjects } from '../../src/observed/to-snapshot';

/** The content each object can take; an object's content only changes with its version. */
interface ServiceState { readonly name: string; readonly nets: readonly string[]; readonly vip: string; readonly replicas: number; readonly label: string }
interface TaskState { readonly service: string; readonly state: string; readonly desired: string; readonly ip: string; readonly net: string; readonly slot: number }
interface World {
  readonly networks: readonly { readonly id: string; readonly name: string }[];
  readonly services: ReadonlyMap<string, { readonly v: number; readonly s: ServiceState }>;
  readonly tasks: ReadonlyMap<string, { readonly v: number; readonly t: TaskState }>;
  readonly secrets: ReadonlyMap<string, { readonly v: number; readonly name: string }>;
  readonly nodes: ReadonlyMap<string, { readonly v: number; readonly state: string }>;
}

const SERVICE_IDS = ['sa', 'sb', 'sc', 'sd', 'se'];
const NAMES = ['web', 'api', 'db', 'Bad Name', 'cache', 'web'];
const NETS = ['n1', 'n2', 'n3', 'ghost'];
const IPS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', 'not-an-ip', '10.0.0.1/24', ''];
const STATES = ['running', 'pending', 'shutdown', 'allocated', 'weird'];

const genService: fc.Arbitrary<ServiceState> = fc.record({
  name: fc.constantFrom(...NAMES),
  nets: fc.subarray(NETS),
  vip: fc.constantFrom(...IPS),
  replicas: fc.integer({ min: 0, max: 3 }),
  label: fc.constantFrom('ok', 'b@d value\n'),
});
const genTask: fc.Arbitrary<TaskState> = fc.record({
  service: fc.constantFrom(...SERVICE_IDS, 'gone'),
  state: fc.constantFrom(...STATES),
  desired: fc.constantFrom('running', 'shutdown'),
  ip: fc.constantFrom(...IPS),
  net: fc.constantFrom(...NETS),
  slot: fc.integer({ min: 0, max: 3 }),
});

type Change =
  | { readonly kind: 'service'; readonly id: string; readonly s: ServiceState | undefined }
  | { readonly kind: 'task'; readonly id: string; readonly t: TaskState | undefined }
  | { readonly kind: 'secret'; readonly id: string; readonly name: string | undefined }
  | { readonly kind: 'node'; readonly id: string; readonly state: string }
  | { readonly kind: 'rename'; readonly net: number; readonly name: string }
  | { readonly kind: 'none' };

const genChange: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('service' as const), id: fc.constantFrom(...SERVICE_IDS), s: fc.option(genService, { nil: undefined }) }),
  fc.record({ kind: fc.constant('task' as const), id: fc.constantFrom('t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'), t: fc.option(genTask, { nil: undefined }) }),
  fc.record({ kind: fc.constant('task' as const), id: fc.constantFrom('t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'), t: genTask }),
  fc.record({ kind: fc.constant('secret' as const), id: fc.constantFrom('x1', 'x2', 'x3'), name: fc.option(fc.constantFrom('tls-a', 'tls-b', 'bad name'), { nil: undefined }) }),
  fc.record({ kind: fc.constant('node' as const), id: fc.constantFrom('node1', 'node2'), state: fc.constantFrom('ready', 'down', 'Disconnected', 'odd') }),
  fc.record({ kind: fc.constant('rename' as const), net: fc.integer({ min: 0, max: 2 }), name: fc.constantFrom('app', 'back', 'front', 'bad name!') }),
  fc.constant({ kind: 'none' as const }),
);

/** A step: changes applied together, then the listing read in some order, maybe with one object listed twice. */
const genStep = fc.record({ changes: fc.array(genChange, { maxLength: 4 }), order: fc.integer({ min: 0, max: 1000 }), repeat: fc.constantFrom(false, false, false, false, false, false, true) });

let version = 0;
function apply(w: World, c: Change): World {
  const v = ++version;
  const put = <K, V>(m: ReadonlyMap<K, V>, k: K, val: V | undefined): Map<K, V> => {
    const n = new Map(m);
    if (val === undefined) n.delete(k);
    else n.set(k, val);
    return n;
  };
  switch (c.kind) {
    case 'service':
      return { ...w, services: put(w.services, c.id, c.s === undefined ? undefined : { v, s: c.s }) };
    case 'task':
      return { ...w, tasks: put(w.tasks, c.id, c.t === undefined ? undefined : { v, t: c.t }) };
    case 'secret':
      return { ...w, secrets: put(w.secrets, c.id, c.name === undefined ? undefined : { v, name: c.name }) };
    case 'node':
      return { ...w, nodes: put(w.nodes, c.id, { v, state: c.state }) };
    case 'rename':
      return { ...w, networks: w.networks.map((n, i) => (i === c.net ? { ...n, name: c.name } : n)) };
    case 'none':
      return w;
  }
}

/** A listing of the world as the daemon would send it: fresh objects, in an order picked by `order`. */
function listing(w: World, order: number, repeat: boolean): DockerObjects {
  const rotate = <T>(xs: T[]): T[] => (xs.length === 0 ? xs : [...xs.slice(order % xs.length), ...xs.slice(0, order % xs.length)]);
  const networks: NetworkInfo[] = w.networks.map((n) => ({ Id: n.id, Name: n.name, Driver: 'overlay', Scope: 'swarm' }));
  const services: ServiceInfo[] = [...w.services].map(([id, { v, s }]) => ({
    ID: id,
    Version: { Index: v },
    Spec: { Name: s.name, Labels: { team: s.label }, TaskTemplate: { ContainerSpec: { Image: 'x' }, Networks: s.nets.map((n) => ({ Target: n })) }, Mode: { Replicated: { Replicas: s.replicas } } },
    Endpoint: { VirtualIPs: s.nets.map((n) => ({ NetworkID: n, Addr: s.vip })) },
  }));
  const tasks: TaskInfo[] = [...w.tasks].map(([id, { v, t }]) => ({
    ID: id,
    Version: { Index: v },
    ServiceID: t.service,
    NodeID: 'node1',
    Slot: t.slot,
    DesiredState: t.desired,
    Status: { State: t.state },
    // A network not in the list ('ghost') is named by the attachment.
    NetworksAttachments: [{ Network: { ID: t.net, Spec: { Name: t.net === 'ghost' ? 'spooky' : 'ignored' } }, Addresses: [t.ip] }],
  }));
  const secrets: SecretInfo[] = [...w.secrets].map(([id, { v, name }]) => ({ ID: id, Version: { Index: v }, Spec: { Name: name } }));
  const nodes: NodeInfo[] = [...w.nodes].map(([id, { v, state }]) => ({ ID: id, Version: { Index: v }, Spec: { Role: 'worker', Availability: 'active' }, Description: { Hostname: id }, Status: { State: state, Addr: '10.1.0.1' } }));
  const twice = <T>(xs: T[]): T[] => (repeat && xs.length > 0 ? [...xs, structuredClone(xs[0] as T)] : xs);
  // JSON round trip: the converter gets new objects every time, as from the daemon.
  return JSON.parse(JSON.stringify({ networks, services: rotate(services), tasks: twice(rotate(tasks)), secrets: rotate(secrets), nodes: rotate(nodes) })) as DockerObjects;
}

const START: World = {
  networks: [
    { id: 'n1', name: 'app' },
    { id: 'n2', name: 'back' },
    { id: 'n3', name: 'ingress' },
  ],
  services: new Map(),
  tasks: new Map(),
  secrets: new Map(),
  nodes: new Map([['node1', { v: 0, state: 'ready' }]]),
};

/**
 * For every service not noted as changed, its tasks are the same objects in the same order in both
 * lists; for every one noted, the note holds its tasks of the new list, in order.
 */
function coveredBy(before: Snapshot, after: Snapshot, changed: ChangedServices): boolean {
  for (const [service, tasks] of changed) {
    const inList = after.tasks.filter((t) => t.service === service);
    if (inList.length !== tasks.length || inList.some((t, i) => t !== tasks[i])) return false;
  }
  const of = (s: Snapshot): Map<string, unknown[]> => {
    const m = new Map<string, unknown[]>();
    for (const t of s.tasks) if (!changed.has(t.service)) m.set(t.service, [...(m.get(t.service) ?? []), t]);
    return m;
  };
  const a = of(before);
  const b = of(after);
  return a.size === b.size && [...a].every(([s, ts]) => {
    const us = b.get(s);
    return us !== undefined && us.length === ts.length && ts.every((t, i) => t === us[i]);
  });
}

describe('incremental snapshot conversion', () => {
  it('equals the whole conversion after every listing of a random sequence', () => {
    fc.assert(
      fc.property(fc.array(genStep, { minLength: 1, maxLength: 12 }), (steps) => {
        const converter = new SnapshotConverter();
        let world = START;
        let last: Snapshot | undefined;
        let lastRepeat = false;
        for (const step of steps) {
          for (const c of step.changes) world = apply(world, c);
          const objects = listing(world, step.order, step.repeat);
          const got = converter.convert(objects);
          expect(got).toEqual(toSnapshot(objects));
          if (last !== undefined) {
            const changed = servicesChangedSince(got.snapshot.tasks, last.tasks);
            if (!step.repeat) expect(changed).toBeDefined();
            if (changed !== undefined) expect(coveredBy(last, got.snapshot, changed)).toBe(true);
            // Nothing changed, same order or not: every list is the last one itself.
            // Nothing changed, in whatever order listed: the lists are the last ones themselves (but
            // after a repeated ID, which starts over, and with two services of one name, whose order is the listing's).
            const names = [...world.services.values()].map((x) => x.s.name);
            if (step.changes.length === 0 && !step.repeat && !lastRepeat && new Set(names).size === names.length) {
              expect(got.snapshot.tasks).toBe(last.tasks);
              expect(got.snapshot.services).toBe(last.services);
              expect(got.snapshot.networks).toBe(last.networks);
            }
          }
          last = got.snapshot;
          lastRepeat = step.repeat;
        }
      }),
      { numRuns: 400 },
    );
  });
});
