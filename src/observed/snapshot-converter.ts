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
  /** The network naming of the last listing; `epoch` changes with it (and after a listing that repeats a service ID): every service and task is converted again. */
  private namesKey = '';
  private epoch = 0;
  private names: NetworkNames | undefined;
  /**
   * What a task's conversion reads of its service, by service ID: the service's name, or null for a
   * service that was listed but dropped (no ID: not listed). Kept across listings, changed only for
   * services converted anew or gone; their tasks are converted again (`renamed`).
   */
  private readonly serviceNaming = new Map<string, string | null>();
  private renamed: ReadonlySet<string> = new Set();
  private last: Snapshot | undefined;

  private readonly secrets = new VersionedList<SecretInfo, Snapshot['secrets'][number]>({ id: (s) => s.ID, version: versionOf, context: () => '', convert: toSnapshotSecret, key: SORT_KEYS.secret });
  private readonly nodes = new VersionedList<NodeInfo, Snapshot['nodes'][number]>({ id: (n) => n.ID, version: versionOf, context: () => '', convert: toSnapshotNode, key: SORT_KEYS.node });
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
    // The service ID, compared as text; the name it stands for is checked through `renamed`.
    context: (t) => String(t.ServiceID),
    stale: (t) => this.renamed.size > 0 && this.renamed.has(t.ServiceID),
    convert: (t, dropped) => {
      const service = this.serviceNaming.get(t.ServiceID);
      if (typeof service === 'string') return toSnapshotTask(t, service, this.namesNow(), dropped);
      dropped.push(orphanTaskLine(t, service === null));
      return undefined;
    },
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
    const services = this.services.update(objects.services, this.epoch, dropped);
    this.renamed = services.added === undefined ? this.namingFromScratch(objects.services, names) : this.namingOf(services.changedIds);
    const lastTasks = this.last?.tasks;
    const tasks = this.tasks.update(objects.tasks, this.epoch, dropped);
    if (lastTasks !== undefined && tasks.added !== undefined && tasks.removed !== undefined) {
      const touched = new Set<string>();
      for (const t of tasks.added) touched.add(t.service);
      for (const t of tasks.removed) touched.add(t.service);
      // Each touched service's tasks in the new list, in its order (a service's tasks are contiguous in it: sorted by service first).
      noteTaskChanges(tasks.list, lastTasks, new Map([...touched].map((s) => [s, this.tasks.range(`${s}\u0000`)])));
    }
    this.names = undefined;
    const snapshot: Snapshot = {
      services: services.list as Snapshot['services'],
      tasks: tasks.list as Snapshot['tasks'],
      networks,
      secrets: secrets as Snapshot['secrets'],
      nodes: nodes as Snapshot['nodes'],
      ...(configs !== undefined && configs.length > 0 ? { configs } : {}),
    };
    this.last = snapshot;
    return { snapshot, dropped };
  }

  /** The naming of the services converted anew or gone; the IDs whose naming changed. */
  private namingOf(changedIds: readonly string[]): ReadonlySet<string> {
    const renamed = new Set<string>();
    for (const id of changedIds) {
      const e = this.services.valueOf(id);
      const now = e === undefined ? undefined : (e.value?.name ?? null);
      if (now === this.serviceNaming.get(id) && (now !== undefined || !this.serviceNaming.has(id))) continue;
      renamed.add(id);
      if (now === undefined) this.serviceNaming.delete(id);
      else this.serviceNaming.set(id, now);
    }
    return renamed;
  }

  /**
   * A service listing that repeats an ID (never from Swarm): named as the whole conversion names
   * them (a name from any occurrence that converts, the last one winning; else dropped), and every
   * task converted again.
   */
  private namingFromScratch(services: readonly ServiceInfo[], names: NetworkNames): ReadonlySet<string> {
    const byId = new Map<string, string>();
    const dropped = new Set<string>();
    for (const s of services) {
      const v = toSnapshotService(s, names, []);
      if (v !== undefined) byId.set(s.ID, v.name);
      else dropped.add(s.ID);
    }
    this.serviceNaming.clear();
    for (const id of dropped) this.serviceNaming.set(id, null);
    for (const [id, name] of byId) this.serviceNaming.set(id, name);
    this.epoch++;
    return new Set();
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
