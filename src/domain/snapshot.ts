/**
 * Snapshot: the flat, documented JSON form of the Swarm state that `buildModel` needs.
 * The live adapter (src/observed) fills it from the Docker API; tests and `swarmgate render`
 * read it from a file. It is decoded with the same allow-list types as specs because its strings
 * (names, addresses) also end up in proxy configuration.
 */
import type * as t from 'io-ts';
import { CertificateName, HostPattern, LabelKey, LabelValue, Port, SwarmName } from './brands';
import { bool, brandedString, intRange, listOf, mapOf, oneOf, struct, withDefault } from './codec';

type IpBrand = t.Brand<{ readonly IpAddress: 'IpAddress' }>;
export type IpAddress = string & IpBrand;

export const IpAddress = brandedString<IpBrand>('IPv4 or IPv6 address', (s) => {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4 !== null) return v4.slice(1).every((o) => Number(o) <= 255) ? undefined : 'octet above 255';
  if (/^[0-9a-fA-F:]{2,39}$/.test(s) && s.includes(':')) return undefined;
  return 'not an IP address';
});

const TaskAddress = struct('task address', { network: SwarmName, ip: IpAddress });
const Vip = struct('virtual IP', { network: SwarmName, ip: IpAddress });
const PublishedPort = struct('published port', {
  target: Port,
  published: Port,
  protocol: withDefault(oneOf(['tcp', 'udp', 'sctp'] as const), 'tcp'),
  mode: withDefault(oneOf(['ingress', 'host'] as const), 'ingress'),
});

export const SnapshotService = struct(
  'service',
  {
    name: SwarmName,
    labels: withDefault(mapOf(LabelKey, LabelValue), {}),
    /** Overlay networks the service is attached to, by name. */
    networks: withDefault(listOf(SwarmName), []),
    vips: withDefault(listOf(Vip), []),
    ports: withDefault(listOf(PublishedPort), []),
    /**
     * Container ports the service is known to listen on (image EXPOSE, published targets).
     * Empty means unknown, and every backend port is then accepted.
     */
    exposedPorts: withDefault(listOf(Port), []),
    mode: withDefault(oneOf(['replicated', 'global'] as const), 'replicated'),
  },
  { id: brandedString('service id', (s) => (/^[a-z0-9]{1,64}$/.test(s) ? undefined : 'lowercase letters and digits')), replicas: intRange(0, 100_000) },
);

export const TASK_STATES = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'] as const;

export const SnapshotTask = struct(
  'task',
  {
    id: brandedString('task id', (s) => (/^[A-Za-z0-9]{1,64}$/.test(s) ? undefined : 'letters and digits')),
    service: SwarmName,
    state: oneOf(TASK_STATES),
    desiredState: oneOf(TASK_STATES),
    addresses: withDefault(listOf(TaskAddress), []),
    /** Ports the task publishes on its node (host mode; the published port may be one Swarm picked). */
    ports: withDefault(listOf(PublishedPort), []),
  },
  { node: SwarmName, slot: intRange(0, 100_000) },
);

export const SnapshotNetwork = struct('network', {
  name: SwarmName,
  driver: withDefault(brandedString('driver name', (s) => (/^[a-z0-9_.-]{1,64}$/.test(s) ? undefined : 'lowercase name')), 'overlay'),
  scope: withDefault(oneOf(['swarm', 'local', 'global'] as const), 'swarm'),
  /** The routing-mesh network; never a route target. */
  ingress: withDefault(bool, false),
});

export const SnapshotNode = struct(
  'node',
  {
    id: SwarmName,
    hostname: SwarmName,
    role: oneOf(['manager', 'worker'] as const),
    availability: withDefault(oneOf(['active', 'pause', 'drain'] as const), 'active'),
    state: withDefault(oneOf(['unknown', 'down', 'ready', 'disconnected'] as const), 'ready'),
    labels: withDefault(mapOf(LabelKey, LabelValue), {}),
  },
  { addr: IpAddress },
);

type TimestampBrand = t.Brand<{ readonly UtcTimestamp: 'UtcTimestamp' }>;
export type UtcTimestamp = string & TimestampBrand;

/** An instant as ISO 8601 in UTC ("2026-03-01T12:00:00Z", milliseconds optional): how notAfter is stored. */
export const UtcTimestamp = brandedString<TimestampBrand>('UTC timestamp (ISO 8601, e.g. 2026-03-01T12:00:00Z)', (s) =>
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(s) && !Number.isNaN(Date.parse(s)) ? undefined : 'not an ISO 8601 UTC timestamp',
);

export const CERTIFICATE_PARTS = ['cert', 'key'] as const;
export type CertificatePart = (typeof CERTIFICATE_PARTS)[number];

/**
 * A secret that holds one part of a certificate stored with `swarmgate tls apply` (from its labels).
 * The plan resolves `tls.certificate.name` to the newest version that has both parts.
 */
export const SnapshotCertificate = struct(
  'certificate secret',
  { name: CertificateName, version: intRange(1, 999_999_999), part: oneOf(CERTIFICATE_PARTS) },
  // Absent: the expiry is unknown (a secret labelled by hand); no expiry condition is then possible.
  // dnsNames absent: the names are unknown (stored before swarmgate recorded them); no name check then.
  { notAfter: UtcTimestamp, dnsNames: listOf(HostPattern, { max: 1000 }) },
);
export type SnapshotCertificate = t.TypeOf<typeof SnapshotCertificate>;

export const SnapshotSecret = struct('secret', { name: SwarmName }, { certificate: SnapshotCertificate });
export type SnapshotSecret = t.TypeOf<typeof SnapshotSecret>;

export const Snapshot = struct('snapshot', {
  services: withDefault(listOf(SnapshotService), []),
  tasks: withDefault(listOf(SnapshotTask), []),
  networks: withDefault(listOf(SnapshotNetwork), []),
  secrets: withDefault(listOf(SnapshotSecret), []),
  nodes: withDefault(listOf(SnapshotNode), []),
});

export type Snapshot = t.TypeOf<typeof Snapshot>;
export type SnapshotService = t.TypeOf<typeof SnapshotService>;
export type SnapshotTask = t.TypeOf<typeof SnapshotTask>;

export const EMPTY_SNAPSHOT: Snapshot = { services: [], tasks: [], networks: [], secrets: [], nodes: [] };
