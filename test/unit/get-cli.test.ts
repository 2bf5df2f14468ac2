/** `get` as scripts use it: `-o name`, label selectors, and the ROLLOUT column of routes with spec.canary. */
import { beforeEach, describe, expect, it } from 'vitest';
import { runDescribe, runGet } from '../../src/cli/commands/get';
import { matchesSelector, parseSelector } from '../../src/cli/label-selector';
import { LABELS } from '../../src/domain/labels';
import { applyObject } from '../../src/desired/spec-store';
import { encodeRolloutState } from '../../src/plan/rollout';
import { FakeDocker } from '../fakes/fake-docker';
import { at, canary, last, run } from '../helpers/rollout';
import { cluster, middleware, route } from '../helpers/specs';

const web = [{ backends: [{ service: 'web', port: 80 }] }];

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

describe('label selectors', () => {
  const labels = { team: 'shop', tier: 'front' };
  const sel = (text: string) => {
    const r = parseSelector(text);
    if ('error' in r) throw new Error(r.error);
    return r;
  };

  it.each([
    ['team=shop', true],
    ['team==shop', true],
    ['team=blog', false],
    ['team!=blog', true],
    ['team!=shop', false],
    ['tier', true],
    ['!tier', false],
    ['!owner', true],
    ['owner!=x', true],
    ['team=shop,tier=front', true],
    ['team=shop, tier=back', false],
    ['team=', false],
  ])('%s on {team: shop, tier: front}: %s', (text, expected) => {
    expect(matchesSelector(sel(text), labels)).toBe(expected);
  });

  it('refuses what it cannot read, saying what it takes', () => {
    expect(parseSelector('')).toEqual({ error: '--selector: empty; expected key=value, key!=value, key or !key, comma-separated' });
    expect(parseSelector('env in (a,b)')).toMatchObject({ error: expect.stringMatching(/set-based selectors \(in, notin\) are not supported/) });
    expect(parseSelector('a b=c')).toMatchObject({ error: expect.stringMatching(/"a b" is not a label key/) });
  });
});

describe('get', () => {
  let docker: FakeDocker;
  beforeEach(async () => {
    docker = FakeDocker.singleNode();
    await applyObject(docker, route('shop', { hosts: ['shop.test'], rules: web }));
    const blog = route('blog', { hosts: ['blog.test'], rules: web });
    await applyObject(docker, { ...blog, metadata: { ...blog.metadata, labels: { team: 'content' } } } as typeof blog);
  });

  it('prints KIND/NAME lines with -o name, filtered by -l', async () => {
    const all = capture();
    expect(await runGet(docker, 'routes', undefined, 'name', all.io)).toBe(0);
    expect(all.out).toEqual(['route/blog\nroute/shop']);
    const some = capture();
    expect(await runGet(docker, 'routes', undefined, 'name', some.io, new Date(), 'team=content')).toBe(0);
    expect(some.out).toEqual(['route/blog']);
    const none = capture();
    expect(await runGet(docker, 'routes', undefined, 'name', none.io, new Date(), 'team=nobody')).toBe(0);
    expect(none.out).toEqual([]);
    const bad = capture();
    expect(await runGet(docker, 'routes', undefined, undefined, bad.io, new Date(), 'team in (a)')).toBe(2);
    expect(bad.err[0]).toMatch(/^--selector /);
  });

  it('shows a ROLLOUT column with the phase and weight once a route has spec.canary', async () => {
    const plain = capture();
    await runGet(docker, 'routes', undefined, undefined, plain.io);
    expect(plain.out[0]?.split('\n')[0]).not.toMatch(/ROLLOUT/);
    await applyObject(docker, route('cart', { hosts: ['cart.test'], rules: [{ backends: [{ service: 'shop-v1', port: 8080 }] }], canary: { stable: { service: 'shop-v1', port: 8080 }, canary: { service: 'shop-v2', port: 8080 }, steps: [{ setWeight: 10 }, { pause: {} }] } }));
    const before = capture();
    await runGet(docker, 'routes', undefined, undefined, before.io);
    const rowsBefore = (before.out[0] ?? '').split('\n').map((l) => l.split(/\s{2,}/));
    const col = rowsBefore[0]?.indexOf('ROLLOUT') ?? -1;
    expect(col).toBeGreaterThan(0);
    expect(rowsBefore.find((r) => r[0] === 'cart')?.[col]).toBe('Pending');
    expect(rowsBefore.find((r) => r[0] === 'shop')?.[col]).toBe('-');
    // The core stores the rollout's state on the route's config.
    const state = last(run(canary({ steps: [{ setWeight: 10 }, { pause: {} }] }), [{ now: at(0) }])).state;
    const [config] = await docker.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=cart`]);
    if (config === undefined) throw new Error('no config');
    await docker.updateConfigLabels(config.ID, config.Version.Index, { ...config.Spec, Labels: { ...config.Spec.Labels, [LABELS.rollout]: encodeRolloutState(state) } });
    const after = capture();
    await runGet(docker, 'routes', undefined, undefined, after.io);
    const cart = (after.out[0] ?? '').split('\n').map((l) => l.split(/\s{2,}/)).find((r) => r[0] === 'cart');
    expect(cart?.[col]).toBe(`${state.phase} ${state.weight}%`);
    expect(state.weight).toBe(10);
  });

  it('lists routes from com.docker.lb.* service labels, with conditions computed now (the model is loaded only then)', async () => {
    docker.addNetwork('app');
    await docker.createService({
      Name: 'legacy',
      Labels: { 'com.docker.lb.hosts': 'legacy.test', 'com.docker.lb.port': '8080', 'com.docker.lb.network': 'app' },
      TaskTemplate: { ContainerSpec: { Image: 'legacy' }, Networks: [{ Target: 'app' }] },
    });
    const c = capture();
    expect(await runGet(docker, 'routes', undefined, undefined, c.io)).toBe(0);
    const rows = (c.out[0] ?? '').split('\n').map((l) => l.split(/\s{2,}/));
    const legacy = rows.find((r) => (r[0] ?? '').includes('legacy'));
    expect(legacy?.[1]).toBe('legacy.test');
    expect(legacy?.[4]).toBe('True'); // ACCEPTED
    expect(rows.map((r) => r[0])).toEqual(expect.arrayContaining(['blog', 'shop']));
  });

  it('prints kubectl-style -o jsonpath templates over the -o json document', async () => {
    const names = capture();
    expect(await runGet(docker, 'routes', undefined, 'jsonpath={.items[*].metadata.name}', names.io)).toBe(0);
    expect(names.out).toEqual(['blog shop']);
    const one = capture();
    expect(await runGet(docker, 'routes', 'blog', 'jsonpath=host={.spec.hosts[0]} team={.metadata.labels.team}\\n', one.io)).toBe(0);
    expect(one.out).toEqual(['host=blog.test team=content\n']);
    const filtered = capture();
    expect(await runGet(docker, 'routes', undefined, 'jsonpath={.items[?(@.metadata.name=="shop")].spec.hosts[*]}', filtered.io)).toBe(0);
    expect(filtered.out).toEqual(['shop.test']);
  });

  it('refuses an output format or template it cannot read, saying what it takes', async () => {
    const bad = capture();
    expect(await runGet(docker, 'routes', undefined, 'table', bad.io)).toBe(2);
    expect(bad.err).toEqual(['-o: expected one of wide, yaml, json, name, jsonpath=TEMPLATE, got "table"']);
    const unclosed = capture();
    expect(await runGet(docker, 'routes', undefined, 'jsonpath={.items', unclosed.io)).toBe(2);
    expect(unclosed.err[0]).toMatch(/unclosed "\{" at column 1/);
    const range = capture();
    expect(await runGet(docker, 'routes', undefined, 'jsonpath={range .items[*]}{.metadata.name}{end}', range.io)).toBe(2);
    expect(range.err[0]).toMatch(/not supported; use -o json with jq/);
  });

  it('watches with -w: one line per changed row, a deletion line, until Ctrl-C', async () => {
    const w = capture();
    const ctrlC = new AbortController();
    const done = runGet(docker, 'routes', undefined, undefined, w.io, new Date(), undefined, { signal: ctrlC.signal, intervalMs: 20 });
    const until = async (pred: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => w.out.length >= 1);
    expect(w.out[0]?.split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['NAME', 'blog', 'shop']);
    // Another apply: a new generation of shop, and a new route.
    await applyObject(docker, route('shop', { hosts: ['shop.test', 'www.shop.test'], rules: web }));
    await applyObject(docker, route('cart', { hosts: ['cart.test'], rules: web }));
    await until(() => w.out.length >= 3);
    const changed = w.out.slice(1).map((l) => l.split(/\s+/).slice(0, 4).join(' ')).sort();
    expect(changed).toEqual(['cart cart.test default 1', 'shop shop.test,www.shop.test default 2']);
    const { deleteObject } = await import('../../src/desired/spec-store');
    await deleteObject(docker, 'Route', 'blog');
    await until(() => w.out.length >= 4);
    expect(w.out[3]).toBe('route/blog deleted');
    // Nothing changes: nothing more is printed.
    await new Promise((r) => setTimeout(r, 100));
    expect(w.out).toHaveLength(4);
    ctrlC.abort();
    expect(await done).toBe(0);
  });

  it('refuses -w with a document output', async () => {
    const bad = capture();
    expect(await runGet(docker, 'routes', undefined, 'json', bad.io, new Date(), undefined, { signal: new AbortController().signal })).toBe(2);
    expect(bad.err[0]).toMatch(/-o json is not supported with it/);
  });
});

describe('get middlewares / describe middleware', () => {
  it('lists each middleware with its behaviours and the routes that use it (directly, by a rule, by cluster defaults)', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, middleware('office', { ipAllow: ['10.0.0.0/8'] }));
    await applyObject(docker, middleware('no-bots', { ipDeny: ['203.0.113.0/24'] }));
    await applyObject(docker, middleware('unused', { ipAllow: ['10.0.0.1'], ipDeny: ['10.0.0.2'] }));
    await applyObject(docker, cluster('edge', { defaults: { middlewares: ['no-bots'] } }));
    await applyObject(docker, route('shop', { hosts: ['shop.test'], middlewares: ['office'], rules: web }));
    await applyObject(docker, route('blog', { hosts: ['blog.test'], rules: [{ ...web[0], middlewares: ['office'] }] }));
    await applyObject(docker, route('edge-app', { serviceCluster: 'edge', hosts: ['edge.test'], rules: web }));
    const c = capture();
    expect(await runGet(docker, 'middlewares', undefined, undefined, c.io)).toBe(0);
    const rows = (c.out[0] ?? '').split('\n').map((l) => l.split(/\s{2,}/));
    expect(rows[0]).toEqual(['NAME', 'BEHAVIOURS', 'USED BY', 'GENERATION', 'ACCEPTED', 'AGE']);
    expect(rows.find((r) => r[0] === 'office')?.slice(1, 3)).toEqual(['ipAllow', 'blog,shop']);
    expect(rows.find((r) => r[0] === 'no-bots')?.slice(1, 3)).toEqual(['ipDeny', 'edge-app']);
    expect(rows.find((r) => r[0] === 'unused')?.slice(1, 3)).toEqual(['ipAllow,ipDeny', '-']);
    const d = capture();
    expect(await runDescribe(docker, 'mw', 'office', d.io)).toBe(0);
    expect(d.out[0]).toContain('Kind:         Middleware');
    expect(d.out[0]).toContain('  ipAllow:     10.0.0.0/8');
    expect(d.out[0]).toContain('Used by:      route/blog, route/shop');
  });
});
