/**
 * Routes as data (ADR 0050), for any mix of hosts (exact and wildcard, shared by routes), paths (exact,
 * nested prefixes) and rule features: rendered with and without the route table, every host is served
 * exactly once — as the same block, or as one well-formed line whose locations are the block's
 * locations in order (kind, path, route, upstream or split) — no host with a feature beyond proxying is
 * tabled, the config passes `nginx -t`, and the table changes no upstream or split line.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { DEFAULT_DYNAMIC_ENDPOINTS, DEFAULT_NGINX_OPTIONS } from '../../src/render/nginx/options';
import { renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { ROUTE_LINE } from '../../src/render/nginx/route-table';
import { buildNginxView, type ServerView } from '../../src/render/nginx/view-model';
import { nginxTest } from '../helpers/nginx-process';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';

const HOSTS = ['a.test', 'b.test', '*.w.test', 'x.w.test', '*.x.w.test'] as const;
const PATHS = ['/', '/a', '/a/b', '/api', '/api/v2', '/x.y'] as const;
const SERVICES = ['s0', 's1', 's2'] as const;
type Feature = 'plain' | 'header' | 'rewrite' | 'timeout' | 'websocket' | 'redirect';

interface RuleSpec {
  readonly path: number;
  readonly exact: boolean;
  readonly services: readonly number[];
  readonly feature: Feature;
}

const ruleArb: fc.Arbitrary<RuleSpec> = fc.record({
  path: fc.integer({ min: 0, max: PATHS.length - 1 }),
  exact: fc.boolean(),
  services: fc.uniqueArray(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 2 }),
  feature: fc.constantFrom<Feature>('plain', 'plain', 'plain', 'header', 'rewrite', 'timeout', 'websocket', 'redirect'),
});

interface RouteSpec {
  readonly hosts: readonly number[];
  readonly rules: readonly RuleSpec[];
  /** TLS: none, terminated, or terminated with plain HTTP redirected. */
  readonly tls: 'none' | 'terminate' | 'redirect';
}

const worldArb: fc.Arbitrary<readonly RouteSpec[]> = fc.array(
  fc.record({
    hosts: fc.uniqueArray(fc.integer({ min: 0, max: HOSTS.length - 1 }), { minLength: 1, maxLength: 2 }),
    // A route refuses two rules with the same match.
    rules: fc.uniqueArray(ruleArb, { minLength: 1, maxLength: 3, selector: (r) => `${r.path} ${String(r.exact)}` }),
    tls: fc.constantFrom<RouteSpec['tls']>('none', 'none', 'terminate', 'redirect'),
  }),
  { minLength: 1, maxLength: 4 },
);

function featureOf(f: Feature): Record<string, unknown> {
  switch (f) {
    case 'plain':
      return {};
    case 'header':
      return { requestHeaders: { set: [{ name: 'X-T', value: 'v' }] } };
    case 'rewrite':
      return { rewrite: { replacePrefix: '/r' } };
    case 'timeout':
      return { timeouts: { read: '7s' } };
    case 'websocket':
      return { websocket: true };
    case 'redirect':
      return { redirect: { scheme: 'https', code: 301 } };
  }
}

/** `forwardedFor`: the cluster believes X-Forwarded-For, so a TLS host is two servers, one per listener. */
function model(world: readonly RouteSpec[], forwardedFor = false): ProxyModel {
  const routes = world.map((r, i) =>
    route(`r${i}`, {
      hosts: r.hosts.map((h) => HOSTS[h]),
      ...(r.tls !== 'none' ? { tls: { mode: 'Terminate', certificate: { certSecret: 'c', keySecret: 'k' }, ...(r.tls === 'redirect' ? { redirectHTTP: true } : {}) } } : {}),
      rules: r.rules.map((rule) => ({
        match: rule.exact ? { path: PATHS[rule.path] } : { pathPrefix: PATHS[rule.path] },
        ...featureOf(rule.feature),
        ...(rule.feature === 'redirect' ? {} : { backends: rule.services.map((s) => ({ service: SERVICES[s], port: 8080, weight: 1 })) }),
      })),
    }),
  );
  const snap = snapshot({
    services: SERVICES.map((name) => ({ name, networks: ['app'] })),
    tasks: SERVICES.map((name, i) => task(name, `10.0.${i}.1`)),
    networks: [{ name: 'app', driver: 'overlay', scope: 'swarm' }],
    secrets: [{ name: 'c' }, { name: 'k' }],
  });
  const clusters = forwardedFor ? [cluster('default', { proxy: { clientAddress: { from: 'XForwardedFor', trustedProxies: ['10.0.0.0/8'] } } })] : [];
  const m = buildModel(desired(routes, clusters), snap).clusters[0];
  if (m === undefined) throw new Error('no cluster');
  return m;
}

const dir = mkdtempSync(join(tmpdir(), 'sg-rtable-prop-'));
const options = (routeTable: boolean) => ({ dynamicEndpoints: DEFAULT_DYNAMIC_ENDPOINTS, routeTable, accessLogPath: join(dir, 'access.log'), pidPath: join(dir, 'nginx.pid') });

/** What a block's locations say, as a host line's quadruples would. */
function entriesOf(s: ServerView): string {
  return s.locations.map((l) => `${l.exact ? '=' : '^'} ${l.path} ${l.body?.route ?? '?'} ${l.body?.dataSplit !== undefined ? `=${l.body.dataSplit}` : String(l.body?.target)}`).join(' ');
}

/** A block with something beyond proxying: a feature the table must leave to NGINX. */
function hasFeature(s: ServerView): boolean {
  return s.locations.some((l) => l.body === undefined || l.body.rewritePrefix !== undefined || l.body.rewriteExact !== undefined || l.body.customHeaders || l.body.readTimeout !== undefined || l.body.websocket || l.body.redirect !== undefined);
}


describe('routes as data (ADR 0050)', () => {
  it('serves every host once, as the same block or as a line equal to its locations; only proxy-only hosts are tabled', () => {
    let tabled = 0;
    let kept = 0;
    fc.assert(
      fc.property(worldArb, fc.boolean(), (world, forwardedFor) => {
        const m = model(world, forwardedFor);
        const blocks = buildNginxView(m, { ...DEFAULT_NGINX_OPTIONS, ...options(false) }).servers.filter((s) => !s.defaultServer);
        const table = buildNginxView(m, { ...DEFAULT_NGINX_OPTIONS, ...options(true) }).servers.filter((s) => !s.defaultServer);
        const r = renderNginxWithEndpoints(m, options(true));
        const lines = r.endpoints.split('\n').filter((l) => l.startsWith('@'));
        for (const l of lines) expect(l).toMatch(ROUTE_LINE);
        const byHost = new Map(lines.map((l) => [l.slice(1, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
        const keptNames = table.filter((s) => s.routeTable !== true).map((s) => s.serverName);
        const tableNames = table.flatMap((s) => (s.routeTable === true ? (s.tableHosts ?? []) : []));
        // One line per host, even for a host in two table servers (one per listener).
        expect(byHost.size).toBe(lines.length);
        expect([...new Set(tableNames)].sort()).toEqual([...byHost.keys()].sort());
        // Listener shapes: a tabled host is in the table server(s) with its own listeners, settings and redirect.
        const shapeOf = (s: ServerView) => JSON.stringify([s.listenHttp, s.tlsListener, s.httpsRedirect ?? null, s.forwardedFor ?? null, s.acmeHttp01 ?? null]);
        const tableShapes = new Map<string, Set<string>>();
        for (const t of table) if (t.routeTable === true) for (const h of t.tableHosts ?? []) tableShapes.set(h, (tableShapes.get(h) ?? new Set()).add(shapeOf(t)));
        for (const b of blocks) {
          const line = byHost.get(b.serverName);
          if (line === undefined) {
            expect(keptNames).toContain(b.serverName);
            expect(table.filter((s) => s.serverName === b.serverName && s.routeTable !== true)).toContainEqual(b);
            kept++;
          } else {
            expect(tableShapes.get(b.serverName)?.has(shapeOf(b))).toBe(true);
            expect(b.tls === undefined && b.clientCert === undefined).toBe(true);
            expect(hasFeature(b)).toBe(false);
            expect(line).toBe(entriesOf(b));
            tabled++;
          }
        }
        // Upstream and split lines are the same with and without the table.
        const others = (e: string) => e.split('\n').filter((l) => l !== '' && !l.startsWith('@'));
        expect(others(r.endpoints)).toEqual(others(renderNginxWithEndpoints(m, options(false)).endpoints));
      }),
      { numRuns: 300 },
    );
    // Both outcomes were exercised.
    expect(tabled).toBeGreaterThan(50);
    expect(kept).toBeGreaterThan(50);
  });

  it('renders configs nginx -t accepts', () => {
    fc.assert(
      fc.property(worldArb, fc.boolean(), (world, forwardedFor) => {
        const r = renderNginxWithEndpoints(model(world, forwardedFor), options(true));
        const path = join(dir, 'nginx.conf');
        writeFileSync(path, r.config);
        const check = nginxTest(path);
        expect(check.ok, check.output).toBe(true);
      }),
      { numRuns: 25 },
    );
  });
});
