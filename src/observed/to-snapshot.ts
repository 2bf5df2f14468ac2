/**
 * Engine API objects (DockerPort shapes) → Snapshot. PURE: no I/O, deterministic output (every
 * list sorted), total: an object the Snapshot allow-list rejects is dropped alone and described in
 * `dropped`; the rest of the snapshot is still produced. Every field is read defensively because
 * the daemon's JSON is passed through unchecked (null labels, missing endpoints, empty addresses).
 *
 * Mapping choices:
 * - Networks are referred to by NAME everywhere. Tasks and VIPs carry network IDs; they are named
 *   through the network list, falling back to the name a task attachment carries (the lists are
 *   read at slightly different moments). A service's networks come from its TaskTemplate, whose
 *   targets the daemon stores as IDs (names are accepted too).
 * - Addresses lose their prefix length ("10.0.1.5/24" → "10.0.1.5"). An address that is not one (both
 *   Node's net.isIP and the snapshot's own strict parser must accept it; no zone ids) is dropped alone
 *   and described in `dropped`: a node keeps no `addr`, a service loses that VIP, a task that address.
 * - `ports`: the service's Endpoint ports (they carry the published port the daemon assigned),
 *   falling back to the spec's. A port without a published port (host mode, dynamic) is not listed.
 *   A task's `ports` are its Status.PortStatus ports: the host-mode ports its node bound for it
 *   (also the dynamic ones), what `mode: host` backends route to.
 * - `exposedPorts`: the target ports of the service's published ports (spec and endpoint). The
 *   Engine API does not tell which ports a container listens on (image EXPOSE lives in the image,
 *   not the service), so published targets are the only ports known for sure. A service that
 *   publishes nothing gets [], meaning "unknown, accept any backend port". Caveat: a service that
 *   publishes some ports but serves a route on another, unpublished one will see PortNotExposed.
 * - Task states are lower-cased; `allocated` (a state the Engine API has but the snapshot does not)
 *   becomes `pending`; any other unknown observed state becomes `pending` and an unknown desired
 *   state `shutdown`, so a task in a state we do not understand is never an upstream member.
 * - Task `node` is the node ID (unique and joinable with `nodes[].id`; hostnames may repeat).
 * - Nodes take their labels from Spec.Labels (the `node.labels.*` used in constraints), not engine labels.
 * - Job-mode services (ReplicatedJob/GlobalJob) map to replicated/global without a replica count.
 * - Tasks of services that are not in the service list (removed between the two reads) are dropped.
 * - A label with a key or value outside the allow-list is dropped alone (the object stays).
 * - Secrets owned by swarmgate with role "certificate" (`swarmgate tls apply`) carry `certificate`
 *   from their labels; labels that do not decode drop only that field (the secret stays, by name).
 */
import * as E from 'fp-ts/Either';
import { isIP } from 'node:net';
import type { Codec } from '../domain/codec';
import { decode } from '../domain/codec';
import { HostPattern, LabelKey, LabelValue, SwarmName } from '../domain/brands';
import type { Issue } from '../domain/issue';
import type { Snapshot } from '../domain/snapshot';
import { LABELS, OWNER_VALUE } from '../domain/labels';
import { IpAddress, SnapshotCertificate, SnapshotNetwork, SnapshotNode, SnapshotService, SnapshotTask, TASK_STATES } from '../domain/snapshot';
import type { ConfigInfo, NetworkInfo, NodeInfo, PortConfig, SecretInfo, ServiceInfo, TaskInfo } from './docker-port';

export interface DockerObjects {
  readonly services: readonly ServiceInfo[];
  readonly tasks: readonly TaskInfo[];
  readonly networks: readonly NetworkInfo[];
  readonly secrets: readonly SecretInfo[];
  readonly nodes: readonly NodeInfo[];
  /** Swarm configs labelled as error pages (ERROR_PAGE_LABEL); absent: none read. */
  readonly pageConfigs?: readonly ConfigInfo[];
}

export interface ToSnapshotResult {
  readonly snapshot: Snapshot;
  /** One line per dropped object or label: what was dropped and why. */
  readonly dropped: string[];
}

type TaskState = (typeof TASK_STATES)[number];
type SnapshotNetworkT = Snapshot['networks'][number];
type SnapshotNodeT = Snapshot['nodes'][number];
type SnapshotSecretT = Snapshot['secrets'][number];

/**
 * Why `ip` (prefix length already stripped) cannot be a snapshot address, or undefined. Node's parser and the
 * pure one (IpAddress, which the snapshot file decoder uses too) must both accept it.
 */
export function addressProblem(ip: string): string | undefined {
  const r = decode(IpAddress, ip);
  if (E.isLeft(r)) return r.left[0]?.message ?? 'not an IP address';
  return isIP(ip) === 0 ? `not an IP address: ${JSON.stringify(ip)}` : undefined;
}

/** Engine API task state → snapshot task state; `fallback` for states the snapshot does not know. */
export function toTaskState(raw: unknown, fallback: TaskState): TaskState {
  if (typeof raw !== 'string') return fallback;
  const s = raw.toLowerCase();
  if ((TASK_STATES as readonly string[]).includes(s)) return s as TaskState;
  if (s === 'allocated') return 'pending';
  return fallback;
}

/** "10.0.1.5/24" → "10.0.1.5" (also for IPv6 "fd00::5/64"). */
export function stripPrefixLength(addr: string): string {
  const slash = addr.indexOf('/');
  return slash < 0 ? addr : addr.slice(0, slash);
}

function describeIssues(issues: readonly Issue[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}

function str(u: unknown): string | undefined {
  return typeof u === 'string' ? u : undefined;
}

function record(u: unknown): Record<string, unknown> {
  return typeof u === 'object' && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : {};
}

function array(u: unknown): readonly unknown[] {
  return Array.isArray(u) ? u : [];
}

function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}

/** A secret `swarmgate tls apply` created (owner and role labels); only those are read as certificates. */
export function isCertificateSecret(labels: Readonly<Record<string, unknown>> | undefined): boolean {
  return labels?.[LABELS.owner] === OWNER_VALUE && labels[LABELS.role] === 'certificate';
}

/** The snapshot form of a certificate secret's labels, still to be decoded with SnapshotCertificate. */
export function certificateOf(labels: Readonly<Record<string, unknown>>): unknown {
  const version = str(labels[LABELS.certificateVersion]);
  const notAfter = str(labels[LABELS.notAfter]);
  const dnsNames = str(labels[LABELS.dnsNames]);
  return {
    name: labels[LABELS.certificate],
    // A label is a string; the snapshot's version is an integer (and "07" or "1e3" are not versions).
    version: version !== undefined && /^[1-9]\d{0,8}$/.test(version) ? Number(version) : version,
    part: labels[LABELS.certificatePart],
    ...(notAfter !== undefined ? { notAfter } : {}),
    // A name no route host can have (an IP, a mid-label wildcard) can cover no route: leave it out
    // rather than make the whole certificate unreadable.
    ...(dnsNames !== undefined ? { dnsNames: dnsNames.split(',').filter((n) => E.isRight(decode(HostPattern, n))) } : {}),
  };
}

interface PublishedPortT {
  target: number;
  published: number;
  protocol: string;
  mode: string;
}

/** Port configs that carry a published port, sorted; the rest (a dynamic port not assigned yet) are left out. */
function publishedPorts(configs: readonly Record<string, unknown>[]): PublishedPortT[] {
  const ports: PublishedPortT[] = [];
  for (const p of configs) {
    const pc = p as Partial<Record<keyof PortConfig, unknown>>;
    if (typeof pc.PublishedPort !== 'number' || pc.PublishedPort <= 0 || typeof pc.TargetPort !== 'number') continue;
    ports.push({ target: pc.TargetPort, published: pc.PublishedPort, protocol: str(pc.Protocol) ?? 'tcp', mode: str(pc.PublishMode) ?? 'ingress' });
  }
  return ports.sort(byKey((p) => `${String(p.published).padStart(5, '0')}/${p.protocol}/${p.mode}/${String(p.target).padStart(5, '0')}`));
}

/** Decode one candidate object; on failure note it in `dropped` and return undefined. */
function accept<A>(dropped: string[], codec: Codec<A>, what: string, candidate: unknown): A | undefined {
  const r = decode(codec, candidate);
  if (E.isRight(r)) return r.right;
  dropped.push(`${what}: ${describeIssues(r.left)}`);
  return undefined;
}

/** Whether `ip` is a usable address; when it is not, note it (the address alone is left out; an empty one is no address and silently absent). */
function checkAddress(dropped: string[], what: string, ip: string): boolean {
  const problem = addressProblem(ip);
  if (problem !== undefined) dropped.push(`${what} ${JSON.stringify(ip)} dropped (${problem})`);
  return problem === undefined;
}

/** Keep the labels the allow-list accepts; note each one left out. */
function cleanLabels(dropped: string[], what: string, raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(raw))) {
    if (typeof v !== 'string') continue;
    if (!LabelKey.is(k)) dropped.push(`${what}: label ${JSON.stringify(k)} dropped (key outside the allow-list)`);
    else if (!LabelValue.is(v)) dropped.push(`${what}: label ${JSON.stringify(k)} dropped (value outside the allow-list)`);
    else out[k] = v;
  }
  return out;
}

/**
 * How network IDs are named in one listing: by the network list, else by a name a task attachment
 * carries. `key` is the same text exactly when the naming is the same (the incremental converter
 * reuses a service or task converted under the same key, snapshot-converter.ts).
 */
export interface NetworkNames {
  readonly name: (idOrName: string) => string | undefined;
  readonly key: string;
}

export function networkNamesOf(networks: readonly NetworkInfo[], tasks: readonly TaskInfo[]): NetworkNames {
  const networkNameById = new Map<string, string>();
  const networkIdByName = new Map<string, string>();
  for (const n of networks) {
    const id = str(n.Id);
    const name = str(n.Name);
    if (id === undefined || name === undefined) continue;
    networkNameById.set(id, name);
    networkIdByName.set(name, id);
  }
  for (const t of tasks) {
    for (const att of array(t.NetworksAttachments)) {
      const net = record(record(att)['Network']);
      const id = str(net['ID']);
      const name = str(record(net['Spec'])['Name']);
      if (id !== undefined && name !== undefined && !networkNameById.has(id)) networkNameById.set(id, name);
    }
  }
  return {
    name: (idOrName) => networkNameById.get(idOrName) ?? (networkIdByName.has(idOrName) ? idOrName : undefined),
    key: JSON.stringify([[...networkNameById], [...networkIdByName.keys()]]),
  };
}

export function toSnapshotNetwork(n: NetworkInfo, dropped: string[]): SnapshotNetworkT | undefined {
  const name = str(n.Name) ?? '';
  return accept(dropped, SnapshotNetwork, `network ${JSON.stringify(name)}`, {
    name,
    driver: str(n.Driver),
    scope: str(n.Scope),
    ingress: n.Ingress === true,
  });
}

/** A secret (a certificate stored by `tls apply` also carries its name, version, part and notAfter). */
export function toSnapshotSecret(s: SecretInfo, dropped: string[]): SnapshotSecretT | undefined {
  const name = str(record(s.Spec)['Name']) ?? '';
  const what = `secret ${JSON.stringify(name)}`;
  const ok = accept(dropped, SwarmName, what, name);
  if (ok === undefined) return undefined;
  const labels = record(record(s.Spec)['Labels']);
  const certificate = isCertificateSecret(labels) ? accept(dropped, SnapshotCertificate, `${what} certificate labels`, certificateOf(labels)) : undefined;
  return { name: ok, ...(certificate !== undefined ? { certificate } : {}) };
}

export function toSnapshotNode(n: NodeInfo, dropped: string[]): SnapshotNodeT | undefined {
  const spec = record(n.Spec);
  const status = record(n.Status);
  const hostname = str(record(n.Description)['Hostname']) ?? '';
  const rawState = str(status['State'])?.toLowerCase();
  const addr = str(status['Addr']);
  const what = `node ${JSON.stringify(hostname !== '' ? hostname : n.ID)}`;
  return accept(dropped, SnapshotNode, what, {
    id: n.ID,
    hostname,
    role: str(spec['Role']),
    availability: str(spec['Availability']),
    state: rawState === 'ready' || rawState === 'down' || rawState === 'disconnected' ? rawState : 'unknown',
    labels: cleanLabels(dropped, what, spec['Labels']),
    ...(addr !== undefined && addr !== '' && checkAddress(dropped, `${what} address`, addr) ? { addr } : {}),
  });
}

export function toSnapshotService(s: ServiceInfo, names: NetworkNames, dropped: string[]): SnapshotService | undefined {
  const spec = record(s.Spec);
  const name = str(spec['Name']) ?? '';
  const what = `service ${JSON.stringify(name)}`;
  const template = record(spec['TaskTemplate']);
  const netNames = new Set<string>();
  for (const att of array(template['Networks'])) {
    const target = str(record(att)['Target']);
    const resolved = target === undefined ? undefined : names.name(target);
    if (resolved !== undefined) netNames.add(resolved);
  }
  const endpoint = record(s.Endpoint);
  const vips: { network: string; ip: string }[] = [];
  for (const v of array(endpoint['VirtualIPs'])) {
    const vr = record(v);
    const network = names.name(str(vr['NetworkID']) ?? '');
    const ip = stripPrefixLength(str(vr['Addr']) ?? '');
    if (network !== undefined && ip !== '' && checkAddress(dropped, `${what} virtual IP on network ${JSON.stringify(network)}`, ip)) vips.push({ network, ip });
  }
  const specPorts = array(record(spec['EndpointSpec'])['Ports']).map(record);
  const endpointPorts = array(endpoint['Ports']).map(record);
  const ports = publishedPorts(endpointPorts.length > 0 ? endpointPorts : specPorts);
  const exposed = new Set<number>();
  for (const p of [...specPorts, ...endpointPorts]) {
    const target = p['TargetPort'];
    if (typeof target === 'number' && Number.isInteger(target) && target >= 1 && target <= 65535) exposed.add(target);
  }
  const mode = record(spec['Mode']);
  const isGlobal = mode['Global'] !== undefined || mode['GlobalJob'] !== undefined;
  const replicas = record(mode['Replicated'])['Replicas'];
  return accept(dropped, SnapshotService, what, {
    name,
    id: s.ID,
    labels: cleanLabels(dropped, what, spec['Labels']),
    networks: [...netNames].sort(),
    vips: vips.sort(byKey((v) => `${v.network}\u0000${v.ip}`)),
    ports,
    exposedPorts: [...exposed].sort((a, b) => a - b),
    mode: isGlobal ? 'global' : 'replicated',
    ...(!isGlobal && typeof replicas === 'number' ? { replicas } : {}),
  });
}

/** A task of the service named `service` (its ServiceID resolved by the caller). */
export function toSnapshotTask(t: TaskInfo, service: string, names: NetworkNames, dropped: string[]): SnapshotTask | undefined {
  const what = `task ${JSON.stringify(t.ID)}`;
  const addresses: { network: string; ip: string }[] = [];
  for (const att of array(t.NetworksAttachments)) {
    const ar = record(att);
    const network = names.name(str(record(ar['Network'])['ID']) ?? '');
    if (network === undefined) continue;
    for (const a of array(ar['Addresses'])) {
      const ip = typeof a === 'string' ? stripPrefixLength(a) : '';
      if (ip !== '' && checkAddress(dropped, `${what} address on network ${JSON.stringify(network)}`, ip)) addresses.push({ network, ip });
    }
  }
  const node = str(t.NodeID);
  return accept(dropped, SnapshotTask, what, {
    id: t.ID,
    service,
    state: toTaskState(record(t.Status)['State'], 'pending'),
    desiredState: toTaskState(t.DesiredState, 'shutdown'),
    addresses: addresses.sort(byKey((a) => `${a.network}\u0000${a.ip}`)),
    ports: publishedPorts(array(record(record(t.Status)['PortStatus'])['Ports']).map(record)),
    ...(node !== undefined && node !== '' ? { node } : {}),
    ...(typeof t.Slot === 'number' && t.Slot > 0 ? { slot: t.Slot } : {}),
  });
}

/** The line for a task whose service is not in the snapshot (dropped, or not in the service list). */
export function orphanTaskLine(t: TaskInfo, serviceDropped: boolean): string {
  const what = `task ${JSON.stringify(t.ID)}`;
  return serviceDropped ? `${what}: its service ${t.ServiceID} was dropped` : `${what}: service ${t.ServiceID} is not in the service list`;
}

/** The error-page configs (names only; their content is mounted into the proxy tasks, never read). */
export function toSnapshotConfigs(pageConfigs: readonly ConfigInfo[] | undefined, dropped: string[]): { name: SwarmName }[] {
  const configs: { name: SwarmName }[] = [];
  for (const c of pageConfigs ?? []) {
    const name = c.Spec.Name;
    const ok = accept(dropped, SwarmName, `config ${JSON.stringify(name)}`, name);
    if (ok !== undefined) configs.push({ name: ok });
  }
  return configs.sort(byKey((c) => c.name));
}

/** The snapshot's sort orders (every list sorted: the output is deterministic). */
export const SORT_KEYS = {
  service: (s: SnapshotService): string => s.name,
  task: (t: SnapshotTask): string => `${t.service}\u0000${String(t.slot ?? 0).padStart(6, '0')}\u0000${t.id}`,
  network: (n: SnapshotNetworkT): string => n.name,
  secret: (s: SnapshotSecretT): string => s.name,
  node: (n: SnapshotNodeT): string => n.id,
};

/** The whole conversion, from nothing (the reference the incremental converter is tested against). */
export function toSnapshot(objects: DockerObjects): ToSnapshotResult {
  const dropped: string[] = [];
  const names = networkNamesOf(objects.networks, objects.tasks);
  const networks = objects.networks.flatMap((n) => toSnapshotNetwork(n, dropped) ?? []);
  const secrets = objects.secrets.flatMap((s) => toSnapshotSecret(s, dropped) ?? []);
  const configs = toSnapshotConfigs(objects.pageConfigs, dropped);
  const nodes = objects.nodes.flatMap((n) => toSnapshotNode(n, dropped) ?? []);
  const services: SnapshotService[] = [];
  const serviceNameById = new Map<string, string>();
  const droppedServiceIds = new Set<string>();
  for (const s of objects.services) {
    const ok = toSnapshotService(s, names, dropped);
    if (ok === undefined) {
      droppedServiceIds.add(s.ID);
      continue;
    }
    services.push(ok);
    serviceNameById.set(s.ID, ok.name);
  }
  const tasks: SnapshotTask[] = [];
  for (const t of objects.tasks) {
    const service = serviceNameById.get(t.ServiceID);
    if (service === undefined) {
      dropped.push(orphanTaskLine(t, droppedServiceIds.has(t.ServiceID)));
      continue;
    }
    const ok = toSnapshotTask(t, service, names, dropped);
    if (ok !== undefined) tasks.push(ok);
  }
  const snapshot: Snapshot = {
    services: services.sort(byKey(SORT_KEYS.service)),
    tasks: tasks.sort(byKey(SORT_KEYS.task)),
    networks: networks.sort(byKey(SORT_KEYS.network)),
    secrets: secrets.sort(byKey(SORT_KEYS.secret)),
    nodes: nodes.sort(byKey(SORT_KEYS.node)),
    ...(configs.length > 0 ? { configs } : {}),
  };
  return { snapshot, dropped };
}
