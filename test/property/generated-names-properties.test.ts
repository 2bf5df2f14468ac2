/**
 * Generated names are injective and routing is preserved (issue 14):
 * - a NameTable gives distinct identities distinct names (also without regard to case, as NGINX
 *   compares them), whatever bases it is offered — even all equal — and the same identity the
 *   same name, deterministically;
 * - for any two routes, with service names that are near misses of each other (differing only in
 *   "." "-" "_" or case, sharing 40+ characters) and any match values: each route's requests reach
 *   exactly its own backends and its own match values are the ones its conditions test, checked on
 *   the model and on the NGINX and HAProxy view models (not on the config text). Half the runs use
 *   a pair whose readable name bases (24-bit upstream hash, 32-bit match-variable hash) really collide.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { fnv1a32 } from '../../src/plan/hash';
import { lowerCase, NameTable } from '../../src/plan/names';
import { upstreamName } from '../../src/plan/resolve-backends';
import { DEFAULT_HAPROXY_OPTIONS } from '../../src/render/haproxy/options';
import { buildHaproxyView } from '../../src/render/haproxy/view-model';
import { cookiePairRegex, exactRegex } from '../../src/render/nginx/escape';
import { DEFAULT_NGINX_OPTIONS } from '../../src/render/nginx/options';
import { buildNginxView } from '../../src/render/nginx/view-model';
import { headerVariable } from '../../src/render/token';
import { hashCollision, separatorVariant } from '../helpers/collisions';
import { desired, route, snapshot, task } from '../helpers/specs';

describe('NameTable', () => {
  it('is injective (modulo case) and stable, whatever the bases', () => {
    const identity = fc.string({ unit: fc.constantFrom('a', 'A', '|', '"', '\u0000'), maxLength: 4 });
    const base = fc.constantFrom('n', 'N', 'n_x2', 'N_X2', 'n_x3', 'm');
    fc.assert(
      fc.property(fc.array(fc.tuple(identity, base), { maxLength: 30 }), (asks) => {
        const table = new NameTable(lowerCase);
        const names = asks.map(([id, b]) => table.name(id, b));
        const byIdentity = new Map<string, string>();
        const byName = new Map<string, string>();
        asks.forEach(([id], i) => {
          const name = names[i] ?? '';
          expect(byIdentity.get(id) ?? name).toBe(name);
          byIdentity.set(id, name);
          expect(byName.get(name.toLowerCase()) ?? id).toBe(id);
          byName.set(name.toLowerCase(), id);
          expect(name).toMatch(/^[A-Za-z0-9_]+$/);
        });
        const again = new NameTable(lowerCase);
        expect(asks.map(([id, b]) => again.name(id, b))).toEqual(names);
      }),
      { numRuns: 500 },
    );
  });
});

/** A Swarm service name near `stem`: separators, case and a long shared prefix are where names used to collide. */
const nearMiss = fc
  .tuple(fc.integer({ min: 0, max: 44 }), fc.array(fc.constantFrom('.', '-', '_', 'a', 'A', 'b', '1'), { minLength: 0, maxLength: 5 }), fc.constantFrom('a', 'A', 'z', '9'))
  .map(([n, middle, last]) => `s${'x'.repeat(n)}${middle.join('')}${last}`);
const headerName = fc.stringMatching(/^X-[A-Za-z0-9]{0,6}$/);
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 30 });
const cookieName = fc.stringMatching(/^[A-Za-z0-9_]{1,8}$/);
const cookieValue = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)).filter((c) => !'",;\\'.includes(c)), minLength: 1, maxLength: 30 });
const match = fc.oneof(
  fc.record({ kind: fc.constant('headers' as const), name: headerName, value: headerValue }),
  fc.record({ kind: fc.constant('cookies' as const), name: cookieName, value: cookieValue }),
);
type Match = typeof match extends fc.Arbitrary<infer M> ? M : never;
/** One or two backends of the route's own service, on ports 80 and 81, with weights. */
const backends = fc.uniqueArray(fc.record({ port: fc.constantFrom(80, 81), weight: fc.integer({ min: 1, max: 1000 }) }), { minLength: 1, maxLength: 2, selector: (b) => b.port });
const side = fc.record({ service: nearMiss, match, backends });
type Side = typeof side extends fc.Arbitrary<infer S> ? S : never;

/** Near misses that random generation never finds: service names whose upstream name base is equal, header values whose 32-bit hashes are. */
const label = (service: string) => `${service}|80|task|app|none`;
const [svcA = '', svcB = ''] = hashCollision(separatorVariant, (s) => upstreamName(s, 80, label(s)));
const [valueA = '', valueB = ''] = hashCollision((i) => `v${i.toString(36)}`, (v) => fnv1a32(`x-m\u0000${v}`));
const colliding = fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 1000 })).map(
  ([wa, wb]): [Side, Side] => [
    { service: svcA, match: { kind: 'headers', name: 'X-M', value: valueA }, backends: [{ port: 80, weight: wa }] },
    { service: svcB, match: { kind: 'headers', name: 'x-m', value: valueB }, backends: [{ port: 80, weight: wb }] },
  ],
);

const sameCondition = (a: Match, b: Match): boolean =>
  a.kind === b.kind && a.value === b.value && (a.kind === 'headers' ? a.name.toLowerCase() === b.name.toLowerCase() : a.name === b.name);

function modelOf(sides: readonly [Side, Side]): ProxyModel {
  const ips = ['10.0.0.1', '10.0.0.2'];
  const snap = snapshot({
    services: sides.map((s) => ({ name: s.service, networks: ['app'] })),
    tasks: sides.map((s, i) => task(s.service, ips[i] ?? '')),
    networks: [{ name: 'app' }],
  });
  const routes = sides.map((s, i) =>
    route(`r${i}`, {
      hosts: ['h.test'],
      rules: [{ match: { [s.match.kind]: [{ name: s.match.name, value: s.match.value }] }, backends: s.backends.map((b) => ({ service: s.service, ...b })) }],
    }),
  );
  const [model] = buildModel(desired(routes), snap).clusters;
  if (model === undefined) throw new Error('no model');
  return model;
}

describe('two routes', () => {
  it('each reach exactly their own backends and test their own match values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(side, side), colliding), ([a, b]) => {
        fc.pre(a.service !== b.service && !sameCondition(a.match, b.match));
        const sides = [a, b] as const;
        const model = modelOf(sides);
        const own = sides.map((s, i) => new Set(s.backends.map((x) => `10.0.0.${i + 1}:${x.port}`)));

        // The model: distinct names (also to NGINX, which ignores case), each rule's targets its own service's upstreams.
        expect(new Set(model.upstreams.map((u) => u.name.toLowerCase())).size).toBe(model.upstreams.length);
        const servers = (name: string) => model.upstreams.find((u) => u.name === name)?.servers.map((s) => `${s.ip}:${s.port}`) ?? [];
        const rules = model.virtualHosts.flatMap((vh) => vh.paths.flatMap((p) => p.conditional));
        expect(rules).toHaveLength(2);
        for (const rule of rules) {
          const i = Number(rule.route.slice(1));
          const targets = rule.action.kind === 'proxy' ? rule.action.targets : [];
          expect(new Set(targets.flatMap((t) => servers(t.upstream)))).toEqual(own[i]);
        }

        // NGINX: the dispatch condition of each rule's named location tests its own value; the location reaches its own servers.
        const nginx = buildNginxView(model, DEFAULT_NGINX_OPTIONS);
        expect(new Set(nginx.upstreams.map((u) => u.name.toLowerCase())).size).toBe(nginx.upstreams.length);
        const nginxServers = (target: string | undefined): Set<string> => {
          const up = nginx.upstreams.find((u) => u.name === target);
          if (up !== undefined) return new Set(up.servers.map((s) => s.address));
          const split = nginx.splits.find((s) => s.variable === target);
          return new Set((split?.shares ?? []).flatMap((sh) => [...nginxServers(sh.upstream)]));
        };
        const server = nginx.servers.find((s) => s.serverName === 'h.test');
        const dispatch = server?.locations.find((l) => l.path === '/')?.dispatch ?? [];
        expect(dispatch).toHaveLength(2);
        sides.forEach((s, i) => {
          const d = dispatch.find((x) => x.target === `@sg_r${i}-r0`);
          const map = nginx.headerMaps.find((m) => m.variable === d?.condition);
          expect(map).toEqual(
            s.match.kind === 'headers'
              ? { source: headerVariable(s.match.name), variable: d?.condition, pattern: `~${exactRegex(s.match.value)}` }
              : { source: '$http_cookie', variable: d?.condition, pattern: `~${cookiePairRegex(s.match.name, s.match.value)}` },
          );
          expect(nginxServers(server?.named.find((n) => n.name === d?.target)?.body.target)).toEqual(own[i]);
        });

        // HAProxy: each rule's selection tests its own value; its use_backend lines reach its own servers.
        const haproxy = buildHaproxyView(model, DEFAULT_HAPROXY_OPTIONS);
        expect(new Set(haproxy.backends.map((x) => x.name)).size).toBe(haproxy.backends.length);
        sides.forEach((s, i) => {
          const sel = haproxy.http.ruleSelect.find((x) => x.rule === `r${i}-r0`);
          const tested = (sel?.conditions ?? []).flatMap((c) => [
            ...haproxy.http.headerAcls.filter((x) => x.name === c).map((x) => ({ kind: 'headers', name: x.header.toLowerCase(), value: x.value })),
            ...haproxy.http.cookieMatchAcls.filter((x) => x.name === c).map((x) => ({ kind: 'cookies', name: x.cookie, value: x.value })),
          ]);
          expect(tested).toEqual([{ kind: s.match.kind, name: s.match.kind === 'headers' ? s.match.name.toLowerCase() : s.match.name, value: s.match.value }]);
          const used = haproxy.http.useBackends.filter((u) => u.conditions.some((c) => c === `rule_r${i}-r0`)).map((u) => u.backend);
          const reached = haproxy.backends.filter((x) => used.some((u) => u === x.name)).flatMap((x) => x.servers.map((sv) => sv.address));
          expect(new Set(reached)).toEqual(own[i]);
        });
      }),
      { numRuns: 300 },
    );
  });
});
