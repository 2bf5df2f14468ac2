/**
 * `mode: host` backends: the proxy routes to each running task's node address and the port the
 * task publishes there in host mode (Interlock's host-mode backends), without an overlay network.
 */
import { describe, expect, it } from 'vitest';
import type { NodeInfo, ServiceInfo, TaskInfo } from '../../src/observed/docker-port';
import { toSnapshot } from '../../src/observed/to-snapshot';
import { buildModel } from '../../src/plan/build-model';
import { desired, route, snapshot } from '../helpers/specs';
import { decodeObject } from '../../src/domain/object';
import * as E from 'fp-ts/Either';

const nodes = [
  { id: 'mgr', hostname: 'sg-mgr', role: 'manager', addr: '10.210.0.11' },
  { id: 'wrk', hostname: 'sg-wrk', role: 'worker', addr: '10.210.0.12' },
  { id: 'lost', hostname: 'sg-lost', role: 'worker' },
];
const running = (id: string, service: string, node: string, ports: unknown[] = [], state = 'running', desiredState = 'running') => ({ id, service, node, state, desiredState, ports });
const hostPort = (published: number, target = 8080) => ({ target, published, mode: 'host' });

const SNAP = snapshot({
  services: [
    // A fixed host-mode port in the service spec; one task has not reported its PortStatus yet.
    { name: 'fixed', ports: [hostPort(9000)], exposedPorts: [8080] },
    // A dynamic host port: only the tasks know what their node picked.
    { name: 'dynamic', exposedPorts: [8080] },
    { name: 'overlay-only', networks: ['app'] },
    { name: 'ingress-only', ports: [{ target: 8080, published: 9100, mode: 'ingress' }], exposedPorts: [8080] },
  ],
  tasks: [
    running('f1', 'fixed', 'mgr', [hostPort(9000)]),
    running('f2', 'fixed', 'wrk'),
    running('f3', 'fixed', 'wrk', [hostPort(9000)], 'running', 'shutdown'),
    running('d1', 'dynamic', 'wrk', [hostPort(30001), hostPort(30005, 9090)]),
    running('d2', 'dynamic', 'mgr', [hostPort(30002)]),
    // Its node has no known address: no server.
    running('d3', 'dynamic', 'lost', [hostPort(30003)]),
    running('d4', 'dynamic', 'mgr', [hostPort(30004)], 'starting'),
    { id: 'o1', service: 'overlay-only', node: 'wrk', state: 'running', desiredState: 'running', addresses: [{ network: 'app', ip: '10.0.1.5' }] },
  ],
  networks: [{ name: 'app' }],
  nodes,
});

const hostRoute = (name: string, service: string, extra: Record<string, unknown> = {}) =>
  route(name, { hosts: [`${name}.test`], rules: [{ backends: [{ service, port: 8080, mode: 'host', ...extra }] }] });

describe('mode: host backends', () => {
  it('routes to node address : published port of every running task, and joins no network', () => {
    const r = buildModel(desired([hostRoute('f', 'fixed'), hostRoute('d', 'dynamic')]), SNAP);
    const m = r.clusters.find((c) => c.cluster === 'default');
    const byService = new Map(m?.upstreams.map((u) => [u.service, u]));
    // fixed: the task's own port, else the service's fixed one; the task being shut down is out.
    expect(byService.get('fixed' as never)?.servers).toEqual([
      { ip: '10.210.0.11', port: 9000 },
      { ip: '10.210.0.12', port: 9000 },
    ]);
    // dynamic: each task's own port for target 8080 (not its 9090 one); no address or not running: out.
    expect(byService.get('dynamic' as never)?.servers).toEqual([
      { ip: '10.210.0.11', port: 30002 },
      { ip: '10.210.0.12', port: 30001 },
    ]);
    expect(byService.get('dynamic' as never)).toMatchObject({ mode: 'host' });
    expect(byService.get('dynamic' as never)?.network).toBeUndefined();
    expect(m?.networks).toEqual([]);
    expect(r.conditions['Route/d']?.find((c) => c.type === 'ResolvedRefs')?.status).toBe('True');
  });

  it('says so when the service publishes the port in no host-mode form', () => {
    const r = buildModel(desired([hostRoute('o', 'overlay-only'), hostRoute('i', 'ingress-only')]), SNAP);
    for (const name of ['o', 'i']) {
      const c = r.conditions[`Route/${name}`]?.find((x) => x.type === 'ResolvedRefs');
      expect(c).toMatchObject({ status: 'False', reason: 'PortNotExposed' });
      expect(c?.message).toContain('publishes no port 8080 in host mode');
    }
  });

  it('keeps a host-mode upstream apart from a task-mode one of the same service and port', () => {
    const snap = snapshot({
      services: [{ name: 'both', networks: ['app'], ports: [hostPort(9000)], exposedPorts: [8080] }],
      tasks: [{ ...running('b1', 'both', 'wrk', [hostPort(9000)]), addresses: [{ network: 'app', ip: '10.0.1.9' }] }],
      networks: [{ name: 'app' }],
      nodes,
    });
    const r = buildModel(desired([hostRoute('h', 'both'), route('t', { hosts: ['t.test'], rules: [{ backends: [{ service: 'both', port: 8080 }] }] })]), snap);
    const ups = r.clusters[0]?.upstreams ?? [];
    expect(ups.map((u) => [u.mode, u.servers.map((s) => `${s.ip}:${s.port}`)]).sort()).toEqual([
      ['host', ['10.210.0.12:9000']],
      ['task', ['10.0.1.9:8080']],
    ]);
    expect(new Set(ups.map((u) => u.name)).size).toBe(2);
    // Only the task-mode upstream needs the proxy on the overlay network.
    expect(r.clusters[0]?.networks).toEqual(['app']);
  });

  it('pools host-mode servers with split: Tasks', () => {
    const r = buildModel(
      desired([route('p', { hosts: ['p.test'], rules: [{ split: 'Tasks', backends: [{ service: 'fixed', port: 8080, mode: 'host' }, { service: 'dynamic', port: 8080, mode: 'host' }] }] })]),
      SNAP,
    );
    const pool = r.clusters[0]?.upstreams.find((u) => u.members !== undefined);
    expect(pool?.servers.map((s) => `${s.ip}:${s.port}`)).toEqual(['10.210.0.11:9000', '10.210.0.11:30002', '10.210.0.12:9000', '10.210.0.12:30001']);
    expect(pool?.network).toBeUndefined();
  });

  it('rejects a network on a host-mode backend (it would never be used)', () => {
    const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name: 'x' }, spec: { hosts: ['x.test'], rules: [{ backends: [{ service: 's', port: 80, mode: 'host', network: 'app' }] }] } });
    expect(E.isLeft(r)).toBe(true);
    if (E.isLeft(r)) expect(r.left.map((i) => i.message).join('\n')).toContain('mode: host reaches the tasks on their nodes');
  });
});

describe('toSnapshot: task ports', () => {
  it('reads the host-mode ports a task bound from Status.PortStatus, dynamic ones included', () => {
    const services = [{ ID: 'svc1', Spec: { Name: 'dyn', EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }] } } }] as unknown as ServiceInfo[];
    const tasks = [
      {
        ID: 'task1',
        ServiceID: 'svc1',
        NodeID: 'wrk',
        DesiredState: 'running',
        Status: { State: 'running', PortStatus: { Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: 30001, PublishMode: 'host' }] } },
      },
      { ID: 'task2', ServiceID: 'svc1', NodeID: 'wrk', DesiredState: 'running', Status: { State: 'pending', PortStatus: {} } },
    ] as unknown as TaskInfo[];
    const nodeInfos = [{ ID: 'wrk', Spec: { Role: 'worker', Availability: 'active' }, Description: { Hostname: 'sg-wrk' }, Status: { State: 'ready', Addr: '10.210.0.12' } }] as unknown as NodeInfo[];
    const { snapshot: snap } = toSnapshot({ services, tasks, networks: [], secrets: [], nodes: nodeInfos });
    expect(snap.tasks.map((t) => [t.id, t.ports])).toEqual([
      ['task1', [{ target: 8080, published: 30001, protocol: 'tcp', mode: 'host' }]],
      ['task2', []],
    ]);
    // The dynamic port is not a service-level port, but its target is a known container port.
    expect(snap.services[0]).toMatchObject({ ports: [], exposedPorts: [8080] });
  });
});
