/**
 * Status looks routes up in the model through an index built once per model object (ADR 0046): a
 * run's status reads the model's hosts once, not once per route (which made a run quadratic in the
 * routes), and answers as the scan did: each route's upstreams in model order, split targets included.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { backendsHealthy } from '../../src/status/backend-health';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';

const services = ['a1', 'a2', 'b1', 'c1'];
const snap = snapshot({ services: services.map((name) => ({ name, networks: ['app'] })), tasks: services.map((name, i) => task(name, `10.0.0.${i + 2}`)), networks: [{ name: 'app' }] });

function model(): ProxyModel {
  const routes = [
    route('a', { hosts: ['a.test'], rules: [{ backends: [{ service: 'a2', port: 80, weight: 1 }, { service: 'a1', port: 80, weight: 3 }] }] }),
    route('b', { hosts: ['b.test'], rules: [{ match: { pathPrefix: '/x' }, backends: [{ service: 'b1', port: 81 }] }, { backends: [{ service: 'a1', port: 80 }] }] }),
    route('c', { hosts: ['a.test'], rules: [{ match: { pathPrefix: '/c' }, backends: [{ service: 'c1', port: 82 }] }] }),
  ];
  const m = buildModel(desired(routes, [cluster('default', { proxy: { delivery: 'hitless' } })]), snap).clusters.find((c) => c.cluster === 'default');
  if (m === undefined) throw new Error('no model');
  return m;
}

/** The model, counting how often its hosts are read. */
function counting(m: ProxyModel): { model: ProxyModel; reads: () => number } {
  let reads = 0;
  const model = new Proxy(m, {
    get: (target, key, receiver) => {
      if (key === 'virtualHosts') reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { model, reads: () => reads };
}

const traffic = () => ({ requests: 10, responses5xx: 0 });
const backendsOf = (m: ProxyModel, r: string) => backendsHealthy(m, r, traffic).backends.map((b) => b.backend);

describe('status lookups by route', () => {
  it('read a model\'s hosts once for every route of a run, and again only for a new model object', () => {
    const { model: m, reads } = counting(model());
    for (let i = 0; i < 3; i++) for (const r of ['a', 'b', 'c', 'missing']) backendsHealthy(m, r, traffic);
    expect(reads()).toBe(1);
    const other = counting(model());
    backendsHealthy(other.model, 'a', traffic);
    expect(other.reads()).toBe(1);
  });

  it('give each route its upstreams in model order, every split target, none of other routes', () => {
    const m = model();
    const order = m.upstreams.map((u) => `${u.service}:${u.port}`);
    const inOrder = (xs: string[]) => [...xs].sort((x, y) => order.indexOf(x) - order.indexOf(y));
    expect(backendsOf(m, 'a')).toEqual(inOrder(['a1:80', 'a2:80']));
    expect(backendsOf(m, 'b')).toEqual(inOrder(['b1:81', 'a1:80']));
    expect(backendsOf(m, 'c')).toEqual(['c1:82']);
    expect(backendsHealthy(m, 'missing', traffic).condition.reason).toBe('NoTrafficData');
  });
});
