/**
 * Backend references → upstreams with concrete servers, or reasons why they cannot be resolved.
 * Only tasks that run and are meant to run are members: a task whose desired state turned
 * `shutdown` leaves at once, before its container stops (drain).
 */
import type { Port, SwarmName } from '../domain/brands';
import type { Reason } from '../domain/conditions';
import { DEFAULT_FAIL_TIMEOUT, DEFAULT_MAX_FAILS, type Backend } from '../domain/route';
import type { IpAddress, Snapshot, SnapshotService, SnapshotTask } from '../domain/snapshot';
import { fnv1a32 } from './hash';
import type { Affinity, Upstream, UpstreamServer } from './model';
import { identityKey, type NameTable } from './names';

export interface RefProblem {
  readonly reason: Reason;
  readonly message: string;
}

export type Resolution = { readonly ok: true; readonly upstream: Upstream } | { readonly ok: false; readonly problem: RefProblem };

export interface SnapshotIndex {
  readonly services: ReadonlyMap<string, SnapshotService>;
  readonly secrets: ReadonlySet<string>;
  /** Swarm configs labelled as error pages. */
  readonly pageConfigs: ReadonlySet<string>;
  readonly routableNetworks: ReadonlySet<string>;
  readonly runningAddresses: ReadonlyMap<string, readonly (readonly { network: string; ip: string }[])[]>;
  /** Running tasks by service, for `mode: host` (node and published ports). */
  readonly runningTasks: ReadonlyMap<string, readonly SnapshotTask[]>;
  /** Node ID → the address the node advertises in the swarm (Status.Addr). */
  readonly nodeAddresses: ReadonlyMap<string, IpAddress>;
}

/**
 * The lookups resolving a backend makes of the index, and nothing else: compileRoute's reads, which a
 * later build replays to reuse the compiled route (src/plan/compile-journal.ts, ADR 0048).
 */
export interface IndexReads {
  readonly services: Pick<SnapshotIndex['services'], 'get'>;
  readonly routableNetworks: Pick<SnapshotIndex['routableNetworks'], 'has'>;
  readonly runningAddresses: Pick<SnapshotIndex['runningAddresses'], 'get'>;
  readonly runningTasks: Pick<SnapshotIndex['runningTasks'], 'get'>;
  readonly nodeAddresses: Pick<SnapshotIndex['nodeAddresses'], 'get'>;
}

/** A NameTable as resolving a backend uses it (a recording one in compile-journal.ts). */
export type Names = Pick<NameTable, 'name'>;

/** What the model reads of tasks: the running ones (and meant to run) by service, and their addresses. */
export type TaskIndex = Pick<SnapshotIndex, 'runningAddresses' | 'runningTasks'>;

export function indexTasks(all: readonly SnapshotTask[]): TaskIndex {
  const running = new Map<string, (readonly { network: string; ip: string }[])[]>();
  const runningTasks = new Map<string, SnapshotTask[]>();
  for (const task of all) {
    if (task.state !== 'running' || task.desiredState !== 'running') continue;
    const list = running.get(task.service);
    if (list === undefined) running.set(task.service, [task.addresses]);
    else list.push(task.addresses);
    const tasks = runningTasks.get(task.service);
    if (tasks === undefined) runningTasks.set(task.service, [task]);
    else tasks.push(task);
  }
  return { runningAddresses: running, runningTasks };
}

export function indexSnapshot(s: Snapshot): SnapshotIndex {
  const unroutable = new Set(s.networks.filter((n) => n.ingress || n.scope !== 'swarm' || n.driver !== 'overlay').map((n) => n.name));
  const known = new Set(s.networks.map((n) => n.name));
  // A network the snapshot does not describe is assumed to be an overlay (partial snapshots in tests).
  const routable = new Set<string>();
  for (const svc of s.services) for (const n of svc.networks) if (!unroutable.has(n) || !known.has(n)) routable.add(n);
  for (const n of unroutable) routable.delete(n);
  const { runningAddresses: running, runningTasks } = indexTasks(s.tasks);
  const nodeAddresses = new Map<string, IpAddress>();
  for (const n of s.nodes) if (n.addr !== undefined) nodeAddresses.set(n.id, n.addr);
  return {
    services: new Map(s.services.map((svc) => [svc.name, svc])),
    secrets: new Set(s.secrets.map((x) => x.name)),
    pageConfigs: new Set((s.configs ?? []).map((x) => x.name)),
    routableNetworks: routable,
    runningAddresses: running,
    runningTasks,
    nodeAddresses,
  };
}

function chooseNetwork(backend: Backend, svc: SnapshotService, allow: readonly SwarmName[], idx: IndexReads): SwarmName | RefProblem {
  const allowed = (n: string): boolean => allow.length === 0 || allow.includes(n as SwarmName);
  if (backend.network !== undefined) {
    if (!svc.networks.includes(backend.network))
      return { reason: 'NetworkNotAllowed', message: `service "${svc.name}" is not attached to network "${backend.network}"` };
    if (!allowed(backend.network))
      return { reason: 'NetworkNotAllowed', message: `network "${backend.network}" is not in the service cluster's networks allow-list` };
    return backend.network;
  }
  const candidates = [...svc.networks].filter((n) => idx.routableNetworks.has(n)).sort();
  const pick = candidates.find(allowed);
  if (pick !== undefined) return pick;
  return {
    reason: 'NetworkNotAllowed',
    message:
      candidates.length === 0
        ? `service "${svc.name}" is on no overlay network the proxy could join`
        : `service "${svc.name}" is on ${candidates.join(', ')}, none of which is in the service cluster's networks allow-list`,
  };
}

function affinityKey(a: Affinity): string {
  return a.kind === 'cookie' ? `cookie:${a.name}${a.issuedBy === 'Application' ? ':app' : ''}` : a.kind;
}

/** The server settings a backend asks for beyond the defaults (none: the servers render as before the field existed). */
function healthOf(backend: Backend): Pick<UpstreamServer, 'maxFails' | 'failTimeout'> {
  const h = backend.passiveHealthCheck;
  if (h === undefined || (h.maxFails === DEFAULT_MAX_FAILS && h.failTimeout === DEFAULT_FAIL_TIMEOUT)) return {};
  return { maxFails: h.maxFails, failTimeout: h.failTimeout };
}

/** The health settings a server was resolved with (healthOf of its backend: both fields or neither). */
export function serverHealth(s: UpstreamServer): Pick<UpstreamServer, 'maxFails' | 'failTimeout'> {
  return s.maxFails === undefined ? {} : { maxFails: s.maxFails, ...(s.failTimeout !== undefined ? { failTimeout: s.failTimeout } : {}) };
}

/**
 * The readable base of an upstream name, `u_1a2b3c_web_8080`: the hash comes first because NGINX
 * finds upstreams by a linear scan that compares names from the start; distinct prefixes make each
 * comparison end at once (measured: 20k upstream blocks 11 s → 4.9 s of `nginx -t`). It is only a
 * proposal: the cluster's NameTable makes the final name unique (see src/plan/names.ts), since a
 * 24-bit hash and a folded, cut service name collide easily.
 */
export function upstreamName(service: string, port: number, identity: string): string {
  return `u_${fnv1a32(identity).slice(0, 6)}_${service.replace(/[^A-Za-z0-9]/g, '_').slice(0, 40)}_${port}`;
}

/** Servers in a fixed order (address, then port), so that equal sets render equal bytes. */
export function sortServers(servers: readonly UpstreamServer[]): UpstreamServer[] {
  // The sort key is computed once per server, not per comparison (it was a fifth of buildModel's time).
  const keyed = servers.map((s) => ({ s, key: `${s.ip.includes(':') ? s.ip : s.ip.split('.').map((o) => o.padStart(3, '0')).join('.')}#${String(s.port).padStart(5, '0')}` }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.s);
}

/** A host-mode published TCP port for `target` in a list of published ports. */
function hostPort(ports: SnapshotService['ports'], target: number): Port | undefined {
  return ports.find((p) => p.mode === 'host' && p.protocol === 'tcp' && p.target === target)?.published;
}

/**
 * `mode: host`: one server per running task, the task's node address and the port the task
 * publishes there for the backend port (its own PortStatus, which also has ports Swarm picked,
 * else the service's fixed host-mode port). A task whose node has no known address, or that has
 * not bound the port yet, is no server. No overlay network is involved.
 */
function resolveHostMode(backend: Backend, svc: SnapshotService, idx: IndexReads): UpstreamServer[] | RefProblem {
  const fixed = hostPort(svc.ports, backend.port);
  const tasks = idx.runningTasks.get(svc.name) ?? [];
  if (fixed === undefined && !tasks.some((t) => hostPort(t.ports, backend.port) !== undefined))
    return {
      reason: 'PortNotExposed',
      message: `service "${svc.name}" publishes no port ${backend.port} in host mode (mode: host needs --publish mode=host,target=${backend.port})`,
    };
  const health = healthOf(backend);
  const servers: UpstreamServer[] = [];
  for (const task of tasks) {
    const ip = task.node === undefined ? undefined : idx.nodeAddresses.get(task.node);
    const port = hostPort(task.ports, backend.port) ?? fixed;
    if (ip !== undefined && port !== undefined) servers.push({ ip, port, ...health } as UpstreamServer);
  }
  return servers;
}

function hostModeResolution(backend: Backend, affinity: Affinity, svc: SnapshotService, idx: IndexReads, names: Names): Resolution {
  const servers = resolveHostMode(backend, svc, idx);
  if (!Array.isArray(servers)) return { ok: false, problem: servers };
  return resolved(svc, backend, affinity, servers, names);
}

/** The upstream of a resolved backend; its name changes with everything that changes its block. */
function resolved(svc: SnapshotService, backend: Backend, affinity: Affinity, servers: UpstreamServer[], names: Names, network?: SwarmName): Resolution {
  const health = healthOf(backend);
  const healthKey = health.maxFails === undefined ? '' : `|${health.maxFails}/${health.failTimeout ?? ''}`;
  // The hash of the readable base: host mode has no network; this string keeps the shape it had before networks were optional.
  const transport = transportKey(backend);
  const label = `${svc.name}|${backend.port}|${backend.mode}|${network !== undefined ? `${network}|` : ''}${affinityKey(affinity)}${healthKey}${transport !== undefined ? `|${transport}` : ''}`;
  // Everything that makes the upstream block differ, unfolded and unambiguously encoded: equal only for
  // equal blocks. The transport is part of it because NGINX pools keep-alive connections per upstream:
  // a connection opened (and verified) under one backend TLS profile must never carry a request of
  // another, nor a plain request go down an encrypted one.
  const identity = identityKey('upstream', svc.name, backend.port, backend.mode, network, affinityKey(affinity), health.maxFails, health.failTimeout, backend.protocol, transport);
  return {
    ok: true,
    upstream: {
      name: names.name(identity, upstreamName(svc.name, backend.port, label)),
      service: svc.name as SwarmName,
      port: backend.port as Port,
      mode: backend.mode,
      ...(network !== undefined ? { network } : {}),
      affinity,
      servers: sortServers(servers),
    },
  };
}

/**
 * The backend's TLS profile (CA bundle, verified name, client certificate), unambiguously encoded;
 * undefined without `tls`, so that upstreams of backends without it keep the names they had.
 */
function transportKey(backend: Backend): string | undefined {
  const t = backend.tls;
  if (t === undefined) return undefined;
  return identityKey('tls', t.caSecret, t.serverName, t.clientCertificate?.certSecret, t.clientCertificate?.keySecret);
}

/** `names`: the cluster's upstream names, so that two different upstreams never get one name. */
export function resolveBackend(backend: Backend, affinity: Affinity, allow: readonly SwarmName[], idx: IndexReads, names: Names): Resolution {
  const svc = idx.services.get(backend.service);
  if (svc === undefined) return { ok: false, problem: { reason: 'BackendNotFound', message: `service "${backend.service}" not found` } };
  if (svc.exposedPorts.length > 0 && !svc.exposedPorts.includes(backend.port))
    return {
      ok: false,
      problem: { reason: 'PortNotExposed', message: `service "${svc.name}" does not expose port ${backend.port} (exposes ${svc.exposedPorts.join(', ')})` },
    };
  if (backend.mode === 'host') return hostModeResolution(backend, affinity, svc, idx, names);
  const network = chooseNetwork(backend, svc, allow, idx);
  if (typeof network !== 'string') return { ok: false, problem: network };
  let servers: UpstreamServer[];
  const health = healthOf(backend);
  if (backend.mode === 'vip') {
    const vip = svc.vips.find((v) => v.network === network);
    if (vip === undefined)
      return { ok: false, problem: { reason: 'BackendNotFound', message: `service "${svc.name}" has no virtual IP on network "${network}" (endpoint mode dnsrr?)` } };
    servers = [{ ip: vip.ip, port: backend.port, ...health } as UpstreamServer];
  } else servers = taskServers(svc.name, network, backend.port, health, idx);
  return resolved(svc, backend, affinity, servers, names, network);
}

/**
 * `mode: task`: one server per running task's address on `network`, unsorted. The one place a
 * task-mode upstream's servers come from, for the model build and for the task fast path
 * (src/plan/task-refresh.ts), so both give the same servers by construction.
 */
export function taskServers(service: string, network: string, port: number, health: Pick<UpstreamServer, 'maxFails' | 'failTimeout'>, idx: { readonly runningAddresses: Pick<SnapshotIndex['runningAddresses'], 'get'> }): UpstreamServer[] {
  const tasks = idx.runningAddresses.get(service) ?? [];
  return tasks.flatMap((addrs) => addrs.filter((a) => a.network === network).map((a) => ({ ip: a.ip, port, ...health }) as UpstreamServer));
}

/**
 * One upstream holding the servers of every member (a rule with `split: Tasks`): NGINX balances over
 * all of them, so each member's share of requests follows its number of servers (running tasks).
 * Its name depends on the members, so a pool never shares a name with a single backend's upstream.
 */
export function poolUpstream(members: readonly Upstream[], affinity: Affinity, names: Names): Upstream | undefined {
  const [first] = members;
  if (first === undefined) return undefined;
  const services = members.map((m) => m.service);
  // Member names are unique in the cluster, so the list of them identifies the pool.
  const identity = identityKey('pool', affinityKey(affinity), members.map((m) => m.name));
  return {
    name: names.name(identity, upstreamName(services.join('_'), first.port, `pool|${members.map((m) => m.name).join('|')}`)),
    service: first.service,
    port: first.port,
    mode: first.mode,
    ...(first.network !== undefined ? { network: first.network } : {}),
    affinity,
    // A server listed by two members (the same task reached twice) is one server of the pool.
    servers: sortServers([...new Map(members.flatMap((m) => m.servers.map((sv) => [`${sv.ip}#${sv.port}`, sv] as const))).values()]),
    members: services,
  };
}
