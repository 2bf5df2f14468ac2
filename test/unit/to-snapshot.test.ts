import * as E from 'fp-ts/Either';
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/domain/codec';
import { Snapshot } from '../../src/domain/snapshot';
import type { NetworkInfo, NodeInfo, SecretInfo, ServiceInfo, TaskInfo } from '../../src/observed/docker-port';
import { taskFingerprint } from '../../src/observed/read-snapshot';
import { stripPrefixLength, toSnapshot, toTaskState } from '../../src/observed/to-snapshot';

// Fixtures shaped like dockerd 20.10 (API 1.41) JSON, trimmed to the fields that matter, with the
// odd bits the real daemon sends (null labels, endpoint without ports, extra fields).
const NET_APP = 'yqms8b64gn76om0plsorahps2';
const NET_BACKEND = 'k3j5l6m7n8p9q0r1s2t3u4v5w';
const NET_INGRESS = 'mep3en5p6rb1o0yhahxzhsswd';
const NODE = 'i9re2q6s2i8yjk9dsz3n4i5uw';

const networks = [
  { Name: 'ingress', Id: NET_INGRESS, Driver: 'overlay', Scope: 'swarm', Ingress: true, Attachable: false, Labels: null },
  { Name: 'app', Id: NET_APP, Driver: 'overlay', Scope: 'swarm', Ingress: false, Attachable: false, Labels: {} },
  { Name: 'backend', Id: NET_BACKEND, Driver: 'overlay', Scope: 'swarm', Ingress: false, Attachable: true, Labels: {} },
  { Name: 'bridge', Id: '25d331a835cfb1606fffc23a14c2c6c2dbdf556a2ea80d584e883c8128e80abb', Driver: 'bridge', Scope: 'local', Ingress: false, Attachable: false, Labels: {} },
  { Name: 'weave', Id: 'aaaa1111bbbb2222cccc3333d', Driver: 'weaveworks/net-plugin:latest', Scope: 'swarm', Ingress: false, Attachable: false, Labels: {} },
] as unknown as NetworkInfo[];

function service(id: string, name: string, extra: Record<string, unknown> = {}, endpoint: Record<string, unknown> = { Spec: {} }): ServiceInfo {
  return {
    ID: id,
    Version: { Index: 18 },
    CreatedAt: '2026-11-26T14:31:51.300426036Z',
    UpdatedAt: '2026-11-26T14:31:51.301842101Z',
    Spec: {
      Name: name,
      Labels: {},
      TaskTemplate: { ContainerSpec: { Image: 'nginx:1.25', Isolation: 'default' }, Networks: [{ Target: NET_APP }], ForceUpdate: 0, Runtime: 'container' },
      Mode: { Replicated: { Replicas: 2 } },
      ...extra,
    },
    Endpoint: endpoint,
  } as unknown as ServiceInfo;
}

const services: ServiceInfo[] = [
  // web: on two networks (one given by name, as the API also accepts), VIP mode, publishes 8080→80 in ingress mode
  service(
    'svcweb0000000000000000001',
    'web',
    {
      Labels: { 'com.docker.lb.hosts': 'shop.example.com', 'com.docker.lb.port': '80' },
      TaskTemplate: { ContainerSpec: { Image: 'nginx:1.25' }, Networks: [{ Target: NET_BACKEND }, { Target: 'app' }] },
      EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] },
    },
    {
      Spec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] },
      Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }],
      VirtualIPs: [
        { NetworkID: NET_INGRESS, Addr: '10.0.0.5/24' },
        { NetworkID: NET_APP, Addr: '10.0.1.2/24' },
        { NetworkID: NET_BACKEND, Addr: '10.0.2.2/24' },
      ],
    },
  ),
  // api: dnsrr, no VIPs, host-mode publish without a published port (dynamic) and one with
  service(
    'svcapi0000000000000000002',
    'api',
    {
      Mode: { Global: {} },
      EndpointSpec: { Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 9000, PublishMode: 'host' }, { Protocol: 'udp', TargetPort: 53, PublishedPort: 5353, PublishMode: 'host' }] },
    },
    { Spec: { Mode: 'dnsrr' } },
  ),
  // an invalid name (the Engine allows names the snapshot allow-list does not: too long here)
  service('svcbad0000000000000000003', `x${'y'.repeat(70)}`),
  // a label outside the allow-list: the label goes, the service stays
  service('svclbl0000000000000000004', 'labelled', { Labels: { 'ok.key': 'v', 'bad key': 'v', 'ctl.value': 'a\u0007b' } }),
];

function task(id: string, serviceId: string, slot: number, state: string, desired: string, attachments: { id: string; name?: string; addrs: string[] }[]): TaskInfo {
  return {
    ID: id,
    Version: { Index: 26 },
    ServiceID: serviceId,
    Slot: slot,
    NodeID: NODE,
    Status: { Timestamp: '2026-11-26T14:31:53.299687977Z', State: state, Message: 'started', ContainerStatus: { ContainerID: 'c0ffee', PID: 4743, ExitCode: 0 }, PortStatus: {} },
    DesiredState: desired,
    NetworksAttachments: attachments.map((a) => ({
      Network: { ID: a.id, Version: { Index: 16 }, Spec: { Name: a.name ?? 'ignored-when-listed', Scope: 'swarm' } },
      Addresses: a.addrs,
    })),
  } as unknown as TaskInfo;
}

const tasks: TaskInfo[] = [
  task('webtask000000000000000001', 'svcweb0000000000000000001', 1, 'running', 'running', [
    { id: NET_INGRESS, addrs: ['10.0.0.6/24'] },
    { id: NET_APP, addrs: ['10.0.1.3/24'] },
    { id: NET_BACKEND, addrs: ['10.0.2.3/24'] },
  ]),
  // being drained: desired shutdown while still running
  task('webtask000000000000000002', 'svcweb0000000000000000001', 2, 'running', 'shutdown', [{ id: NET_APP, addrs: ['10.0.1.4/24'] }]),
  // scaled down on 20.10: desired state "remove"
  task('webtask000000000000000003', 'svcweb0000000000000000001', 3, 'running', 'remove', [{ id: NET_APP, addrs: ['10.0.1.5/24'] }]),
  // the Engine's "allocated" state, unknown to the snapshot; on a network the list does not have (named from the attachment)
  task('webtask000000000000000004', 'svcweb0000000000000000001', 4, 'allocated', 'running', [{ id: 'newnet0000000000000000000', name: 'fresh', addrs: ['10.0.9.4/24'] }]),
  { ...task('apitask000000000000000001', 'svcapi0000000000000000002', 0, 'RUNNING', 'Running', [{ id: NET_APP, addrs: ['10.0.1.9/24', 'fd00::9/64'] }]), Slot: undefined } as unknown as TaskInfo,
  task('badtask000000000000000001', 'svcbad0000000000000000003', 1, 'running', 'running', []),
  task('orphan0000000000000000001', 'svcgone000000000000000009', 1, 'running', 'running', []),
  task('weird0000000000000000001x', 'svclbl0000000000000000004', 1, 'levitating', 'dreaming', []),
];

const secrets = [
  { ID: 's1', Version: { Index: 3 }, Spec: { Name: 'shop.crt', Labels: {} } },
  { ID: 's2', Version: { Index: 4 }, Spec: { Name: 'has space', Labels: {} } },
] as unknown as SecretInfo[];

const nodes = [
  {
    ID: NODE,
    Version: { Index: 33 },
    Spec: { Labels: { zone: 'a' }, Role: 'manager', Availability: 'active' },
    Description: { Hostname: 'vm', Platform: { Architecture: 'x86_64', OS: 'linux' }, Engine: { EngineVersion: '20.10.24', Labels: { ignored: 'yes' } } },
    Status: { State: 'ready', Addr: '127.0.0.1' },
    ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '127.0.0.1:2377' },
  },
  { ID: 'worker2id0000000000000000', Spec: { Role: 'worker', Availability: 'drain', Labels: null }, Description: { Hostname: 'w2' }, Status: { State: 'Disconnected' } },
  { ID: 'worker3id0000000000000000', Spec: { Role: 'worker', Availability: 'pause' }, Description: { Hostname: 'w3' }, Status: { State: 'mystery', Addr: '' } },
] as unknown as NodeInfo[];

const result = toSnapshot({ services, tasks, networks, secrets, nodes });
const snap = result.snapshot;

describe('toSnapshot', () => {
  it('produces a snapshot that decodes with the Snapshot codec, unchanged', () => {
    const decoded = decode(Snapshot, JSON.parse(JSON.stringify(snap)));
    expect(E.isRight(decoded)).toBe(true);
    if (E.isRight(decoded)) expect(decoded.right).toEqual(snap);
  });

  it('names networks, keeps driver/scope and flags the ingress network', () => {
    expect(snap.networks).toEqual([
      { name: 'app', driver: 'overlay', scope: 'swarm', ingress: false },
      { name: 'backend', driver: 'overlay', scope: 'swarm', ingress: false },
      { name: 'bridge', driver: 'bridge', scope: 'local', ingress: false },
      { name: 'ingress', driver: 'overlay', scope: 'swarm', ingress: true },
    ]);
  });

  it('maps a service on two networks by name, with VIPs, ports and exposed ports', () => {
    const web = snap.services.find((s) => s.name === 'web');
    expect(web).toEqual({
      name: 'web',
      id: 'svcweb0000000000000000001',
      labels: { 'com.docker.lb.hosts': 'shop.example.com', 'com.docker.lb.port': '80' },
      networks: ['app', 'backend'],
      vips: [
        { network: 'app', ip: '10.0.1.2' },
        { network: 'backend', ip: '10.0.2.2' },
        { network: 'ingress', ip: '10.0.0.5' },
      ],
      ports: [{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' }],
      exposedPorts: [80],
      mode: 'replicated',
      replicas: 2,
    });
  });

  it('maps a dnsrr global service: no VIPs, no replica count, dynamic host port not listed but exposed', () => {
    const api = snap.services.find((s) => s.name === 'api');
    expect(api).toMatchObject({ vips: [], mode: 'global', ports: [{ target: 53, published: 5353, protocol: 'udp', mode: 'host' }], exposedPorts: [53, 9000] });
    expect(api?.replicas).toBeUndefined();
  });

  it('maps tasks: service by name, addresses without prefix length, lower-case states, node ID, slot', () => {
    const t1 = snap.tasks.find((t) => t.id === 'webtask000000000000000001');
    expect(t1).toEqual({
      id: 'webtask000000000000000001',
      service: 'web',
      state: 'running',
      desiredState: 'running',
      node: NODE,
      slot: 1,
      addresses: [
        { network: 'app', ip: '10.0.1.3' },
        { network: 'backend', ip: '10.0.2.3' },
        { network: 'ingress', ip: '10.0.0.6' },
      ],
      ports: [],
    });
    expect(snap.tasks.find((t) => t.id === 'webtask000000000000000002')).toMatchObject({ state: 'running', desiredState: 'shutdown' });
    expect(snap.tasks.find((t) => t.id === 'webtask000000000000000003')).toMatchObject({ state: 'running', desiredState: 'remove' });
    const api = snap.tasks.find((t) => t.service === 'api');
    expect(api).toMatchObject({ state: 'running', desiredState: 'running', addresses: [{ network: 'app', ip: '10.0.1.9' }, { network: 'app', ip: 'fd00::9' }] });
    expect(api?.slot).toBeUndefined();
  });

  it('maps states the snapshot does not know safely (never running)', () => {
    expect(snap.tasks.find((t) => t.id === 'webtask000000000000000004')).toMatchObject({
      state: 'pending',
      addresses: [{ network: 'fresh', ip: '10.0.9.4' }],
    });
    expect(snap.tasks.find((t) => t.id === 'weird0000000000000000001x')).toMatchObject({ state: 'pending', desiredState: 'shutdown' });
    expect(toTaskState('Shutdown', 'pending')).toBe('shutdown');
    expect(toTaskState(undefined, 'pending')).toBe('pending');
  });

  it('maps nodes: role, availability, state, spec labels, addr, hostname', () => {
    expect(snap.nodes).toEqual([
      { id: NODE, hostname: 'vm', role: 'manager', availability: 'active', state: 'ready', labels: { zone: 'a' }, addr: '127.0.0.1' },
      { id: 'worker2id0000000000000000', hostname: 'w2', role: 'worker', availability: 'drain', state: 'disconnected', labels: {} },
      { id: 'worker3id0000000000000000', hostname: 'w3', role: 'worker', availability: 'pause', state: 'unknown', labels: {} },
    ]);
  });

  it('drops objects the allow-list rejects, alone, and says why', () => {
    expect(snap.services.map((s) => s.name)).toEqual(['api', 'labelled', 'web']);
    expect(snap.secrets).toEqual([{ name: 'shop.crt' }]);
    expect(snap.services.find((s) => s.name === 'labelled')?.labels).toEqual({ 'ok.key': 'v' });
    expect(snap.tasks.map((t) => t.id)).not.toContain('badtask000000000000000001');
    expect(snap.tasks.map((t) => t.id)).not.toContain('orphan0000000000000000001');
    const d = result.dropped.join('\n');
    expect(result.dropped).toHaveLength(7);
    expect(d).toMatch(/^network "weave": driver: /m);
    expect(d).toMatch(/^service "xyyy+": name: /m);
    expect(d).toMatch(/^service "labelled": label "bad key" dropped/m);
    expect(d).toMatch(/^service "labelled": label "ctl.value" dropped/m);
    expect(d).toMatch(/^secret "has space": /m);
    expect(d).toMatch(/^task "badtask000000000000000001": its service svcbad0000000000000000003 was dropped/m);
    expect(d).toMatch(/^task "orphan0000000000000000001": service svcgone000000000000000009 is not in the service list/m);
  });

  it('drops a task, VIP or node address that is no IP address (issue 14: ":::::", "1:2:3:4"), alone, and says why', () => {
    const svc = service('svcaddr000000000000000001', 'addr', {}, {
      Spec: {},
      VirtualIPs: [
        { NetworkID: NET_APP, Addr: ':::::/24' },
        { NetworkID: NET_BACKEND, Addr: 'fd00::5/64' },
      ],
    });
    const t = task('addrtask00000000000000001', 'svcaddr000000000000000001', 1, 'running', 'running', [
      { id: NET_APP, addrs: ['1:2:3:4/24', '10.0.1.9/24'] },
      { id: NET_BACKEND, addrs: ['fe80::1%eth0/64', '999.0.0.1/24', ''] },
    ]);
    const node = { ...nodes[0], ID: 'addrnode00000000000000001', Description: { Hostname: 'odd' }, Status: { State: 'ready', Addr: '10.0.0.1.5' } } as unknown as NodeInfo;
    const r = toSnapshot({ services: [svc], tasks: [t], networks, secrets: [], nodes: [node] });
    expect(r.snapshot.services[0]?.vips).toEqual([{ network: 'backend', ip: 'fd00::5' }]);
    expect(r.snapshot.tasks[0]?.addresses).toEqual([{ network: 'app', ip: '10.0.1.9' }]);
    expect(r.snapshot.nodes[0]).toMatchObject({ id: 'addrnode00000000000000001', hostname: 'odd' });
    expect(r.snapshot.nodes[0]?.addr).toBeUndefined();
    expect(r.dropped.filter((d) => !d.startsWith('network "weave"'))).toEqual([
      'node "odd" address "10.0.0.1.5" dropped (expected IPv4 or IPv6 address, got "10.0.0.1.5": not an IP address)',
      'service "addr" virtual IP on network "app" ":::::" dropped (expected IPv4 or IPv6 address, got ":::::": "::" may appear only once)',
      'task "addrtask00000000000000001" address on network "app" "1:2:3:4" dropped (expected IPv4 or IPv6 address, got "1:2:3:4": expected 8 groups, got 4)',
      'task "addrtask00000000000000001" address on network "backend" "fe80::1%eth0" dropped (expected IPv4 or IPv6 address, got "fe80::1%eth0": zone ids (%…) are not allowed)',
      'task "addrtask00000000000000001" address on network "backend" "999.0.0.1" dropped (expected IPv4 or IPv6 address, got "999.0.0.1": octet above 255)',
    ]);
  });

  it('is deterministic whatever order the API lists things in', () => {
    const shuffled = toSnapshot({ services: [...services].reverse(), tasks: [...tasks].reverse(), networks: [...networks].reverse(), secrets: [...secrets].reverse(), nodes: [...nodes].reverse() });
    expect(shuffled.snapshot).toEqual(snap);
  });

  it('gives an empty snapshot for an empty swarm', () => {
    expect(toSnapshot({ services: [], tasks: [], networks: [], secrets: [], nodes: [] })).toEqual({
      snapshot: { services: [], tasks: [], networks: [], secrets: [], nodes: [] },
      dropped: [],
    });
  });

  it('strips prefix lengths', () => {
    expect(stripPrefixLength('10.0.1.5/24')).toBe('10.0.1.5');
    expect(stripPrefixLength('fd00::1/64')).toBe('fd00::1');
    expect(stripPrefixLength('10.0.1.5')).toBe('10.0.1.5');
  });
});

describe('taskFingerprint', () => {
  it('ignores order and changes with state, desired state and addresses', () => {
    const base = taskFingerprint(tasks);
    expect(taskFingerprint([...tasks].reverse())).toBe(base);
    const [first, ...rest] = tasks;
    if (first === undefined) throw new Error('fixture');
    expect(taskFingerprint([{ ...first, DesiredState: 'shutdown' }, ...rest])).not.toBe(base);
    expect(taskFingerprint([{ ...first, Status: { ...first.Status, State: 'failed' } }, ...rest])).not.toBe(base);
    expect(taskFingerprint([{ ...first, NetworksAttachments: [] }, ...rest])).not.toBe(base);
    expect(taskFingerprint(rest)).not.toBe(base);
    // fields the model does not read do not matter
    expect(taskFingerprint([{ ...first, Status: { ...first.Status, Timestamp: 'later' } }, ...rest])).toBe(base);
  });
});
