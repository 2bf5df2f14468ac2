/**
 * Listeners and layer-4 routes in the pure core: the cluster's listener rules, the TCPRoute/UDPRoute
 * checks, port clashes between clusters, the published ports of the proxy service, and the
 * conditions of routes that cannot be served (the golden cases 58/59 pin the rendered configs).
 */
import * as E from 'fp-ts/Either';
import { describe, expect, it } from 'vitest';
import { decodeObject } from '../../src/domain/object';
import { formatPath } from '../../src/domain/issue';
import { buildModel } from '../../src/plan/build-model';
import { disjointNodes, listenerPortConflicts } from '../../src/plan/listener-ports';
import { proxyServiceSpec } from '../../src/plan/proxy-service-spec';
import type { DesiredState } from '../../src/plan/inputs';
import type { StreamRouteObject } from '../../src/domain/object';
import { cluster, snapshot, streamRoute, task } from '../helpers/specs';

function issues(u: unknown): string[] {
  const r = decodeObject(u);
  return E.isLeft(r) ? r.left.map((i) => `${formatPath(i.path)}: ${i.message}`) : [];
}

const sc = (spec: Record<string, unknown>) => ({ apiVersion: 'swarmgate.io/v1', kind: 'ServiceCluster', metadata: { name: 'edge' }, spec });
const tcp = (spec: Record<string, unknown>) => ({ apiVersion: 'swarmgate.io/v1', kind: 'TCPRoute', metadata: { name: 'db' }, spec: { listener: 'db', backends: [{ service: 'pg', port: 5432 }], ...spec } });

describe('ServiceCluster spec.listeners', () => {
  it('accepts TCP and UDP on one port number and refuses duplicates, http/https and the task-internal ports', () => {
    expect(issues(sc({ listeners: [{ name: 'a', port: 9000, protocol: 'TCP' }, { name: 'b', port: 9000, protocol: 'UDP' }] }))).toEqual([]);
    const bad = issues(
      sc({
        proxy: { publish: { http: 8080, https: 8443 } },
        listeners: [
          { name: 'a', port: 9000, protocol: 'TCP' },
          { name: 'a', port: 9001, protocol: 'UDP' },
          { name: 'c', port: 9000, protocol: 'TLS' },
          { name: 'd', port: 8443, protocol: 'TCP' },
          { name: 'e', port: 10443, protocol: 'TCP' },
          { name: 'f', port: 80, protocol: 'UDP' },
        ],
      }),
    );
    expect(bad).toEqual([
      'spec.listeners[1].name: duplicate listener name "a"',
      'spec.listeners[2].port: tcp/9000 is already listener "a"\'s port',
      "spec.listeners[3].port: port 8443 is the cluster's published https port",
      'spec.listeners[4].port: port 10443 is used by the proxy inside its task (reserved: 80, 443, 10443, 10444, 18080, 18081, 18082)',
      'spec.listeners[5].port: port 80 is used by the proxy inside its task (reserved: 80, 443, 10443, 10444, 18080, 18081, 18082)',
    ]);
    expect(issues(sc({ listeners: [{ name: 'a', port: 9000, protocol: 'SCTP' }] }))[0]).toMatch(/^spec\.listeners\[0\]\.protocol: /);
  });
});

describe('TCPRoute and UDPRoute checks', () => {
  it('accept tls with hostnames (termination per SNI name); refuse an incomplete certificate, duplicates, zero timeouts and all-zero weights', () => {
    expect(issues(tcp({}))).toEqual([]);
    expect(issues(tcp({ tls: { certificate: { name: 'db' } }, hostnames: ['a.example.com'] }))).toEqual([]);
    expect(issues(tcp({ tls: { certificate: { certSecret: 'c' } } }))).toEqual(['spec.tls.certificate.keySecret: required with certSecret (the Docker secret holding the private key)']);
    expect(issues(tcp({ hostnames: ['a.example.com', 'a.example.com'] }))).toEqual(['spec.hostnames[1]: duplicate hostname "a.example.com"']);
    expect(issues(tcp({ idleTimeout: '0s', connectTimeout: '0ms' }))).toEqual(['spec.idleTimeout: must be longer than 0', 'spec.connectTimeout: must be longer than 0']);
    expect(issues(tcp({ backends: [{ service: 'a', port: 1, weight: 0 }, { service: 'a', port: 1, weight: 0 }] }))).toEqual([
      'spec.backends[1]: duplicate backend a:1 (mode task)',
      'spec.backends: at least one backend needs a weight above 0',
    ]);
    const udp = { apiVersion: 'swarmgate.io/v1', kind: 'UDPRoute', metadata: { name: 'dns' }, spec: { listener: 'dns', backends: [{ service: 'dns', port: 53 }], proxyProtocol: true } };
    expect(issues(udp)[0]).toMatch(/^spec\.proxyProtocol: unknown field/);
  });
});

describe('listener ports across clusters', () => {
  const spec = (s: Record<string, unknown>) => cluster('x', s).spec;
  it('leaves the younger cluster\'s listener out when an older one publishes the port on the same nodes', () => {
    const older = spec({ proxy: { publish: { mode: 'ingress', http: 8080, https: 8443 } }, listeners: [{ name: 'db', port: 9000, protocol: 'TCP' }] });
    const younger = spec({ proxy: { publish: { mode: 'host', http: 8081, https: 8444 } }, listeners: [{ name: 'db', port: 9000, protocol: 'TCP' }, { name: 'dns', port: 9000, protocol: 'UDP' }, { name: 'web', port: 8080, protocol: 'TCP' }] });
    const out = listenerPortConflicts([{ name: 'a', spec: older }, { name: 'b', spec: younger }]);
    expect(out.get('a')).toBeUndefined();
    expect(out.get('b')?.map((l) => l.message)).toEqual([
      'listener "db" (tcp/9000) is left out: service cluster "a" publishes tcp/9000 (its listener "db") on the same nodes',
      'listener "web" (tcp/8080) is left out: service cluster "a" publishes tcp/8080 (its http port) on the same nodes',
    ]);
  });

  it('lets host-mode clusters pinned to different nodes share a port', () => {
    const on = (c: string) => spec({ proxy: { publish: { mode: 'host', http: 8080, https: 8443 }, constraints: [c] }, listeners: [{ name: 'db', port: 9000, protocol: 'TCP' }] });
    expect(disjointNodes(on('node.labels.zone==a'), on('node.labels.zone==b'))).toBe(true);
    expect(disjointNodes(on('node.labels.zone==a'), on('node.labels.zone!=a'))).toBe(true);
    expect(disjointNodes(on('node.labels.zone==a'), on('node.labels.zone==a'))).toBe(false);
    expect(disjointNodes(on('node.labels.zone==a'), on('node.role==worker'))).toBe(false);
    expect(listenerPortConflicts([{ name: 'a', spec: on('node.hostname==n1') }, { name: 'b', spec: on('node.hostname==n2') }]).size).toBe(0);
    expect(listenerPortConflicts([{ name: 'a', spec: on('node.hostname==n1') }, { name: 'b', spec: on('node.role==worker') }]).get('b')).toHaveLength(1);
  });
});

function build(routes: readonly StreamRouteObject[], clusterSpecs: Record<string, Record<string, unknown>>, snap: unknown = { services: [{ name: 'pg', networks: ['app'] }], tasks: [task('pg', '10.0.0.5')] }) {
  const desired: DesiredState = {
    routes: [],
    clusters: Object.entries(clusterSpecs).map(([name, s], i) => ({ object: cluster(name, s), generation: 1, createdAt: `2026-01-01T00:00:0${i}Z` })),
    rejected: [],
    streamRoutes: routes.map((object, i) => ({ object, generation: 2, createdAt: `2026-01-01T00:01:0${i}Z` })),
  };
  return buildModel(desired, snapshot(snap));
}

const reasons = (r: ReturnType<typeof build>, key: string) => (r.conditions[key] ?? []).map((c) => `${c.type}=${c.status} ${c.reason}`);

describe('layer-4 routes in buildModel', () => {
  const edge = { proxy: { publish: { mode: 'host', http: 8080, https: 8443 } }, listeners: [{ name: 'db', port: 9000, protocol: 'TCP' }, { name: 'dns', port: 9001, protocol: 'UDP' }, { name: 'sni', port: 9002, protocol: 'TLS' }] };

  it('programs an accepted route under a name no Route can have, and publishes every listener', () => {
    const r = build([streamRoute('TCPRoute', 'db', { serviceCluster: 'edge', listener: 'db', backends: [{ service: 'pg', port: 5432 }] })], { edge });
    expect(reasons(r, 'TCPRoute/db')).toEqual(['Accepted=True Accepted', 'ResolvedRefs=True ResolvedRefs']);
    const model = r.clusters.find((c) => c.cluster === 'edge');
    expect(model?.routes).toEqual([{ name: 'tcproute.db', generation: 2 }]);
    expect(model?.listeners?.map((l) => `${l.name}:${l.routes.map((x) => x.name).join(',')}`)).toEqual(['db:db', 'dns:', 'sni:']);
    expect(model?.networks).toEqual(['app']);
    if (model === undefined) throw new Error('no model');
    const spec = proxyServiceSpec({ model, serviceName: 'sg-proxy-edge', config: { id: 'c', name: 'cfg' }, secretIds: new Map(), networkIds: new Map([['app', 'net']]), nodes: [] });
    expect(spec.EndpointSpec?.Ports).toEqual([
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' },
      { Protocol: 'tcp', TargetPort: 443, PublishedPort: 8443, PublishMode: 'host' },
      { Protocol: 'tcp', TargetPort: 9000, PublishedPort: 9000, PublishMode: 'host' },
      { Protocol: 'udp', TargetPort: 9001, PublishedPort: 9001, PublishMode: 'host' },
      { Protocol: 'tcp', TargetPort: 9002, PublishedPort: 9002, PublishMode: 'host' },
    ]);
  });

  it('says why a route cannot be served', () => {
    const hap = { ...edge, proxy: { kind: 'haproxy', publish: { mode: 'ingress', http: 8081, https: 8444 } }, listeners: [{ name: 'dns', port: 9101, protocol: 'UDP' }] };
    const r = build(
      [
        streamRoute('TCPRoute', 'a-plain', { serviceCluster: 'edge', listener: 'sni', backends: [{ service: 'pg', port: 5432 }] }),
        streamRoute('TCPRoute', 'b-sni', { serviceCluster: 'edge', listener: 'db', hostnames: ['a.example.com'], backends: [{ service: 'pg', port: 5432 }] }),
        streamRoute('UDPRoute', 'c-hap', { serviceCluster: 'hap', listener: 'dns', backends: [{ service: 'pg', port: 53 }] }),
        streamRoute('UDPRoute', 'd-host', { serviceCluster: 'edge', listener: 'dns', backends: [{ service: 'pg', port: 53, mode: 'host' }] }),
        streamRoute('TCPRoute', 'e-pp', { serviceCluster: 'edge', listener: 'sni', hostnames: ['a.example.com'], backends: [{ service: 'pg', port: 5432 }] }),
        streamRoute('TCPRoute', 'f-pp', { serviceCluster: 'edge', listener: 'sni', hostnames: ['b.example.com'], proxyProtocol: true, backends: [{ service: 'pg', port: 5432 }] }),
        streamRoute('TCPRoute', 'g-cert', { serviceCluster: 'edge', listener: 'db', tls: { certificate: { name: 'nope' } }, backends: [{ service: 'pg', port: 5432 }] }),
        streamRoute('TCPRoute', 'h-late', { serviceCluster: 'edge', listener: 'db', backends: [{ service: 'pg', port: 5432 }] }),
        streamRoute('TCPRoute', 'i-nocluster', { serviceCluster: 'nope', listener: 'db', backends: [{ service: 'pg', port: 5432 }] }),
      ],
      { edge, hap },
    );
    expect(reasons(r, 'TCPRoute/a-plain')).toEqual(['Accepted=False ProtocolMismatch']);
    expect(reasons(r, 'TCPRoute/b-sni')).toEqual(['Accepted=False ProtocolMismatch']);
    expect(r.conditions['UDPRoute/c-hap']?.[0]?.message).toMatch(/^not supported by the haproxy proxy .*HAProxy 2\.6 has no UDP/);
    expect(reasons(r, 'UDPRoute/d-host')).toEqual(['Accepted=False UnsupportedValue']);
    expect(reasons(r, 'TCPRoute/e-pp')).toEqual(['Accepted=True Accepted', 'ResolvedRefs=True ResolvedRefs']);
    expect(reasons(r, 'TCPRoute/f-pp')).toEqual(['Accepted=False ListenerConflict']);
    // Without its certificate the route is left out, so the TCP listener stays free for the next one.
    expect(reasons(r, 'TCPRoute/g-cert')).toEqual(['Accepted=True Accepted', 'ResolvedRefs=False CertificateNotFound']);
    expect(reasons(r, 'TCPRoute/h-late')).toEqual(['Accepted=True Accepted', 'ResolvedRefs=True ResolvedRefs']);
    expect(reasons(r, 'TCPRoute/i-nocluster')).toEqual(['Accepted=False ServiceClusterNotFound']);
    expect(r.conditions['TCPRoute/h-late']?.[0]?.observedGeneration).toBe(2);
    expect(r.clusters.find((c) => c.cluster === 'edge')?.routes.map((x) => x.name)).toEqual(['tcproute.e-pp', 'tcproute.h-late']);
  });

  it('leaves out a listener whose port an older cluster publishes, with the reason on the cluster and its routes', () => {
    const older = { proxy: { publish: { mode: 'ingress', http: 8080, https: 8443 } }, listeners: [{ name: 'db', port: 9000, protocol: 'TCP' }] };
    const r = build([streamRoute('TCPRoute', 'db', { serviceCluster: 'young', listener: 'db', backends: [{ service: 'pg', port: 5432 }] })], { old: older, young: { ...older, proxy: { publish: { mode: 'ingress', http: 8081, https: 8444 } } } });
    expect(reasons(r, 'ServiceCluster/young')).toEqual(['Accepted=True Accepted', 'Conflicted=True PortConflict']);
    expect(reasons(r, 'ServiceCluster/old')).toEqual(['Accepted=True Accepted']);
    expect(reasons(r, 'TCPRoute/db')).toEqual(['Accepted=False PortConflict']);
    expect(r.clusters.find((c) => c.cluster === 'young')?.listeners).toEqual([]);
  });
});
