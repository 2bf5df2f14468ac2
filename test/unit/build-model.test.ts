import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { DesiredState } from '../../src/plan/inputs';
import type { RouteObject } from '../../src/domain/object';
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

describe('per-host TLS settings: every route of a host asks for the same', () => {
  const TERM = (cert = 'crt', key = 'key', redirectHTTP = false) => ({ mode: 'Terminate', redirectHTTP, certificate: { certSecret: cert, keySecret: key } });
  const on = (name: string, path: string, tls?: unknown) =>
    route(name, { hosts: ['a.test'], ...(tls !== undefined ? { tls } : {}), rules: [{ match: { pathPrefix: path }, backends: [{ service: 'web', port: 80 }] }] });
  const pt = (name: string) => route(name, { hosts: ['a.test'], tls: { mode: 'Passthrough' }, rules: [{ backends: [{ service: 'web', port: 443 }] }] });
  const SECRETS = snapshot({ ...SNAP, secrets: [{ name: 'crt' }, { name: 'key' }, { name: 'crt2' }, { name: 'key2' }] });
  /** Older first: creation times follow the array order, names run the other way so age decides, not the name. */
  const aged = (routes: RouteObject[]): DesiredState => ({
    routes: routes.map((object, i) => ({ object, generation: 1, createdAt: `2026-01-0${i + 1}T00:00:00Z` })),
    clusters: [],
    rejected: [],
  });
  const accepted = (r: ReturnType<typeof buildModel>, name: string) => cond(r, `Route/${name}`, 'Accepted');

  it('issue 14: a newer Terminate + redirectHTTP route cannot take over an older plain-HTTP host', () => {
    const r = buildModel(aged([on('z-plain', '/'), on('a-tls', '/api', TERM('crt', 'key', true))]), SECRETS);
    expect(accepted(r, 'z-plain')?.status).toBe('True');
    expect(accepted(r, 'a-tls')).toMatchObject({ status: 'False', reason: 'HostConflict' });
    expect(accepted(r, 'a-tls')?.message).toBe(
      'host "a.test" already has different TLS settings from route "z-plain" (plain HTTP, no tls; this route: tls.mode Terminate with secrets crt and key, redirectHTTP true)',
    );
    expect(only(r).virtualHosts.map((v) => [v.host, v.tls, v.routes])).toEqual([['a.test', undefined, ['z-plain']]]);
  });

  it('no tls vs Terminate without redirect: either order, the older wins', () => {
    const a = buildModel(aged([on('z-plain', '/'), on('a-tls', '/api', TERM())]), SECRETS);
    expect(accepted(a, 'a-tls')?.reason).toBe('HostConflict');
    const b = buildModel(aged([on('z-tls', '/', TERM()), on('a-plain', '/blog')]), SECRETS);
    expect(accepted(b, 'a-plain')?.reason).toBe('HostConflict');
    expect(accepted(b, 'a-plain')?.message).toContain('(tls.mode Terminate with secrets crt and key, redirectHTTP false; this route: plain HTTP, no tls)');
    expect(only(b).virtualHosts[0]?.routes).toEqual(['z-tls']);
  });

  it('Terminate: the certificate secret, the key secret and redirectHTTP must each be the same', () => {
    for (const other of [TERM('crt2', 'key'), TERM('crt', 'key2'), TERM('crt', 'key', true)]) {
      const r = buildModel(aged([on('z-old', '/', TERM()), on('a-new', '/x', other)]), SECRETS);
      expect(accepted(r, 'a-new')?.reason).toBe('HostConflict');
      expect(only(r).virtualHosts[0]?.tls).toEqual({ certSecret: 'crt', keySecret: 'key', redirectHTTP: false });
    }
  });

  it('the same TLS settings share the host, and plain HTTP routes share a plain host', () => {
    const r = buildModel(aged([on('z-old', '/', TERM('crt', 'key', true)), on('a-new', '/x', TERM('crt', 'key', true))]), SECRETS);
    expect(accepted(r, 'a-new')?.status).toBe('True');
    expect(only(r).virtualHosts[0]?.routes).toEqual(['z-old', 'a-new']);
    const plain = buildModel(aged([on('z-old', '/'), on('a-new', '/x')]), SECRETS);
    expect(only(plain).virtualHosts[0]?.routes).toEqual(['z-old', 'a-new']);
  });

  it('passthrough vs Terminate: either order, the older wins', () => {
    const a = buildModel(aged([pt('z-pt'), on('a-tls', '/', TERM())]), SECRETS);
    expect(accepted(a, 'a-tls')?.message).toContain('(tls.mode Passthrough; this route: tls.mode Terminate');
    expect(only(a).passthrough.map((p) => p.route)).toEqual(['z-pt']);
    const b = buildModel(aged([on('z-tls', '/', TERM()), pt('a-pt')]), SECRETS);
    expect(accepted(b, 'a-pt')?.reason).toBe('HostConflict');
    expect(only(b).passthrough).toEqual([]);
  });

  it('a passthrough host has one route', () => {
    const r = buildModel(aged([pt('z-pt'), pt('a-pt')]), SECRETS);
    expect(accepted(r, 'a-pt')).toMatchObject({ reason: 'HostConflict', message: 'host "a.test" is already passed through by route "z-pt"' });
    expect(only(r).passthrough.map((p) => p.route)).toEqual(['z-pt']);
  });

  it('plain HTTP and passthrough use different ports and may share a host in either order', () => {
    for (const routes of [[pt('z-pt'), on('a-plain', '/')], [on('z-plain', '/'), pt('a-pt')]]) {
      const r = buildModel(aged(routes), SECRETS);
      for (const x of routes) expect(accepted(r, x.metadata.name)?.status).toBe('True');
      expect(only(r).virtualHosts.map((v) => v.tls)).toEqual([undefined]);
      expect(only(r).passthrough).toHaveLength(1);
    }
  });

  it('a Terminate route whose secrets are missing claims nothing; once they exist the older route wins', () => {
    const routes = [on('z-tls', '/', TERM('gone', 'gone-key')), on('a-plain', '/x')];
    const before = buildModel(aged(routes), SECRETS);
    expect(cond(before, 'Route/z-tls', 'ResolvedRefs')?.reason).toBe('SecretNotFound');
    expect(accepted(before, 'a-plain')?.status).toBe('True');
    const after = buildModel(aged(routes), snapshot({ ...SNAP, secrets: [{ name: 'gone' }, { name: 'gone-key' }] }));
    expect(accepted(after, 'a-plain')?.reason).toBe('HostConflict');
  });

  it('the rule is per host: a route on another host is unaffected, and routes in other service clusters never conflict', () => {
    const other = route('b-other', { hosts: ['b.test'], tls: TERM('crt2', 'key2', true), rules: [{ backends: [{ service: 'web', port: 80 }] }] });
    const r = buildModel(aged([on('z-plain', '/'), other]), SECRETS);
    expect(accepted(r, 'b-other')?.status).toBe('True');
    const elsewhere = route('a-tls', { serviceCluster: 'edge', hosts: ['a.test'], tls: TERM(), rules: [{ backends: [{ service: 'web', port: 80 }] }] });
    const c = buildModel({ ...aged([on('z-plain', '/'), elsewhere]), clusters: desired([], [cluster('edge', {})]).clusters }, SECRETS);
    expect(accepted(c, 'a-tls')?.status).toBe('True');
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
