/**
 * Memoised host views and fragments (ADR 0034, 0043) never change a byte: over generated sequences of
 * changes (a route added, removed, edited — hosts, paths, header and cookie matches, weights,
 * stickiness, TLS, redirects, response headers, middlewares —, Swarm task changes, and the cluster's
 * options), the NGINX render that reuses the last render's host views and `server` blocks equals a
 * render from scratch (no memo at all), after every change of the sequence, in both Static and Dynamic
 * layouts. The generators shift generated names: two header values whose name bases really collide
 * (so which of them carries the `_x2` suffix depends on which route is built first), and middlewares
 * whose names and blocks are shared across routes; a forwardAuth service whose tasks come and go
 * changes a fact the views read (its upstream or the loopback 503 server); hosts with client
 * certificates (which cannot share the default server's TLS context) and a default server change the
 * hosts' TLS roles and whether the SNI router exists. So a host whose view
 * changed only in a name or a fact must not be reused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import { fnv1a32 } from '../../src/plan/hash';
import { upstreamName } from '../../src/plan/resolve-backends';
import { lastModelReuse } from '../../src/plan/build-model';
import type { RouteObject } from '../../src/domain/object';
import type { DesiredState } from '../../src/plan/inputs';
import { lastNginxFragments, renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { DEFAULT_DYNAMIC_ENDPOINTS } from '../../src/render/nginx/options';
import type { Snapshot } from '../../src/domain/snapshot';
import { hashCollision, separatorVariant } from '../helpers/collisions';
import { cluster, middleware, route, snapshot, task } from '../helpers/specs';

/**
 * Two services whose upstream name bases are equal (ADR 0003): the upstream of the one compiled first
 * keeps the base, the other gets `_x2`, so a route added before another (older) shifts the names of a
 * route whose own spec did not change (ADR 0048: its compilation must not be reused).
 */
const [SVC_A = '', SVC_B = ''] = hashCollision(separatorVariant, (s) => upstreamName(s, 8080, `${s}|8080|task|app|none`));
const SERVICES = ['s0', 's1', 's2', SVC_A, SVC_B] as const;
/**
 * The Swarm: per service s0–s2 (and the auth service) how many of its tasks run (0: none, so `serving`
 * is false; the colliding two have one each), and last whether s2 exposes the routes' port (0: it
 * exposes only 9000, so its backends do not resolve while its tasks are unchanged).
 */
type Tasks = readonly [number, number, number, number, number];
function snapshotOf(tasks: Tasks): Snapshot {
  const services = ['s0', 's1', 's2', 'auth'];
  return snapshot({
    services: [...services, SVC_A, SVC_B].map((name) => ({ name, networks: ['app'], exposedPorts: name === 's2' && tasks[4] === 0 ? [9000] : [8080, 9091] })),
    tasks: [...services.flatMap((s, i) => Array.from({ length: tasks[i] ?? 0 }, (_, k) => task(s, `10.1.${i}.${k + 1}`))), task(SVC_A, '10.2.0.1'), task(SVC_B, '10.2.0.2')],
    networks: [{ name: 'app' }],
    secrets: [{ name: 'c.crt' }, { name: 'c.key' }, { name: 'ca.pem' }],
  });
}
const genTasks: fc.Arbitrary<Tasks> = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1 }), fc.constantFrom(1, 1, 0));

/** Two values of header X-a whose map variables have the same base ($sg_h_<fnv1a32>): one of them gets `_x2`. */
const [COLLIDE_A, COLLIDE_B] = hashCollision((i) => `v${i}`, (v) => fnv1a32(`x-a\u0000${v}`));
/** The middlewares, with the rate limit's average (a middleware edited: the routes using it are not, their policies are). */
const middlewaresOf = (average: number) =>
  [
    middleware('fa', { forwardAuth: { service: 'auth', port: 9091, path: '/check', responseHeaders: ['Remote-User'] } }),
    middleware('co', { cors: { allowOrigins: ['https://app.test'], exposeHeaders: ['X-Id'], allowCredentials: true } }),
    middleware('ip', { ipAllow: ['10.0.0.0/8'] }),
    middleware('rl', { rateLimit: { average } }),
  ].map((object) => ({ object, generation: 1 }));
const MIDDLEWARES = { 5: middlewaresOf(5), 10: middlewaresOf(10) };

interface GenRoute {
  readonly host: number;
  readonly path: '/' | '/api' | '/v1/x';
  readonly header: string | undefined;
  readonly middlewares: readonly string[];
  /** The cluster's default server (the first such route admitted; the others conflict). */
  readonly defaultBackend: boolean;
  readonly cookie: string | undefined;
  readonly backends: readonly { readonly service: (typeof SERVICES)[number]; readonly weight: number }[];
  readonly sticky: 'none' | 'cookie' | 'clientIP';
  readonly tls: 'none' | 'terminate' | 'redirect' | 'mtls';
  readonly redirect: boolean;
  readonly addHeader: string | undefined;
  readonly generation: number;
}

const genRoute: fc.Arbitrary<GenRoute> = fc.record({
  host: fc.integer({ min: 0, max: 5 }),
  path: fc.constantFrom('/' as const, '/api' as const, '/v1/x' as const),
  header: fc.option(fc.constantFrom('a', 'b', 'c', COLLIDE_A, COLLIDE_B), { nil: undefined }),
  middlewares: fc.subarray(['fa', 'co', 'ip', 'rl']),
  defaultBackend: fc.constantFrom(false, false, false, true),
  cookie: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
  backends: fc.uniqueArray(fc.record({ service: fc.constantFrom(...SERVICES), weight: fc.constantFrom(1, 10, 90) }), { minLength: 1, maxLength: 3, selector: (b) => b.service }),
  sticky: fc.constantFrom('none' as const, 'cookie' as const, 'clientIP' as const),
  tls: fc.constantFrom('none' as const, 'terminate' as const, 'redirect' as const, 'mtls' as const),
  redirect: fc.constantFrom(false, false, false, true),
  addHeader: fc.option(fc.constantFrom('one', 'two'), { nil: undefined }),
  generation: fc.integer({ min: 1, max: 3 }),
});

interface GenCluster {
  readonly dynamic: boolean;
  readonly h2c: boolean;
  readonly xff: boolean;
  /** The cluster's default read timeout: compiled into every proxy rule (ADR 0048: a kept compilation needs the same spec). */
  readonly read: '60s' | '30s';
  /** The rate-limit middleware's average (not part of the cluster's spec; in this record for brevity). */
  readonly rate: 5 | 10;
}
const genCluster: fc.Arbitrary<GenCluster> = fc.record({ dynamic: fc.boolean(), h2c: fc.boolean(), xff: fc.boolean(), read: fc.constantFrom('60s' as const, '30s' as const), rate: fc.constantFrom(5 as const, 10 as const) });

function routeSpec(g: GenRoute): Record<string, unknown> {
  const affinity = g.sticky === 'cookie' ? { sessionAffinity: { cookie: { name: 'sg' } } } : g.sticky === 'clientIP' ? { sessionAffinity: { clientIP: true } } : {};
  const match = { pathPrefix: g.path, ...(g.header !== undefined ? { headers: [{ name: g.header.length > 1 ? 'X-a' : `X-${g.header}`, value: g.header }] } : {}), ...(g.cookie !== undefined ? { cookies: [{ name: g.cookie, value: 'v' }] } : {}) };
  const rule = g.redirect
    ? { match: { path: g.path }, redirect: { path: '/moved', code: 301 } }
    : { match, backends: g.backends.map((b) => ({ service: b.service, port: 8080, weight: b.weight })), ...affinity, ...(g.addHeader !== undefined ? { responseHeaders: { add: [{ name: 'X-Added', value: g.addHeader }] } } : {}) };
  const tls = g.tls === 'none' ? {} : { tls: { mode: 'Terminate', certificate: { certSecret: 'c.crt', keySecret: 'c.key' }, ...(g.tls === 'redirect' ? { redirectHTTP: true } : {}), ...(g.tls === 'mtls' ? { clientCertificate: { caSecret: 'ca.pem' } } : {}) } };
  return { hosts: [`h${g.host}.test`], serviceCluster: 'edge', ...tls, ...(g.middlewares.length > 0 ? { middlewares: g.middlewares } : {}), ...(g.defaultBackend ? { defaultBackend: true } : {}), rules: [rule] };
}

/**
 * The decoded route of each generated route, kept while it is unchanged: the core's spec reader keeps
 * decoded specs too, so an unchanged route is the same object build after build (ADR 0048 compares it
 * at once). A `respec` change forgets them: equal routes as new objects (compared as data).
 */
let decoded = new WeakMap<GenRoute, Map<number, RouteObject>>();
function routeObject(id: number, g: GenRoute): RouteObject {
  const byId = decoded.get(g) ?? new Map<number, RouteObject>();
  decoded.set(g, byId);
  const known = byId.get(id);
  if (known !== undefined) return known;
  const o = route(`r${id}`, routeSpec(g));
  byId.set(id, o);
  return o;
}

function desiredOf(routes: ReadonlyMap<number, GenRoute>, c: GenCluster): DesiredState {
  const proxy = { kind: 'nginx', delivery: 'hitless', ...(c.dynamic ? { endpoints: 'Dynamic' } : {}), ...(c.h2c ? { h2c: true } : {}), ...(c.xff ? { clientAddress: { from: 'XForwardedFor', trustedProxies: ['10.0.0.0/8'] } } : {}), publish: { mode: 'host', http: 18080, https: 18443 } };
  return {
    routes: [...routes].map(([id, g]) => ({ object: routeObject(id, g), generation: g.generation, createdAt: `2026-01-01T00:00:${String(id).padStart(2, '0')}Z` })),
    clusters: [{ object: cluster('edge', { proxy, ...(c.read !== '60s' ? { defaults: { timeouts: { read: c.read } } } : {}) }), generation: 1 }],
    middlewares: MIDDLEWARES[c.rate],
    rejected: [],
  };
}

type Change = { kind: 'set'; id: number; route: GenRoute } | { kind: 'delete'; id: number } | { kind: 'cluster'; cluster: GenCluster } | { kind: 'tasks'; tasks: Tasks } | { kind: 'respec' };
const genChange: fc.Arbitrary<Change> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'respec' as const }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), id: fc.integer({ min: 0, max: 9 }), route: genRoute }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cluster' as const), cluster: genCluster }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tasks' as const), tasks: genTasks }) },
);

/**
 * Both renders of the cluster's model: memoised (the model built reusing the last build's compiled
 * routes and hosts, ADR 0048; the last render's host views and fragments reused) and from scratch (the
 * model built whole, rendered with no memo); and both models as JSON.
 */
function renders(routes: ReadonlyMap<number, GenRoute>, c: GenCluster, tasks: Tasks): { memo: string; whole: string; memoModel: string; wholeModel: string } | undefined {
  const desired = desiredOf(routes, c);
  const snap = snapshotOf(tasks);
  const model = buildModel(desired, snap).clusters.find((m) => m.cluster === 'edge');
  const cold = buildModel(desired, snap, { reuse: 'whole' }).clusters.find((m) => m.cluster === 'edge');
  if (model === undefined || cold === undefined) return undefined;
  const options = c.dynamic ? { dynamicEndpoints: DEFAULT_DYNAMIC_ENDPOINTS } : {};
  return { memo: renderNginxWithEndpoints(model, options).config, whole: renderNginxWithEndpoints(cold, options, 'whole').config, memoModel: JSON.stringify(model), wholeModel: JSON.stringify(cold) };
}

describe('memoised NGINX fragments', () => {
  it('render byte for byte what the whole render gives, after every change of a sequence', () => {
    let reused = 0;
    let hostsReused = 0;
    let changes = 0;
    let suffixed = 0;
    /** Routes and hosts the model builds reused, and renders with an upstream name carrying `_x2`. */
    const model = { routes: 0, hosts: 0, suffixed: 0 };
    /** Renders whose forwardAuth location asks the auth service, and the loopback 503 server (no auth task). */
    const auth = { up: 0, down: 0 };
    fc.assert(
      fc.property(fc.array(genRoute, { minLength: 1, maxLength: 6 }), genCluster, genTasks, fc.array(genChange, { minLength: 1, maxLength: 8 }), (start, c0, t0, sequence) => {
        const routes = new Map(start.map((g, i) => [i, g]));
        let c = c0;
        let tasks = t0;
        renders(routes, c, tasks);
        for (const change of sequence) {
          if (change.kind === 'set') routes.set(change.id, change.route);
          else if (change.kind === 'delete') routes.delete(change.id);
          else if (change.kind === 'tasks') tasks = change.tasks;
          else if (change.kind === 'respec') decoded = new WeakMap();
          else c = change.cluster;
          const r = renders(routes, c, tasks);
          if (r === undefined) continue;
          expect(r.memoModel).toBe(r.wholeModel);
          expect(r.memo).toBe(r.whole);
          changes++;
          model.routes += lastModelReuse('edge')?.routes.hits ?? 0;
          model.hosts += lastModelReuse('edge')?.hosts.hits ?? 0;
          if (/\bu_[0-9a-f]{6}_\w+_x2\b/.test(r.whole)) model.suffixed++;
          reused += lastNginxFragments().hits;
          hostsReused += lastNginxFragments().hosts.hits;
          if (r.whole.includes('_x2 ')) suffixed++;
          if (r.whole.includes('proxy_pass "http://u_')) auth.up++;
          if (r.whole.includes('proxy_pass "http://127.0.0.1:')) auth.down++;
        }
      }),
      { numRuns: 200 },
    );
    // The sequences must exercise reuse, not only renders from scratch, the colliding names and both auth targets.
    expect(reused).toBeGreaterThan(changes);
    expect(hostsReused).toBeGreaterThan(changes);
    expect(suffixed).toBeGreaterThan(0);
    expect(Math.min(auth.up, auth.down)).toBeGreaterThan(0);
    expect(model.routes).toBeGreaterThan(changes);
    expect(model.hosts).toBeGreaterThan(changes);
    expect(model.suffixed).toBeGreaterThan(0);
    // Two builds and two renders per change (about 20 s alone): more than the default under a loaded machine.
  }, 120_000);
});
