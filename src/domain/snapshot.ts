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

/** A strict dotted quad: four decimal octets 0–255 without leading zeros (010 reads as octal to some parsers). */
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Why `s` is not an IPv4 address, or undefined. */
export function ipv4Problem(s: string): string | undefined {
  if (IPV4.test(s)) return undefined;
  const parts = s.split('.');
  if (parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p))) return parts.some((p) => Number(p) > 255) ? 'octet above 255' : 'octet with a leading zero';
  return 'not an IP address';
}

/** The number of 16-bit groups in a ":"-separated run ("" has none), or undefined when one is malformed. */
function groupCount(run: string, last: boolean): number | undefined {
  if (run === '') return 0;
  const parts = run.split(':');
  let n = 0;
  for (const [i, p] of parts.entries()) {
    // An IPv4 address may stand for the last two groups ("::ffff:10.0.0.1").
    if (last && i === parts.length - 1 && p.includes('.')) {
      if (!IPV4.test(p)) return undefined;
      n += 2;
    } else if (HEX_GROUP.test(p)) n += 1;
    else return undefined;
  }
  return n;
}

/**
 * Why `s` is not an RFC 4291 IPv6 address (text form 2.2: eight groups, one "::", an embedded IPv4 tail), or
 * undefined. Stricter in one point, where NGINX is: a trailing "::" must stand for two or more groups.
 */
export function ipv6Problem(s: string): string | undefined {
  if (s.includes('%')) return 'zone ids (%…) are not allowed';
  if (s.length > 45) return 'too long for an IPv6 address';
  const halves = s.split('::');
  if (halves.length > 2) return '"::" may appear only once';
  if (halves.length === 2) {
    const [head = '', tail = ''] = halves;
    const h = groupCount(head, false);
    const t = groupCount(tail, true);
    if (h === undefined || t === undefined) return 'not an IPv6 address';
    if (h + t > 7) return 'more than 8 groups';
    // "::" stands for one or more groups of zeros, but NGINX refuses one group at the end ("1:2:3:4:5:6:7::";
    // RFC 5952, the form Docker writes, never compresses a single group).
    return h === 7 && tail === '' ? '"::" at the end stands for a single group of zeros, which NGINX refuses; write it as 0' : undefined;
  }
  const n = groupCount(s, true);
  if (n === undefined) return 'not an IPv6 address';
  return n === 8 ? undefined : `expected 8 groups, got ${n}`;
}

/**
 * A task, VIP or node address as NGINX and HAProxy read it: a strict IPv4 dotted quad, or an IPv6 address
 * in RFC 4291 text form ("::" compression and an embedded IPv4 tail allowed; no zone id, no brackets, no
 * trailing "::" for a single group, which NGINX refuses).
 * Cross-checked against Node's net.isIP in test/property/ip-address-properties.test.ts.
 */
export const IpAddress = brandedString<IpBrand>('IPv4 or IPv6 address', (s) => (s.includes(':') ? ipv6Problem(s) : ipv4Problem(s)));

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

/** A Swarm config labelled as an error page (ERROR_PAGE_LABEL): its name, never its content. */
export const SnapshotConfig = struct('config', { name: SwarmName });
export type SnapshotConfig = t.TypeOf<typeof SnapshotConfig>;

export const Snapshot = struct(
  'snapshot',
  {
    services: withDefault(listOf(SnapshotService), []),
    tasks: withDefault(listOf(SnapshotTask), []),
    networks: withDefault(listOf(SnapshotNetwork), []),
    secrets: withDefault(listOf(SnapshotSecret), []),
    nodes: withDefault(listOf(SnapshotNode), []),
  },
  /** Error-page configs (absent: none). */
  { configs: listOf(SnapshotConfig) },
);

export type Snapshot = t.TypeOf<typeof Snapshot>;
export type SnapshotService = t.TypeOf<typeof SnapshotService>;
export type SnapshotTask = t.TypeOf<typeof SnapshotTask>;

export const EMPTY_SNAPSHOT: Snapshot = { services: [], tasks: [], networks: [], secrets: [], nodes: [] };
