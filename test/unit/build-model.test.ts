import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { DesiredState } from '../../src/plan/inputs';
import type { ProxyModel } from '../../src/plan/model';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';

const SNAP = snapshot({
  services: [
    { name: 'web', networks: ['app'] },
    { name: 'api', networks: ['app', 'backend'], exposedPorts: [8080] },
    { name: 'lonely', networks: [] },
    { name: 'dnsrr', networks: ['app'] },
    { name: 'vipsvc', networks: ['app'], vips: [{ network: 'app', ip: '10.0.0.100' }] },
  ],
  tasks: [
    task('web', '10.0.0.2'),
    task('web', '10.0.0.3', 'app', 'running', 'shutdown'),
    task('web', '10.0.0.4', 'app', 'starting', 'running'),
    { ...task('api', '10.0.0.5'), addresses: [{ network: 'app', ip: '10.0.0.5' }, { network: 'backend', ip: '10.9.0.5' }] },
  ],
  networks: [{ name: 'app' }, { name: 'backend' }, { name: 'ingress', ingress: true }],
  secrets: [{ name: 'crt' }, { name: 'key' }],
});

const web = (name: string, extra: Record<string, unknown> = {}) => route(name, { hosts: ['a.test'], rules: [{ backends: [{ service: 'web', port: 80 }] }], ...extra });
const cond = (r: ReturnType<typeof buildModel>, key: string, type: string) => r.conditions[key]?.find((c) => c.type === type);
const only = (r: ReturnType<typeof buildModel>, name = 'default'): ProxyModel => {
  const m = r.clusters.find((c) => c.cluster === name);
  if (m === undefined) throw new Error(`no cluster ${name}`);
  return m;
};

describe('conflicts', () => {
  it('lets the older route keep a host+path and rejects the newer one alone', () => {
    const state: DesiredState = {
      routes: [
        { object: web('zzz-old'), generation: 3, createdAt: '2026-01-01T00:00:00Z' },
        { object: web('aaa-new'), generation: 1, createdAt: '2026-02-01T00:00:00Z' },
        { object: route('other', { hosts: ['b.test'], rules: [{ backends: [{ service: 'web', port: 80 }] }] }), generation: 1, createdAt: '2026-03-01T00:00:00Z' },
      ],
      clusters: [],
      rejected: [],
    };
    const r = buildModel(state, SNAP);
    expect(cond(r, 'Route/aaa-new', 'Accepted')).toMatchObject({ status: 'False', reason: 'HostConflict', observedGeneration: 1 });
    expect(cond(r, 'Route/aaa-new', 'Accepted')?.message).toContain('zzz-old');
    expect(cond(r, 'Route/zzz-old', 'Accepted')).toMatchObject({ status: 'True', observedGeneration: 3 });
    expect(only(r).routes.map((x) => x.name)).toEqual(['other', 'zzz-old']);
  });

  it('breaks creation-time ties by name', () => {
    const r = buildModel({ routes: [{ object: web('b'), generation: 1 }, { object: web('a'), generation: 1 }], clusters: [], rejected: [] }, SNAP);
    expect(cond(r, 'Route/a', 'Accepted')?.status).toBe('True');
    expect(cond(r, 'Route/b', 'Accepted')?.reason).toBe('HostConflict');
  });

  it('allows the same host on different paths and merges them into one virtual host', () => {
    const r = buildModel(desired([web('one'), route('two', { hosts: ['a.test'], rules: [{ match: { pathPrefix: '/x' }, backends: [{ service: 'web', port: 80 }] }] })]), SNAP);
    const vh = only(r).virtualHosts;
    expect(vh).toHaveLength(1);
    expect(vh[0]?.routes).toEqual(['one', 'two']);
    expect(vh[0]?.paths.map((p) => p.match.path)).toEqual(['/x', '/']);
  });

  it('treats a header-conditioned rule on the same path as a different claim', () => {
    const canary = route('canary', { hosts: ['a.test'], rules: [{ match: { headers: [{ name: 'X-Canary', value: 'always' }] }, backends: [{ service: 'api', port: 8080 }] }] });
    const r = buildModel(desired([web('main'), canary]), SNAP);
    expect(cond(r, 'Route/canary', 'Accepted')?.status).toBe('True');
    const group = only(r).virtualHosts[0]?.paths[0];
    expect(group?.conditional.map((x) => x.route)).toEqual(['canary']);
    expect(group?.fallback?.route).toBe('main');
  });

  it('rejects a second TLS configuration for a host and a second passthrough', () => {
    const tlsA = web('tls-a', { tls: { mode: 'Terminate', certificate: { certSecret: 'crt', keySecret: 'key' } } });
    const tlsB = route('tls-b', { hosts: ['a.test'], tls: { mode: 'Terminate', certificate: { certSecret: 'key', keySecret: 'crt' } }, rules: [{ match: { pathPrefix: '/b' }, backends: [{ service: 'web', port: 80 }] }] });
    const pt = route('pt', { hosts: ['a.test'], tls: { mode: 'Passthrough' }, rules: [{ backends: [{ service: 'web', port: 443 }] }] });
    const r = buildModel(desired([tlsA, tlsB, pt]), SNAP);
    expect(cond(r, 'Route/tls-b', 'Accepted')?.reason).toBe('HostConflict');
    expect(cond(r, 'Route/pt', 'Accepted')?.reason).toBe('HostConflict');
  });

  it('lets a plain HTTP route share a host with a passthrough route (HTTP on port 80, TLS passed through)', () => {
    const pt = route('pt', { hosts: ['a.test'], tls: { mode: 'Passthrough' }, rules: [{ backends: [{ service: 'web', port: 443 }] }] });
    const r = buildModel(desired([pt, web('plain')]), SNAP);
    expect(cond(r, 'Route/plain', 'Accepted')?.status).toBe('True');
    expect(only(r).passthrough.map((p) => p.host)).toEqual(['a.test']);
    expect(only(r).virtualHosts.map((v) => [v.host, v.tls])).toEqual([['a.test', undefined]]);
  });

  it('keeps one default backend per cluster', () => {
    const r = buildModel(desired([web('d1', { defaultBackend: true }), route('d2', { hosts: ['b.test'], defaultBackend: true, rules: [{ backends: [{ service: 'web', port: 80 }] }] })]), SNAP);
    expect(only(r).defaultServer?.routes).toEqual(['d1']);
    expect(cond(r, 'Route/d2', 'Accepted')).toMatchObject({ status: 'False', reason: 'DefaultBackendConflict' });
  });
});

describe('references', () => {
  it('reports every unresolved backend and keeps the resolvable share', () => {
    const r = buildModel(
      desired([
        route('refs', {
          hosts: ['a.test'],
          rules: [{ backends: [{ service: 'web', port: 80, weight: 5 }, { service: 'ghost', port: 80, weight: 5 }, { service: 'api', port: 9999 }] }],
        }),
      ]),
      SNAP,
    );
    const rr = cond(r, 'Route/refs', 'ResolvedRefs');
    expect(rr).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
    expect(rr?.message).toContain('service "ghost" not found');
    expect(rr?.message).toContain('does not expose port 9999 (exposes 8080)');
    const rule = only(r).virtualHosts[0]?.paths[0]?.fallback;
    expect(rule?.action.kind === 'proxy' ? rule.action.targets.map((t) => t.weight) : []).toEqual([5]);
  });

  it('only routes to tasks that run and are meant to run (drain)', () => {
    const r = buildModel(desired([web('w')]), SNAP);
    expect(only(r).upstreams[0]?.servers.map((s) => s.ip)).toEqual(['10.0.0.2']);
  });

  it('leaves a TLS route out entirely while its secret is missing', () => {
    const r = buildModel(desired([web('tls', { tls: { mode: 'Terminate', certificate: { certSecret: 'crt', keySecret: 'missing.key' } } })]), SNAP);
    expect(cond(r, 'Route/tls', 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(only(r).virtualHosts).toEqual([]);
    expect(only(r).secrets).toEqual([]);
  });

  it('honours the cluster network allow-list and explicit backend networks', () => {
    const restricted = cluster('restricted', { networks: ['backend'] });
    const viaAllow = route('via-allow', { serviceCluster: 'restricted', hosts: ['a.test'], rules: [{ backends: [{ service: 'api', port: 8080 }] }] });
    const blocked = route('blocked', { serviceCluster: 'restricted', hosts: ['b.test'], rules: [{ backends: [{ service: 'web', port: 80 }] }] });
    const notAttached = route('not-attached', { hosts: ['c.test'], rules: [{ backends: [{ service: 'web', port: 80, network: 'backend' }] }] });
    const nowhere = route('nowhere', { hosts: ['d.test'], rules: [{ backends: [{ service: 'lonely', port: 80 }] }] });
    const r = buildModel(desired([viaAllow, blocked, notAttached, nowhere], [restricted]), SNAP);
    const m = only(r, 'restricted');
    expect(m.networks).toEqual(['backend']);
    expect(m.upstreams[0]?.servers.map((s) => s.ip)).toEqual(['10.9.0.5']);
    expect(cond(r, 'Route/blocked', 'ResolvedRefs')).toMatchObject({ reason: 'NetworkNotAllowed' });
    expect(cond(r, 'Route/not-attached', 'ResolvedRefs')?.message).toBe('service "web" is not attached to network "backend"');
    expect(cond(r, 'Route/nowhere', 'ResolvedRefs')?.message).toContain('on no overlay network');
  });

  it('uses the service VIP in vip mode and explains a missing one', () => {
    const r = buildModel(
      desired([route('v', { hosts: ['a.test'], rules: [{ backends: [{ service: 'vipsvc', port: 80, mode: 'vip' }] }] }), route('d', { hosts: ['b.test'], rules: [{ backends: [{ service: 'dnsrr', port: 80, mode: 'vip' }] }] })]),
      SNAP,
    );
    expect(only(r).upstreams.map((u) => u.servers)).toEqual([[{ ip: '10.0.0.100', port: 80 }]]);
    expect(cond(r, 'Route/d', 'ResolvedRefs')?.message).toContain('no virtual IP');
  });

  it('reports a route whose service cluster does not exist, and invalid objects', () => {
    const r = buildModel({ ...desired([web('lost', { serviceCluster: 'nope' })]), rejected: [{ kind: 'Route', name: 'bad', generation: 2, issues: [{ path: ['spec', 'hosts', 0], message: 'expected hostname' }] }] }, SNAP);
    expect(cond(r, 'Route/lost', 'Accepted')).toMatchObject({ status: 'False', reason: 'ServiceClusterNotFound' });
    expect(cond(r, 'Route/bad', 'Accepted')).toMatchObject({ status: 'False', reason: 'Invalid', message: 'spec.hosts[0]: expected hostname', observedGeneration: 2 });
  });
});

describe('clusters', () => {
  it('always has the implicit default cluster, and an explicit "default" replaces it', () => {
    expect(buildModel(desired([]), SNAP).clusters.map((c) => c.cluster)).toEqual(['default']);
    const r = buildModel(desired([], [cluster('default', { proxy: { replicas: 5 } })]), SNAP);
    expect(r.clusters.map((c) => [c.cluster, c.spec.proxy.replicas])).toEqual([['default', 5]]);
    expect(cond(r, 'ServiceCluster/default', 'Accepted')?.status).toBe('True');
  });

  it('applies cluster default timeouts unless a rule overrides them', () => {
    const c = cluster('slow', { defaults: { timeouts: { read: '300s' } } });
    const r = buildModel(desired([route('t', { serviceCluster: 'slow', hosts: ['a.test'], rules: [{ backends: [{ service: 'web', port: 80 }], timeouts: { connect: '1s' } }] })], [c]), SNAP);
    const a = only(r, 'slow').virtualHosts[0]?.paths[0]?.fallback?.action;
    expect(a?.kind === 'proxy' ? a.timeouts : undefined).toEqual({ connect: '1s', read: '300s', send: '60s' });
  });
});

describe('limits', () => {
  it('refuses a route that would exceed the header-matched rules a host supports, and keeps the others', () => {
    const many = route('many', {
      hosts: ['a.test'],
      rules: Array.from({ length: 35 }, (_, i) => ({ match: { pathPrefix: '/api', headers: [{ name: 'X-Variant', value: `v${i}` }] }, backends: [{ service: 'web', port: 80 }] })),
    });
    const r = buildModel(desired([many, web('plain')]), SNAP);
    expect(cond(r, 'Route/many', 'Accepted')).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
    expect(only(r).routes.map((x) => x.name)).toEqual(['plain']);
  });
});
