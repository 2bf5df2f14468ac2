/**
 * FakeDocker: an in-memory DockerPort for component tests. It behaves like dockerd 20.10 where
 * swarmgate depends on it, and is stricter where that helps tests:
 * - one cluster-wide version index, bumped by every write (like Swarm's raft index); updates with a
 *   stale version fail with the daemon's "update out of sequence" error (HTTP 500);
 * - names are unique per kind (409 with the daemon's texts); unknown IDs give 404;
 * - configs: updateConfigLabels changes labels only (Data ignored, as the adapter does; a different Name
 *   is a 400), a config must have 1 byte to 1000 KiB of data (400), a config a service mounts cannot be removed
 *   (400 "in use"); service creation checks referenced configs, secrets and networks;
 * - network targets given by name are stored as IDs, as the daemon does;
 * - listConfigs omits Data (the real 20.10 daemon includes it; DockerPort promises nothing), so code
 *   that needs content must call inspectConfig;
 * - every WRITE call (create/update/remove) is appended to `actions`, failed ones too (with `error`);
 * - `failNext` / `delayNext` inject faults per method; `emitEvent` / `killEvents` drive watchEvents;
 * - `beforeNext` / `afterNext` interleave: a hook (typically another writer's whole call) runs just before a
 *   method's next call reads the state, or just after it wrote and before it returns to its caller;
 * - it does not schedule: tests add tasks (`addTask`, `addTasks`) and move them (`setTaskState`).
 *   Removing a service removes its tasks. The one exception: a global job (Mode.GlobalJob, the node
 *   clean-up) gets one task per node, already `complete`, when it is created.
 * Everything returned is a deep copy, so callers cannot change the fake's state by mutation.
 */
import { DockerApiError, outOfSequenceError } from '../../src/observed/docker-errors';
import type {
  ConfigInfo,
  ConfigSpec,
  DockerEvent,
  NetworkSpec,
  DockerPort,
  LabelFilter,
  Labels,
  NetworkInfo,
  NodeInfo,
  PortConfig,
  SecretInfo,
  ServiceInfo,
  ServiceSpec,
  TaskInfo,
} from '../../src/observed/docker-port';

export type PortMethod = keyof DockerPort;
export const WRITE_METHODS = ['createConfig', 'updateConfigLabels', 'removeConfig', 'createService', 'updateService', 'removeService', 'createNetwork', 'removeNetwork', 'createSecret', 'removeSecret'] as const;
export type WriteMethod = (typeof WRITE_METHODS)[number];

export interface FakeAction {
  readonly op: WriteMethod;
  /** The object's name (for removals and updates, the name it had; the id if it was unknown). */
  readonly target: string;
  readonly id?: string;
  readonly version?: number;
  readonly spec?: ConfigSpec | ServiceSpec;
  /** Set when the call failed (fault or daemon-like rejection). */
  readonly error?: string;
}

export interface Fault {
  /** Reject the call with this error (after the delay, if any). */
  readonly error?: Error;
  /** Wait this long before running (or failing) the call. */
  readonly delayMs?: number;
}

/** An interleaving hook (see FakeDocker.beforeNext): anything, often another writer's call against the same fake. */
export type Hook = () => unknown;

export interface TaskOptions {
  readonly state?: string;
  readonly desiredState?: string;
  readonly slot?: number;
  readonly nodeId?: string;
  /** Swarm's error (Status.Err), e.g. "no suitable node (host-mode port already in use on 1 node)" on a pending task. */
  readonly err?: string;
  /** Swarm's state message (Status.Message), e.g. "pending task scheduling". */
  readonly message?: string;
  /** Addresses by network name or ID, with or without a prefix length; default: one fresh address per service network. */
  readonly addresses?: readonly { readonly network: string; readonly ip: string }[];
}

export interface NetworkOptions {
  readonly driver?: string;
  readonly scope?: string;
  readonly ingress?: boolean;
  readonly attachable?: boolean;
  readonly labels?: Labels;
}

export interface NodeOptions {
  readonly id?: string;
  readonly role?: 'manager' | 'worker';
  readonly availability?: 'active' | 'pause' | 'drain';
  readonly state?: string;
  readonly addr?: string;
  readonly labels?: Labels;
}

export interface FakeDockerOptions {
  /** Emit the events the daemon would emit for each successful write (default true). */
  readonly emitWriteEvents?: boolean;
}

interface Subscriber {
  readonly onEvent: (e: DockerEvent) => void;
  readonly onError: (err: Error) => void;
}

interface NetworkState {
  readonly info: NetworkInfo;
  readonly index: number;
  next: number;
}

const clone = <T>(v: T): T => structuredClone(v);

function matchesLabels(labels: Labels | undefined, filter: LabelFilter | undefined): boolean {
  if (filter === undefined) return true;
  const l = labels ?? {};
  return filter.every((f) => {
    const eq = f.indexOf('=');
    if (eq < 0) return Object.prototype.hasOwnProperty.call(l, f);
    return l[f.slice(0, eq)] === f.slice(eq + 1);
  });
}

export class FakeDocker implements DockerPort {
  private index = 10;
  private idCounter = 0;
  private readonly services = new Map<string, ServiceInfo>();
  private readonly tasks = new Map<string, TaskInfo>();
  private readonly networks = new Map<string, NetworkState>();
  private readonly secrets = new Map<string, SecretInfo>();
  private readonly nodes = new Map<string, NodeInfo>();
  private taskClock = 0;
  private readonly configs = new Map<string, ConfigInfo>();
  /**
   * Names to IDs of services and configs (names are unique per kind): lookups by name stay O(1), so a
   * benchmark can load 10,000 routes' spec configs and 20,000 services (bench/core-memory.ts).
   */
  private readonly serviceNames = new Map<string, string>();
  private readonly configNames = new Map<string, string>();
  /** Each service's task IDs: a new task's slot is found among its own service's tasks only. */
  private readonly serviceTasks = new Map<string, Set<string>>();
  private readonly faults = new Map<PortMethod, { fault: Fault; remaining: number }[]>();
  private readonly hooks = { before: new Map<PortMethod, Hook[]>(), after: new Map<PortMethod, Hook[]>() };
  private hookDepth = 0;
  private readonly subscribers = new Set<Subscriber>();
  private readonly log: FakeAction[] = [];
  private readonly emitWriteEvents: boolean;
  private nextPublished = 30000;

  constructor(options: FakeDockerOptions = {}) {
    this.emitWriteEvents = options.emitWriteEvents ?? true;
  }

  /** A fake shaped like a fresh single-node swarm: one ready manager "node-1" and the ingress network. */
  static singleNode(options: FakeDockerOptions = {}): FakeDocker {
    const f = new FakeDocker(options);
    f.addNode('node-1', { id: 'node1id', addr: '10.210.0.11' });
    f.addNetwork('ingress', { ingress: true });
    return f;
  }

  // ------------------------------------------------------------------ inspection for tests

  /** Every write call so far, in order. */
  get actions(): readonly FakeAction[] {
    return [...this.log];
  }

  /** Successful writes only. */
  get writes(): readonly FakeAction[] {
    return this.log.filter((a) => a.error === undefined);
  }

  clearActions(): void {
    this.log.length = 0;
  }

  /** The current cluster-wide version index (the Version.Index the next write will exceed). */
  get versionIndex(): number {
    return this.index;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  service(idOrName: string): ServiceInfo | undefined {
    const s = this.findService(idOrName);
    return s === undefined ? undefined : clone(s);
  }

  config(idOrName: string): ConfigInfo | undefined {
    const c = this.findConfig(idOrName);
    return c === undefined ? undefined : clone(c);
  }

  // ------------------------------------------------------------------ fault injection

  /**
   * The next `times` calls of `method` fail with `error` (an Error, or a Fault with an optional
   * delay). Faults queue per method and are consumed in order. Returns this for chaining.
   */
  failNext(method: PortMethod, error: Error | Fault, times = 1): this {
    const fault: Fault = error instanceof Error ? { error } : error;
    const queue = this.faults.get(method) ?? [];
    queue.push({ fault, remaining: times });
    this.faults.set(method, queue);
    return this;
  }

  /** The next `times` calls of `method` wait `ms` before running normally. */
  delayNext(method: PortMethod, ms: number, times = 1): this {
    return this.failNext(method, { delayMs: ms }, times);
  }

  clearFaults(): void {
    this.faults.clear();
    this.hooks.before.clear();
    this.hooks.after.clear();
  }

  /**
   * Interleaving: the next call of `method` first awaits `hook`, then runs on the state the hook left
   * (so the hook can be another writer racing this call). Hooks queue per method; no hook fires for a
   * call made while a hook runs (the hook's own calls, or anything else meanwhile).
   */
  beforeNext(method: PortMethod, hook: Hook): this {
    this.hooks.before.set(method, [...(this.hooks.before.get(method) ?? []), hook]);
    return this;
  }

  /** Like beforeNext, but the hook runs after the call took effect (successful or not), before its caller sees the result. */
  afterNext(method: PortMethod, hook: Hook): this {
    this.hooks.after.set(method, [...(this.hooks.after.get(method) ?? []), hook]);
    return this;
  }

  private takeHook(which: 'before' | 'after', method: PortMethod): Hook | undefined {
    if (this.hookDepth > 0) return undefined;
    const queue = this.hooks[which].get(method);
    return queue?.shift();
  }

  private takeFault(method: PortMethod): Fault | undefined {
    const queue = this.faults.get(method);
    const head = queue?.[0];
    if (queue === undefined || head === undefined) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head.fault;
  }

  /** Apply a pending fault (delay, then maybe throw) before running `body`. */
  private async run<T>(method: PortMethod, body: () => T, action?: Omit<FakeAction, 'error'>): Promise<T> {
    const before = this.takeHook('before', method);
    if (before !== undefined) await this.inHook(before);
    const after = this.takeHook('after', method);
    try {
      return await this.runNow(method, body, action);
    } finally {
      if (after !== undefined) await this.inHook(after);
    }
  }

  /** While a hook runs, no other hook fires (its own calls would otherwise take the next one queued). */
  private async inHook(hook: Hook): Promise<void> {
    this.hookDepth++;
    try {
      await hook();
    } finally {
      this.hookDepth--;
    }
  }

  private async runNow<T>(method: PortMethod, body: () => T, action?: Omit<FakeAction, 'error'>): Promise<T> {
    const fault = this.takeFault(method);
    if (fault?.delayMs !== undefined && fault.delayMs > 0) await new Promise((r) => setTimeout(r, fault.delayMs));
    else await Promise.resolve();
    const record = (error?: unknown): void => {
      if (action === undefined) return;
      this.log.push(error === undefined ? action : { ...action, error: error instanceof Error ? error.message : String(error) });
    };
    if (fault?.error !== undefined) {
      record(fault.error);
      throw fault.error;
    }
    try {
      const result = body();
      record();
      return result;
    } catch (err) {
      record(err);
      throw err;
    }
  }

  // ------------------------------------------------------------------ seeding helpers (not logged)

  private newId(): string {
    this.idCounter += 1;
    // 25 lowercase letters and digits, like swarm IDs.
    return `fk${this.idCounter.toString(36).padStart(23, '0')}`;
  }

  private bump(): number {
    this.index += 1;
    return this.index;
  }

  addNetwork(name: string, options: NetworkOptions = {}): string {
    const id = this.newId();
    const info: NetworkInfo = {
      Id: id,
      Name: name,
      Driver: options.driver ?? 'overlay',
      Scope: options.scope ?? 'swarm',
      Ingress: options.ingress ?? false,
      Attachable: options.attachable ?? false,
      Labels: { ...(options.labels ?? {}) },
    };
    this.networks.set(id, { info, index: this.networks.size, next: 2 });
    this.emit('network', 'create', id, { name });
    return id;
  }

  /** Test control: remove a network as someone else would (no checks, no action logged). */
  dropNetwork(idOrName: string): void {
    const n = this.findNetwork(idOrName);
    if (n === undefined) throw new DockerApiError(404, `network ${idOrName} not found`);
    this.networks.delete(n.info.Id);
    this.emit('network', 'remove', n.info.Id, { name: n.info.Name });
  }

  addSecret(name: string, labels: Labels = {}): string {
    const id = this.newId();
    this.secrets.set(id, { ID: id, Version: { Index: this.bump() }, Spec: { Name: name, Labels: { ...labels } } });
    this.emit('secret', 'create', id, { name });
    return id;
  }

  createSecret(spec: { readonly Name: string; readonly Labels?: Labels; readonly Data: string }): Promise<string> {
    return this.run(
      'createSecret',
      () => {
        if ([...this.secrets.values()].some((x) => x.Spec.Name === spec.Name)) throw new DockerApiError(409, `secret ${spec.Name} already exists`, 'createSecret');
        return this.addSecret(spec.Name, spec.Labels ?? {});
      },
      { op: 'createSecret', target: spec.Name },
    );
  }

  removeSecret(id: string): Promise<void> {
    const current = this.secrets.get(id);
    return this.run(
      'removeSecret',
      () => {
        const x = this.secrets.get(id);
        if (x === undefined) throw new DockerApiError(404, `secret ${id} not found`, 'removeSecret');
        const users = [...this.services.values()].filter((svc) => (svc.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).some((r) => r.SecretID === id));
        if (users.length > 0) throw new DockerApiError(400, `rpc error: code = InvalidArgument desc = secret '${x.Spec.Name}' is in use by service ${users[0]?.Spec.Name ?? ''}`, 'removeSecret');
        this.dropSecret(id);
      },
      { op: 'removeSecret', target: current?.Spec.Name ?? id },
    );
  }

  /** Test control: remove a secret as someone else would (no checks, no action logged). */
  dropSecret(idOrName: string): void {
    for (const [id, s] of this.secrets) {
      if (id === idOrName || s.Spec.Name === idOrName) {
        this.secrets.delete(id);
        this.emit('secret', 'remove', id, { name: s.Spec.Name });
        return;
      }
    }
    throw new DockerApiError(404, `secret ${idOrName} not found`);
  }

  addNode(hostname: string, options: NodeOptions = {}): string {
    const id = options.id ?? this.newId();
    this.nodes.set(id, {
      ID: id,
      Version: { Index: this.bump() },
      Spec: { Role: options.role ?? 'manager', Availability: options.availability ?? 'active', Labels: { ...(options.labels ?? {}) } },
      Description: { Hostname: hostname },
      Status: { State: options.state ?? 'ready', ...(options.addr !== undefined ? { Addr: options.addr } : {}) },
    });
    this.emit('node', 'create', id, { name: hostname });
    return id;
  }

  /** Add one task to a service; returns its ID. Addresses default to a fresh IP on each service network. */
  addTask(serviceIdOrName: string, options: TaskOptions = {}): string {
    const svc = this.findService(serviceIdOrName);
    if (svc === undefined) throw new Error(`FakeDocker.addTask: no service ${serviceIdOrName}`);
    const id = this.newId();
    const slot = options.slot ?? this.nextSlot(svc.ID);
    const attachments = this.taskAttachments(svc, options.addresses);
    const firstNode = this.nodes.keys().next();
    const nodeId = options.nodeId ?? (firstNode.done === true ? undefined : firstNode.value);
    const task: TaskInfo = {
      ID: id,
      // Like Swarm, every change of a task gets a new version (the core's observer relies on it, ADR 0047).
      Version: { Index: this.bump() },
      ServiceID: svc.ID,
      ...(nodeId !== undefined ? { NodeID: nodeId } : {}),
      Slot: slot,
      DesiredState: options.desiredState ?? 'running',
      Status: {
        State: options.state ?? 'running',
        Timestamp: this.taskTimestamp(),
        ...(options.err !== undefined ? { Err: options.err } : {}),
        ...(options.message !== undefined ? { Message: options.message } : {}),
      },
      NetworksAttachments: attachments,
      // Like Swarm, a task carries the container spec of the service version it was created from.
      Spec: {
        ContainerSpec: {
          Configs: (svc.Spec.TaskTemplate.ContainerSpec.Configs ?? []).map((c) => ({ ConfigID: c.ConfigID, ConfigName: c.ConfigName })),
          Secrets: (svc.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => ({ SecretID: x.SecretID, SecretName: x.SecretName })),
        },
      },
    };
    this.tasks.set(id, task);
    this.serviceTasks.set(svc.ID, (this.serviceTasks.get(svc.ID) ?? new Set()).add(id));
    return id;
  }

  /** One above the highest slot of the service's present tasks. */
  private nextSlot(serviceId: string): number {
    const slots = [...(this.serviceTasks.get(serviceId) ?? [])].map((id) => this.tasks.get(id)?.Slot ?? 0);
    return Math.max(0, ...slots) + 1;
  }

  /** Add `count` running tasks to a service; returns their IDs. */
  addTasks(serviceIdOrName: string, count: number, options: Omit<TaskOptions, 'slot' | 'addresses'> = {}): string[] {
    return Array.from({ length: count }, () => this.addTask(serviceIdOrName, options));
  }

  /** Move a task: observed state and, optionally, desired state (e.g. 'running', 'shutdown') and Swarm's error (Status.Err). */
  setTaskState(taskId: string, state: string, desiredState?: string, err?: string): void {
    const t = this.tasks.get(taskId);
    if (t === undefined) throw new Error(`FakeDocker.setTaskState: no task ${taskId}`);
    const { Err: _previous, ...status } = t.Status;
    this.tasks.set(taskId, { ...t, Version: { Index: this.bump() }, Status: { ...status, State: state, Timestamp: this.taskTimestamp(), ...(err !== undefined ? { Err: err } : {}) }, DesiredState: desiredState ?? t.DesiredState });
  }

  /** Task status timestamps move forward one second per task change, so "newest" is well defined. */
  private taskTimestamp(): string {
    this.taskClock += 1;
    return new Date(this.taskClock * 1000).toISOString();
  }

  removeTask(taskId: string): void {
    const serviceId = this.tasks.get(taskId)?.ServiceID;
    this.tasks.delete(taskId);
    if (serviceId !== undefined) this.serviceTasks.get(serviceId)?.delete(taskId);
  }

  /** The IDs of a service's tasks, in slot order. */
  taskIds(serviceIdOrName: string): string[] {
    const svc = this.findService(serviceIdOrName);
    if (svc === undefined) return [];
    return [...this.tasks.values()]
      .filter((t) => t.ServiceID === svc.ID)
      .sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0))
      .map((t) => t.ID);
  }

  private allocate(net: NetworkState): string {
    const n = net.next;
    net.next += 1;
    return `10.${net.index}.${Math.floor(n / 256)}.${n % 256}/16`;
  }

  private taskAttachments(svc: ServiceInfo, explicit: TaskOptions['addresses']): NonNullable<TaskInfo['NetworksAttachments']> {
    const byNet = new Map<string, { net: NetworkInfo; addrs: string[] }>();
    const add = (net: NetworkInfo, addr: string): void => {
      const entry = byNet.get(net.Id) ?? { net, addrs: [] };
      entry.addrs.push(addr);
      byNet.set(net.Id, entry);
    };
    if (explicit !== undefined) {
      for (const a of explicit) {
        const net = this.findNetwork(a.network);
        if (net === undefined) throw new Error(`FakeDocker.addTask: no network ${a.network}`);
        add(net.info, a.ip.includes('/') ? a.ip : `${a.ip}/24`);
      }
    } else {
      for (const target of svc.Spec.TaskTemplate.Networks ?? []) {
        const net = this.findNetwork(target.Target);
        if (net !== undefined) add(net.info, this.allocate(net));
      }
    }
    return [...byNet.values()].map(({ net, addrs }) => ({ Network: { ID: net.Id, Spec: { Name: net.Name } }, Addresses: addrs }));
  }

  // ------------------------------------------------------------------ events

  /** Deliver an event to every subscriber (synchronously). */
  emitEvent(e: DockerEvent): void {
    for (const s of [...this.subscribers]) s.onEvent(clone(e));
  }

  /** End every subscription with an error, as a dropped daemon connection would. */
  killEvents(error: Error = new DockerApiError(0, 'event stream ended', 'watchEvents')): void {
    const subs = [...this.subscribers];
    this.subscribers.clear();
    for (const s of subs) s.onError(error);
  }

  private emit(type: string, action: string, id: string, attributes: Labels): void {
    if (!this.emitWriteEvents || this.subscribers.size === 0) return;
    const e: DockerEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, time: Math.floor(Date.now() / 1000) };
    // Like the daemon: events arrive after the write has returned.
    queueMicrotask(() => this.emitEvent(e));
  }

  watchEvents(onEvent: (e: DockerEvent) => void, onError: (err: Error) => void): () => void {
    const sub: Subscriber = { onEvent, onError };
    const fault = this.takeFault('watchEvents');
    if (fault !== undefined) {
      let cancelled = false;
      const deliver = (): void => {
        if (cancelled) return;
        if (fault.error !== undefined) onError(fault.error);
        else this.subscribers.add(sub);
      };
      if (fault.delayMs !== undefined && fault.delayMs > 0) setTimeout(deliver, fault.delayMs);
      else queueMicrotask(deliver);
      return () => {
        cancelled = true;
        this.subscribers.delete(sub);
      };
    }
    this.subscribers.add(sub);
    return () => {
      this.subscribers.delete(sub);
    };
  }

  // ------------------------------------------------------------------ lookups

  private findService(idOrName: string): ServiceInfo | undefined {
    const byId = this.services.get(idOrName);
    if (byId !== undefined) return byId;
    const id = this.serviceNames.get(idOrName);
    return id === undefined ? undefined : this.services.get(id);
  }

  private findConfig(idOrName: string): ConfigInfo | undefined {
    const byId = this.configs.get(idOrName);
    if (byId !== undefined) return byId;
    const id = this.configNames.get(idOrName);
    return id === undefined ? undefined : this.configs.get(id);
  }

  private findNetwork(idOrName: string): NetworkState | undefined {
    const byId = this.networks.get(idOrName);
    if (byId !== undefined) return byId;
    for (const n of this.networks.values()) if (n.info.Name === idOrName) return n;
    return undefined;
  }

  // ------------------------------------------------------------------ DockerPort: reads

  listServices(labels?: LabelFilter): Promise<ServiceInfo[]> {
    return this.run('listServices', () => [...this.services.values()].filter((s) => matchesLabels(s.Spec.Labels, labels)).map(clone));
  }

  listTasks(filter?: { readonly serviceId?: string }): Promise<TaskInfo[]> {
    return this.run('listTasks', () => [...this.tasks.values()].filter((t) => filter?.serviceId === undefined || t.ServiceID === filter.serviceId).map(clone));
  }

  listNetworks(): Promise<NetworkInfo[]> {
    return this.run('listNetworks', () => [...this.networks.values()].map((n) => clone(n.info)));
  }

  listSecrets(): Promise<SecretInfo[]> {
    return this.run('listSecrets', () => [...this.secrets.values()].map(clone));
  }

  /** Log lines per task ID, as a test sets them; a task in `hangingLogs` never answers (until the timeout). */
  readonly taskLogs = new Map<string, string[]>();
  readonly hangingLogs = new Set<string>();

  taskLogTail(taskId: string, lines: number, timeoutMs: number): Promise<string[]> {
    if (this.hangingLogs.has(taskId)) {
      return new Promise((_, reject) => setTimeout(() => reject(new DockerApiError(0, 'The operation was aborted due to timeout', 'taskLogTail', 'ABORT_ERR')), timeoutMs));
    }
    return this.run('taskLogTail', () => (this.taskLogs.get(taskId) ?? []).slice(-lines));
  }

  /** Images "present" on the fake daemon: reference → ID. */
  readonly images = new Map<string, string>();

  /** Image version labels by reference or ID (org.opencontainers.image.version). */
  readonly imageVersions = new Map<string, string>();

  localImageVersion(ref: string): Promise<string | undefined> {
    return this.run('localImageVersion', () => this.imageVersions.get(ref));
  }

  localImageId(ref: string): Promise<string | undefined> {
    return this.run('localImageId', () => this.images.get(ref) ?? ([...this.images.values()].includes(ref) ? ref : undefined));
  }

  listNodes(): Promise<NodeInfo[]> {
    return this.run('listNodes', () => [...this.nodes.values()].map(clone));
  }

  listConfigs(labels?: LabelFilter): Promise<ConfigInfo[]> {
    return this.run('listConfigs', () =>
      [...this.configs.values()]
        .filter((c) => matchesLabels(c.Spec.Labels, labels))
        .map((c) => {
          // Copied without Data: cloning every config's bytes made each listing cost the whole store.
          const { Data: _data, ...spec } = c.Spec;
          return clone({ ...c, Spec: spec });
        }),
    );
  }

  inspectConfig(id: string): Promise<ConfigInfo> {
    return this.run('inspectConfig', () => {
      const c = this.findConfig(id);
      if (c === undefined) throw new DockerApiError(404, `config ${id} not found`, 'inspectConfig');
      return clone(c);
    });
  }

  // ------------------------------------------------------------------ DockerPort: configs

  createConfig(spec: ConfigSpec): Promise<string> {
    return this.run(
      'createConfig',
      () => {
        const size = Buffer.from(spec.Data ?? '', 'base64').length;
        if (size === 0 || size >= 1_024_000)
          throw new DockerApiError(400, 'rpc error: code = InvalidArgument desc = config data must be larger than 0 and less than 1024000 bytes', 'createConfig');
        if (this.findConfig(spec.Name) !== undefined)
          throw new DockerApiError(409, `rpc error: code = AlreadyExists desc = config ${spec.Name} already exists`, 'createConfig');
        const id = this.newId();
        const now = new Date().toISOString();
        this.configs.set(id, { ID: id, Version: { Index: this.bump() }, CreatedAt: now, UpdatedAt: now, Spec: { Name: spec.Name, Labels: { ...(spec.Labels ?? {}) }, Data: spec.Data ?? '' } });
        this.configNames.set(spec.Name, id);
        this.emit('config', 'create', id, { name: spec.Name });
        return id;
      },
      { op: 'createConfig', target: spec.Name, spec: clone(spec) },
    );
  }

  updateConfigLabels(id: string, version: number, spec: ConfigSpec): Promise<void> {
    const current = this.findConfig(id);
    return this.run(
      'updateConfigLabels',
      () => {
        const c = this.findConfig(id);
        if (c === undefined) throw new DockerApiError(404, `config ${id} not found`, 'updateConfigLabels');
        if (c.Version.Index !== version) throw outOfSequenceError('updateConfigLabels');
        // Like the adapter, which sends Name + Labels only: Data is ignored, a different Name is rejected.
        if (spec.Name !== c.Spec.Name)
          throw new DockerApiError(400, 'rpc error: code = InvalidArgument desc = only updates to Labels are allowed', 'updateConfigLabels');
        this.configs.set(c.ID, { ...c, Version: { Index: this.bump() }, UpdatedAt: new Date().toISOString(), Spec: { ...c.Spec, Labels: { ...(spec.Labels ?? {}) } } });
        this.emit('config', 'update', c.ID, { name: c.Spec.Name });
      },
      { op: 'updateConfigLabels', target: current?.Spec.Name ?? id, id: current?.ID ?? id, version, spec: clone(spec) },
    );
  }

  createNetwork(spec: NetworkSpec): Promise<string> {
    return this.run(
      'createNetwork',
      () => {
        if ([...this.networks.values()].some((n) => n.info.Name === spec.Name))
          throw new DockerApiError(409, `network with name ${spec.Name} already exists`, 'createNetwork');
        return this.addNetwork(spec.Name, { attachable: spec.Attachable ?? false, labels: { ...(spec.Labels ?? {}) } });
      },
      { op: 'createNetwork', target: spec.Name },
    );
  }

  removeNetwork(id: string): Promise<void> {
    const current = this.networks.get(id);
    return this.run(
      'removeNetwork',
      () => {
        const n = this.networks.get(id);
        if (n === undefined) throw new DockerApiError(404, `network ${id} not found`, 'removeNetwork');
        const users = [...this.services.values()].filter((s) => (s.Spec.TaskTemplate.Networks ?? []).some((r) => r.Target === id || r.Target === n.info.Name));
        if (users.length > 0) throw new DockerApiError(403, `rpc error: code = FailedPrecondition desc = network ${n.info.Name} is in use by service ${users[0]?.Spec.Name ?? ''}`, 'removeNetwork');
        this.networks.delete(id);
        this.emit('network', 'destroy', id, { name: n.info.Name });
      },
      { op: 'removeNetwork', target: current?.info.Name ?? id },
    );
  }

  removeConfig(id: string): Promise<void> {
    const current = this.findConfig(id);
    return this.run(
      'removeConfig',
      () => {
        const c = this.findConfig(id);
        if (c === undefined) throw new DockerApiError(404, `config ${id} not found`, 'removeConfig');
        const users = [...this.services.values()].filter((s) => (s.Spec.TaskTemplate.ContainerSpec.Configs ?? []).some((r) => r.ConfigID === c.ID));
        if (users.length > 0)
          throw new DockerApiError(
            400,
            `rpc error: code = InvalidArgument desc = config '${c.Spec.Name}' is in use by the following service${users.length > 1 ? 's' : ''}: ${users.map((s) => s.Spec.Name).join(', ')}`,
            'removeConfig',
          );
        this.configs.delete(c.ID);
        this.configNames.delete(c.Spec.Name);
        this.bump();
        this.emit('config', 'remove', c.ID, { name: c.Spec.Name });
      },
      { op: 'removeConfig', target: current?.Spec.Name ?? id, id: current?.ID ?? id },
    );
  }

  // ------------------------------------------------------------------ DockerPort: services

  /** The daemon's checks on a spec and its normal form (network targets as IDs). */
  private normaliseSpec(spec: ServiceSpec, op: WriteMethod): ServiceSpec {
    if (spec.Name.length > 63 || !/^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/.test(spec.Name))
      throw new DockerApiError(400, 'rpc error: code = InvalidArgument desc = name must be valid as a DNS name component', op);
    for (const ref of spec.TaskTemplate.ContainerSpec.Configs ?? [])
      if (!this.configs.has(ref.ConfigID)) throw new DockerApiError(400, `rpc error: code = InvalidArgument desc = config not found: ${ref.ConfigName}`, op);
    for (const ref of spec.TaskTemplate.ContainerSpec.Secrets ?? [])
      if (!this.secrets.has(ref.SecretID)) throw new DockerApiError(400, `rpc error: code = InvalidArgument desc = secret not found: ${ref.SecretName}`, op);
    const networks = (spec.TaskTemplate.Networks ?? []).map((n) => {
      const net = this.findNetwork(n.Target);
      if (net === undefined) throw new DockerApiError(500, `network ${n.Target} not found`, op);
      return { ...n, Target: net.info.Id };
    });
    const copy = clone(spec);
    return { ...copy, TaskTemplate: { ...copy.TaskTemplate, ...(spec.TaskTemplate.Networks !== undefined ? { Networks: networks } : {}) } };
  }

  private endpointFor(spec: ServiceSpec, previous: ServiceInfo | undefined): NonNullable<ServiceInfo['Endpoint']> {
    const ports: PortConfig[] = (spec.EndpointSpec?.Ports ?? []).map((p) => {
      const mode = p.PublishMode ?? 'ingress';
      const old = previous?.Endpoint?.Ports?.find((o) => o.TargetPort === p.TargetPort && (o.Protocol ?? 'tcp') === (p.Protocol ?? 'tcp'));
      const published = p.PublishedPort ?? (mode === 'ingress' ? (old?.PublishedPort ?? this.nextPublished++) : undefined);
      return { Protocol: p.Protocol ?? 'tcp', TargetPort: p.TargetPort, ...(published !== undefined ? { PublishedPort: published } : {}), PublishMode: mode };
    });
    const vip = (spec.EndpointSpec?.Mode ?? 'vip') === 'vip';
    const netIds = new Set((spec.TaskTemplate.Networks ?? []).map((n) => n.Target));
    if (vip && ports.some((p) => p.PublishMode === 'ingress')) {
      const ingress = [...this.networks.values()].find((n) => n.info.Ingress === true);
      if (ingress !== undefined) netIds.add(ingress.info.Id);
    }
    const virtualIPs = vip
      ? [...netIds].flatMap((id) => {
          const kept = previous?.Endpoint?.VirtualIPs?.find((v) => v.NetworkID === id);
          if (kept !== undefined) return [kept];
          const net = this.networks.get(id);
          return net === undefined ? [] : [{ NetworkID: id, Addr: this.allocate(net) }];
        })
      : [];
    return { ...(ports.length > 0 ? { Ports: ports } : {}), ...(virtualIPs.length > 0 ? { VirtualIPs: virtualIPs } : {}) };
  }

  createService(spec: ServiceSpec): Promise<string> {
    return this.run(
      'createService',
      () => {
        if (this.findService(spec.Name) !== undefined)
          throw new DockerApiError(409, `rpc error: code = AlreadyExists desc = name conflicts with an existing object: service ${spec.Name} already exists`, 'createService');
        const normal = this.normaliseSpec(spec, 'createService');
        const id = this.newId();
        const now = new Date().toISOString();
        this.services.set(id, { ID: id, Version: { Index: this.bump() }, CreatedAt: now, UpdatedAt: now, Spec: normal, Endpoint: this.endpointFor(normal, undefined) });
        this.serviceNames.set(spec.Name, id);
        this.emit('service', 'create', id, { name: spec.Name });
        if (normal.Mode?.GlobalJob !== undefined) for (const nodeId of this.nodes.keys()) this.addTask(id, { nodeId, state: 'complete', desiredState: 'complete' });
        return id;
      },
      { op: 'createService', target: spec.Name, spec: clone(spec) },
    );
  }

  updateService(id: string, version: number, spec: ServiceSpec): Promise<void> {
    const current = this.findService(id);
    return this.run(
      'updateService',
      () => {
        const s = this.findService(id);
        if (s === undefined) throw new DockerApiError(404, `service ${id} not found`, 'updateService');
        if (s.Version.Index !== version) throw outOfSequenceError('updateService');
        if (spec.Name !== s.Spec.Name) throw new DockerApiError(501, 'rpc error: code = Unimplemented desc = renaming services is not supported', 'updateService');
        const normal = this.normaliseSpec(spec, 'updateService');
        const oldReplicas = s.Spec.Mode?.Replicated?.Replicas;
        const newReplicas = normal.Mode?.Replicated?.Replicas;
        this.services.set(s.ID, { ...s, Version: { Index: this.bump() }, UpdatedAt: new Date().toISOString(), Spec: normal, Endpoint: this.endpointFor(normal, s) });
        const attrs: Labels = { name: s.Spec.Name };
        if (oldReplicas !== newReplicas && oldReplicas !== undefined && newReplicas !== undefined) {
          attrs['replicas.old'] = String(oldReplicas);
          attrs['replicas.new'] = String(newReplicas);
        }
        this.emit('service', 'update', s.ID, attrs);
      },
      { op: 'updateService', target: current?.Spec.Name ?? id, id: current?.ID ?? id, version, spec: clone(spec) },
    );
  }

  removeService(id: string): Promise<void> {
    const current = this.findService(id);
    return this.run(
      'removeService',
      () => {
        const s = this.findService(id);
        if (s === undefined) throw new DockerApiError(404, `service ${id} not found`, 'removeService');
        this.services.delete(s.ID);
        this.serviceNames.delete(s.Spec.Name);
        for (const tid of this.serviceTasks.get(s.ID) ?? []) this.tasks.delete(tid);
        this.serviceTasks.delete(s.ID);
        this.bump();
        this.emit('service', 'remove', s.ID, { name: s.Spec.Name });
      },
      { op: 'removeService', target: current?.Spec.Name ?? id, id: current?.ID ?? id },
    );
  }
}
