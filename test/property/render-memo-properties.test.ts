/**
 * Memoised fragments (ADR 0034) never change a byte: over generated sequences of route changes (a
 * route added, removed, edited — hosts, paths, header and cookie matches, weights, stickiness, TLS,
 * redirects, response headers — and the cluster's options), the NGINX render that reuses the last
 * render's `server` blocks equals the whole render, after every change of the sequence, in both
 * Static and Dynamic layouts. The generators shift generated names (a header match added before
 * another route's takes its variable's base), so a fragment whose view changed only in a name must
 * not be reused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { DesiredState } from '../../src/plan/inputs';
import { lastNginxFragments, renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { DEFAULT_DYNAMIC_ENDPOINTS } from '../../src/render/nginx/options';
import { cluster, route, snapshot, task } from '../helpers/specs';

const SERVICES = ['s0', 's1', 's2'] as const;
const SNAPSHOT = snapshot({
  services: SERVICES.map((name) => ({ name, networks: ['app'], exposedPorts: [8080] })),
  tasks: SERVICES.flatMap((s, i) => [task(s, `10.1.${i}.1`), task(s, `10.1.${i}.2`)]),
  networks: [{ name: 'app' }],
  secrets: [{ name: 'c.crt' }, { name: 'c.key' }],
});

interface GenRoute {
  readonly host: number;
  readonly path: '/' | '/api' | '/v1/x';
  readonly header: string | undefined;
  readonly cookie: string | undefined;
  readonly backends: readonly { readonly service: (typeof SERVICES)[number]; readonly weight: number }[];
  readonly sticky: 'none' | 'cookie' | 'clientIP';
  readonly tls: 'none' | 'terminate' | 'redirect';
  readonly redirect: boolean;
  readonly addHeader: string | undefined;
  readonly generation: number;
}

const genRoute: fc.Arbitrary<GenRoute> = fc.record({
  host: fc.integer({ min: 0, max: 5 }),
  path: fc.constantFrom('/' as const, '/api' as const, '/v1/x' as const),
  header: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
  cookie: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
  backends: fc.uniqueArray(fc.record({ service: fc.constantFrom(...SERVICES), weight: fc.constantFrom(1, 10, 90) }), { minLength: 1, maxLength: 3, selector: (b) => b.service }),
  sticky: fc.constantFrom('none' as const, 'cookie' as const, 'clientIP' as const),
  tls: fc.constantFrom('none' as const, 'terminate' as const, 'redirect' as const),
  redirect: fc.constantFrom(false, false, false, true),
  addHeader: fc.option(fc.constantFrom('one', 'two'), { nil: undefined }),
  generation: fc.integer({ min: 1, max: 3 }),
});

interface GenCluster {
  readonly dynamic: boolean;
  readonly h2c: boolean;
  readonly xff: boolean;
}
const genCluster: fc.Arbitrary<GenCluster> = fc.record({ dynamic: fc.boolean(), h2c: fc.boolean(), xff: fc.boolean() });

function routeSpec(g: GenRoute): Record<string, unknown> {
  const affinity = g.sticky === 'cookie' ? { sessionAffinity: { cookie: { name: 'sg' } } } : g.sticky === 'clientIP' ? { sessionAffinity: { clientIP: true } } : {};
  const match = { pathPrefix: g.path, ...(g.header !== undefined ? { headers: [{ name: `X-${g.header}`, value: g.header }] } : {}), ...(g.cookie !== undefined ? { cookies: [{ name: g.cookie, value: 'v' }] } : {}) };
  const rule = g.redirect
    ? { match: { path: g.path }, redirect: { path: '/moved', code: 301 } }
    : { match, backends: g.backends.map((b) => ({ service: b.service, port: 8080, weight: b.weight })), ...affinity, ...(g.addHeader !== undefined ? { responseHeaders: { add: [{ name: 'X-Added', value: g.addHeader }] } } : {}) };
  const tls = g.tls === 'none' ? {} : { tls: { mode: 'Terminate', certificate: { certSecret: 'c.crt', keySecret: 'c.key' }, ...(g.tls === 'redirect' ? { redirectHTTP: true } : {}) } };
  return { hosts: [`h${g.host}.test`], serviceCluster: 'edge', ...tls, rules: [rule] };
}

function desiredOf(routes: ReadonlyMap<number, GenRoute>, c: GenCluster): DesiredState {
  const proxy = { kind: 'nginx', delivery: 'hitless', ...(c.dynamic ? { endpoints: 'Dynamic' } : {}), ...(c.h2c ? { h2c: true } : {}), ...(c.xff ? { clientAddress: { from: 'XForwardedFor', trustedProxies: ['10.0.0.0/8'] } } : {}), publish: { mode: 'host', http: 18080, https: 18443 } };
  return {
    routes: [...routes].map(([id, g]) => ({ object: route(`r${id}`, routeSpec(g)), generation: g.generation, createdAt: `2026-01-01T00:00:${String(id).padStart(2, '0')}Z` })),
    clusters: [{ object: cluster('edge', { proxy }), generation: 1 }],
    rejected: [],
  };
}

type Change = { kind: 'set'; id: number; route: GenRoute } | { kind: 'delete'; id: number } | { kind: 'cluster'; cluster: GenCluster };
const genChange: fc.Arbitrary<Change> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), id: fc.integer({ min: 0, max: 9 }), route: genRoute }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cluster' as const), cluster: genCluster }) },
);

/** Both renders of the cluster's model: memoised (the last render's fragments reused) and whole. */
function renders(routes: ReadonlyMap<number, GenRoute>, c: GenCluster): { memo: string; whole: string } | undefined {
  const model = buildModel(desiredOf(routes, c), SNAPSHOT).clusters.find((m) => m.cluster === 'edge');
  if (model === undefined) return undefined;
  const options = c.dynamic ? { dynamicEndpoints: DEFAULT_DYNAMIC_ENDPOINTS } : {};
  return { memo: renderNginxWithEndpoints(model, options).config, whole: renderNginxWithEndpoints(model, options, 'whole').config };
}

describe('memoised NGINX fragments', () => {
  it('render byte for byte what the whole render gives, after every change of a sequence', () => {
    let reused = 0;
    let changes = 0;
    fc.assert(
      fc.property(fc.array(genRoute, { minLength: 1, maxLength: 6 }), genCluster, fc.array(genChange, { minLength: 1, maxLength: 8 }), (start, c0, sequence) => {
        const routes = new Map(start.map((g, i) => [i, g]));
        let c = c0;
        renders(routes, c);
        for (const change of sequence) {
          if (change.kind === 'set') routes.set(change.id, change.route);
          else if (change.kind === 'delete') routes.delete(change.id);
          else c = change.cluster;
          const r = renders(routes, c);
          if (r === undefined) continue;
          expect(r.memo).toBe(r.whole);
          changes++;
          reused += lastNginxFragments().hits;
        }
      }),
      { numRuns: 150 },
    );
    // The sequences must exercise reuse, not only renders from scratch.
    expect(reused).toBeGreaterThan(changes);
  });
});
