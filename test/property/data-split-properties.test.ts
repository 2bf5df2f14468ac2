/**
 * Splits as data (ADR 0049), for any weights (0 included) and any task presence: with dynamic endpoints
 * nginx.conf is the same bytes whatever the weights and whichever backends have tasks (so a weight step
 * or a backend's last task is a push, never a reload), every rule over several backends has exactly one
 * well-formed split line naming its declared backends with their weights in spec order, and two rules
 * never share a split line (collision-free names, even over the same backends). Without dynamic
 * endpoints the weights stay in nginx.conf (split_clients), as before.
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { SPLIT_LINE } from '../../src/render/nginx/lua-balancer';
import { DEFAULT_DYNAMIC_ENDPOINTS } from '../../src/render/nginx/options';
import { renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { desired, route, snapshot, task } from '../helpers/specs';

const SERVICES = ['s0', 's1', 's2', 's3'] as const;

interface World {
  /** Per route, per rule: the services (indexes into SERVICES, distinct, 2–3) and their weights. */
  readonly routes: readonly (readonly { readonly services: readonly number[]; readonly clientIp: boolean }[])[];
}

const worldArb: fc.Arbitrary<World> = fc.record({
  routes: fc.array(fc.array(fc.record({ services: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 3 }), clientIp: fc.boolean() }), { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 3 }),
});

/** One weight per (route, rule, backend) and which services have a task. */
const stateArb = fc.record({ weights: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 18, maxLength: 18 }), running: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }) });

function model(w: World, weights: readonly number[], running: readonly boolean[]): ProxyModel {
  let next = 0;
  const routes = w.routes.map((rules, r) =>
    route(`r${r}`, {
      hosts: [`r${r}.test`],
      rules: rules.map((rule, i) => ({
        ...(i > 0 ? { match: { pathPrefix: `/p${i}` } } : {}),
        ...(rule.clientIp ? { sessionAffinity: { clientIP: true } } : {}),
        backends: rule.services.map((s) => ({ service: SERVICES[s], port: 8080, weight: weights[next++ % weights.length] ?? 1 })),
      })),
    }),
  );
  const snap = snapshot({
    services: SERVICES.map((name) => ({ name, networks: ['app'] })),
    tasks: SERVICES.flatMap((name, i) => (running[i] === true ? [task(name, `10.0.${i}.1`)] : [])),
    networks: [{ name: 'app', driver: 'overlay', scope: 'swarm' }],
  });
  const m = buildModel(desired(routes), snap).clusters[0];
  if (m === undefined) throw new Error('no cluster');
  return m;
}

const dynamic = { dynamicEndpoints: DEFAULT_DYNAMIC_ENDPOINTS };
const splitLines = (endpoints: string): string[] => endpoints.split('\n').filter((l) => l.startsWith('='));

describe('splits as data (ADR 0049)', () => {
  it('renders the same nginx.conf whatever the weights and task presence; one well-formed split line per rule', () => {
    fc.assert(
      fc.property(worldArb, stateArb, stateArb, (w, a, b) => {
        const ra = renderNginxWithEndpoints(model(w, a.weights, a.running), dynamic);
        const rb = renderNginxWithEndpoints(model(w, b.weights, b.running), dynamic);
        expect(rb.config).toBe(ra.config);
        const rules = w.routes.flat();
        const lines = splitLines(ra.endpoints);
        expect(lines).toHaveLength(rules.length);
        for (const l of lines) expect(l).toMatch(SPLIT_LINE);
        // Distinct names, each named once in the config.
        const names = lines.map((l) => l.split(' ')[0] ?? '');
        expect(new Set(names).size).toBe(names.length);
        // Named by the config (a block's set_by_lua) or by a host's line (routes as data, ADR 0050).
        const hostLines = ra.endpoints.split('\n').filter((l) => l.startsWith('@')).join('\n');
        for (const n of names) expect(ra.config.split(`"${n}";`).length - 1 + hostLines.split(` ${n}`).length - 1).toBeGreaterThanOrEqual(1);
        // Each rule's line lists its declared backends with the weights given, in spec order.
        let next = 0;
        const expected = w.routes.flatMap((route) => route.map((rule) => rule.services.map((s) => `${SERVICES[s]}:${a.weights[next++ % a.weights.length] ?? 1}`).join(' ')));
        const got = lines.map((l) => l.split(' ').slice(2).map((m) => m.replace(/^u_[0-9a-f]{6}_/, '').replace(/_8080:/, ':')).join(' '));
        expect(got.sort()).toEqual([...expected].sort());
        // Every member has an upstream line (an empty one when it has no task).
        const upstreams = new Set(ra.endpoints.split('\n').filter((l) => /^u_/.test(l)).map((l) => l.split(' ')[0]));
        for (const l of lines) for (const m of l.split(' ').slice(2)) expect(upstreams.has(m.split(':')[0])).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('keeps the weights in nginx.conf without dynamic endpoints (split_clients)', () => {
    const w: World = { routes: [[{ services: [0, 1], clientIp: false }]] };
    const a = renderNginxWithEndpoints(model(w, [90, 10], [true, true, true, true]));
    const b = renderNginxWithEndpoints(model(w, [30, 70], [true, true, true, true]));
    expect(a.config).toMatch(/^\s*split_clients /m);
    expect(b.config).not.toBe(a.config);
    expect(a.endpoints).toBe('');
  });
});
