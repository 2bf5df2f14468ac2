/**
 * The core's observer converts each run's Docker listings incrementally (ADR 0047). At 10,000
 * bench-mix routes a run lists about 73,000 objects (20,000 services, 50,000 tasks); converting and
 * validating each one again for every task change cost the core most of a second's CPU. Here an object
 * whose ID and Version.Index (and what its conversion reads besides: the network names, a task's
 * service) are those of the last listing keeps its converted value, the same object; a list in which
 * nothing changed is the last run's array itself. So the task fast path compares the snapshot with
 * the last one mostly by identity, and the converter notes which services' tasks changed
 * (src/domain/task-changes.ts) for it to re-index only those.
 *
 * The result equals toSnapshot's for the same listing, dropped lines included (the property test
 * test/property/snapshot-converter-properties.test.ts runs both over random sequences of listings).
 */
import type { Snapshot, SnapshotService, SnapshotTask } from '../domain/snapshot';
import { noteTaskChanges } from '../domain/task-changes';
import type { NodeInfo, SecretInfo, ServiceInfo, TaskInfo } from './docker-port';
import {
  networkNamesOf,
  orphanTaskLine,
  SORT_KEYS,
  toSnapshotConfigs,
  toSnapshotNetwork,
  toSnapshotNode,
  toSnapshotSecret,
  toSnapshotService,
  toSnapshotTask,
  type DockerObjects,
  type NetworkNames,
  type ToSnapshotResult,
} from './to-snapshot';
import { VersionedList } from './versioned-list';

const versionOf = (o: { readonly Version?: { readonly Index?: unknown } }): number | undefined => (typeof o.Version?.Index === 'number' ? o.Version.Index : undefined);

export class SnapshotConverter {
  /** The network naming of the last listing, and its epoch: services and tasks converted under another are converted again. */
  private namesKey = '';
  private epoch = 0;
  private names: NetworkNames | undefined;
  /** Per listing: which service IDs were converted to which name, and which were dropped (what a task's conversion reads). */
  private serviceNames = new Map<string, string>();
  private droppedServices = new Set<string>();
  private last: Snapshot | undefined;

  private readonly secrets = new VersionedList<SecretInfo, Snapshot['secrets'][number]>({
    id: (s) => s.ID,
    version: versionOf,
    context: () => '',
    convert: toSnapshotSecret,
    key: SORT_KEYS.secret,
  });

  private readonly nodes = new VersionedList<NodeInfo, Snapshot['nodes'][number]>({
    id: (n) => n.ID,
    version: versionOf,
    context: () => '',
    convert: toSnapshotNode,
    key: SORT_KEYS.node,
  });

  private readonly services = new VersionedList<ServiceInfo, SnapshotService>({
    id: (s) => s.ID,
    version: versionOf,
    context: () => '',
    convert: (s, dropped) => toSnapshotService(s, this.namesNow(), dropped),
    key: SORT_KEYS.service,
  });

  private readonly tasks = new VersionedList<TaskInfo, SnapshotTask>({
    id: (t) => t.ID,
    version: versionOf,
    context: (t) => this.serviceNames.get(t.ServiceID) ?? { drop: orphanTaskLine(t, this.droppedServices.has(t.ServiceID)) },
    convert: (t, dropped) => toSnapshotTask(t, this.serviceNames.get(t.ServiceID) ?? '', this.namesNow(), dropped),
    key: SORT_KEYS.task,
  });

  private namesNow(): NetworkNames {
    if (this.names === undefined) throw new Error('SnapshotConverter: network names read outside convert');
    return this.names;
  }

  convert(objects: DockerObjects): ToSnapshotResult {
    const dropped: string[] = [];
    const names = networkNamesOf(objects.networks, objects.tasks);
    if (names.key !== this.namesKey) {
      this.namesKey = names.key;
      this.epoch++;
    }
    this.names = names;
    // Networks and error-page configs are few (and networks carry no version): converted every time,
    // the last array kept when equal so the snapshot's parts compare by identity.
    const networks = sameAs(this.last?.networks, objects.networks.flatMap((n) => toSnapshotNetwork(n, dropped) ?? []).sort(byKey(SORT_KEYS.network)));
    const secrets = this.secrets.update(objects.secrets, 0, dropped).list;
    const configs = sameAs(this.last?.configs, toSnapshotConfigs(objects.pageConfigs, dropped));
    const nodes = this.nodes.update(objects.nodes, 0, dropped).list;
    const serviceNames = new Map<string, string>();
    const droppedServices = new Set<string>();
    const services = this.services.update(objects.services, this.epoch, dropped, (s, v) => (v !== undefined ? serviceNames.set(s.ID, v.name) : droppedServices.add(s.ID))).list;
    this.serviceNames = serviceNames;
    this.droppedServices = droppedServices;
    const lastTasks = this.last?.tasks;
    const tasks = this.tasks.update(objects.tasks, this.epoch, dropped);
    if (lastTasks !== undefined && tasks.added !== undefined && tasks.removed !== undefined) {
      const touched = new Set<string>();
      for (const t of tasks.added) touched.add(t.service);
      for (const t of tasks.removed) touched.add(t.service);
      noteTaskChanges(tasks.list, lastTasks, touched);
    }
    this.names = undefined;
    const snapshot: Snapshot = {
      services: services as Snapshot['services'],
      tasks: tasks.list as Snapshot['tasks'],
      networks,
      secrets: secrets as Snapshot['secrets'],
      nodes: nodes as Snapshot['nodes'],
      ...(configs !== undefined && configs.length > 0 ? { configs } : {}),
    };
    this.last = snapshot;
    return { snapshot, dropped };
  }
}

function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}

/** `next`, or `last` when it holds the same data (small lists: compared as JSON). */
function sameAs<T>(last: T[] | undefined, next: T[]): T[] {
  return last !== undefined && JSON.stringify(last) === JSON.stringify(next) ? last : next;
}
