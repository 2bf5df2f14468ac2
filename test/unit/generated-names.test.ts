/**
 * Generated identifiers are injective (issue 14, class 1): two different objects never share a
 * name, even when their readable base — a 24/32-bit FNV hash, a service name folded to "_" and cut
 * at 40 characters — is the same. Each test builds such a near miss (or searches a real hash
 * collision, which takes well under a second: exactly what an attacker would do) and checks that
 * both objects keep their own name, backends and match values, in the model and in both views.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import { fnv1a32 } from '../../src/plan/hash';
import type { ProxyModel } from '../../src/plan/model';
import { identityKey, lowerCase, NameTable } from '../../src/plan/names';
import { upstreamName } from '../../src/plan/resolve-backends';
import { DEFAULT_HAPROXY_OPTIONS } from '../../src/render/haproxy/options';
import { renderHaproxy } from '../../src/render/haproxy/render';
import { buildHaproxyView, type HaproxyView } from '../../src/render/haproxy/view-model';
import { cookiePairRegex, exactRegex } from '../../src/render/nginx/escape';
import { DEFAULT_NGINX_OPTIONS } from '../../src/render/nginx/options';
import { renderNginx } from '../../src/render/nginx/render';
import { buildNginxView, type NginxView } from '../../src/render/nginx/view-model';
import { splitPercentages } from '../../src/render/split';
import { haproxyCheck, haproxyProblems } from '../helpers/haproxy-check';
import { nginxCheck } from '../helpers/nginx-check';
import { hashCollision as collision, separatorVariant } from '../helpers/collisions';
import { desired, route, snapshot, task } from '../helpers/specs';

/** The one cluster model of two services, each on its own host. */
function twoServices(a: string, b: string): ProxyModel {
  const snap = snapshot({
    services: [a, b].map((name) => ({ name, networks: ['app'] })),
    tasks: [task(a, '10.0.0.1'), task(b, '10.0.0.2')],
    networks: [{ name: 'app' }],
  });
  const routes = [route('ra', { hosts: ['a.test'], rules: [{ backends: [{ service: a, port: 80 }] }] }), route('rb', { hosts: ['b.test'], rules: [{ backends: [{ service: b, port: 80 }] }] })];
  const [model] = buildModel(desired(routes), snap).clusters;
  if (model === undefined) throw new Error('no model');
  return model;
}

/** host → the service and addresses its only rule reaches, read from the model. */
function reached(model: ProxyModel): Record<string, { service: string; ips: string[] }> {
  const out: Record<string, { service: string; ips: string[] }> = {};
  for (const vh of model.virtualHosts) {
    const action = vh.paths[0]?.fallback?.action;
    const target = action?.kind === 'proxy' ? action.targets[0] : undefined;
    const u = model.upstreams.find((x) => x.name === target?.upstream);
    if (u !== undefined) out[vh.host] = { service: u.service, ips: u.servers.map((s) => s.ip) };
  }
  return out;
}

function expectValidConfigs(model: ProxyModel): void {
  const n = nginxCheck(renderNginx(model));
  expect(n.output).not.toMatch(/emerg|duplicate/);
  expect(n.ok).toBe(true);
  expect(haproxyProblems(haproxyCheck(renderHaproxy(model)).output)).toEqual([]);
}

describe('NameTable', () => {
  it('gives distinct identities distinct names even when every base is the same', () => {
    const t = new NameTable(lowerCase);
    const names = ['a', 'b', 'c', 'd'].map((id) => t.name(id, 'same'));
    expect(names).toEqual(['same', 'same_x2', 'same_x3', 'same_x4']);
    expect(t.name('c', 'same')).toBe('same_x3');
  });

  it('never hands out a name that differs from a taken one only in case (NGINX ignores case)', () => {
    const t = new NameTable(lowerCase);
    expect(t.name('1', 'u_Web')).toBe('u_Web');
    expect(t.name('2', 'u_web')).toBe('u_web_x2');
  });

  it('never hands out a base that an earlier suffix already took', () => {
    const t = new NameTable();
    expect(t.name('1', 'n')).toBe('n');
    expect(t.name('2', 'n')).toBe('n_x2');
    expect(t.name('3', 'n_x2')).toBe('n_x2_x2');
  });

  it('encodes identities unambiguously (no separator can be forged)', () => {
    expect(identityKey('a|b', 'c')).not.toBe(identityKey('a', 'b|c'));
    expect(identityKey('a\u0000b', 'c')).not.toBe(identityKey('a', 'b\u0000c'));
    expect(identityKey(['a,b'])).not.toBe(identityKey(['a', 'b']));
    expect(identityKey(undefined)).not.toBe(identityKey('null'));
  });
});

describe('upstream names', () => {
  it('keep services apart whose names differ only in "." "-" "_"', () => {
    for (const [a, b] of [
      ['web.api', 'web-api'],
      ['web-api', 'web_api'],
      ['web.api', 'web_api'],
    ] as const) {
      const model = twoServices(a, b);
      expect(new Set(model.upstreams.map((u) => u.name)).size).toBe(2);
      expect(reached(model)).toEqual({ 'a.test': { service: a, ips: ['10.0.0.1'] }, 'b.test': { service: b, ips: ['10.0.0.2'] } });
    }
  });

  it('keep services apart whose folded names and 24-bit hash are both equal (the old names were one)', () => {
    const [a, b] = collision(separatorVariant, (s) => upstreamName(s, 80, `${s}|80|task|app|none`));
    // The near miss this test is about: the readable bases really are equal.
    expect(upstreamName(a, 80, `${a}|80|task|app|none`)).toBe(upstreamName(b, 80, `${b}|80|task|app|none`));
    const model = twoServices(a, b);
    expect(model.upstreams.map((u) => u.name).sort()).toHaveLength(2);
    expect(new Set(model.upstreams.map((u) => u.name)).size).toBe(2);
    expect(reached(model)).toEqual({ 'a.test': { service: a, ips: ['10.0.0.1'] }, 'b.test': { service: b, ips: ['10.0.0.2'] } });
    // The older route keeps the readable base; the younger gets the first free suffix.
    expect(model.upstreams.map((u) => u.name).sort()).toEqual([upstreamName(a, 80, `${a}|80|task|app|none`), `${upstreamName(a, 80, `${a}|80|task|app|none`)}_x2`].sort());
    const nginx = buildNginxView(model, DEFAULT_NGINX_OPTIONS);
    expect(Object.fromEntries(nginx.upstreams.map((u) => [u.name, u.servers.map((s) => s.address)]))).toEqual(
      Object.fromEntries(model.upstreams.map((u) => [u.name, u.servers.map((s) => `${s.ip}:${s.port}`)])),
    );
    expectValidConfigs(model);
  });

  it('keep services apart that share their first 40+ characters and the 24-bit hash', () => {
    const long = 'x'.repeat(44);
    const [a, b] = collision((i) => `${long}${i.toString(36)}`, (s) => upstreamName(s, 80, `${s}|80|task|app|none`));
    expect(a.slice(0, 40)).toBe(b.slice(0, 40));
    const model = twoServices(a, b);
    expect(new Set(model.upstreams.map((u) => u.name)).size).toBe(2);
    expect(reached(model)).toEqual({ 'a.test': { service: a, ips: ['10.0.0.1'] }, 'b.test': { service: b, ips: ['10.0.0.2'] } });
    expectValidConfigs(model);
  });

  it('keep services apart whose names differ only in case (NGINX compares upstream names without case)', () => {
    const model = twoServices('Web', 'web');
    const names = model.upstreams.map((u) => u.name.toLowerCase());
    expect(new Set(names).size).toBe(2);
    expect(reached(model)).toEqual({ 'a.test': { service: 'Web', ips: ['10.0.0.1'] }, 'b.test': { service: 'web', ips: ['10.0.0.2'] } });
    expectValidConfigs(model);
  });
});

const SNAP = snapshot({
  services: ['alpha', 'beta'].map((name) => ({ name, networks: ['app'] })),
  tasks: [task('alpha', '10.0.0.1'), task('beta', '10.0.0.2')],
  networks: [{ name: 'app' }],
});

/** Two conditional rules on one host and path: rule A sends `a` to alpha, rule B sends `b` to beta. */
function conditional(kind: 'headers' | 'cookies', a: string, b: string): ProxyModel {
  const name = kind === 'headers' ? 'X-Match' : 'sess';
  const r = route('m', {
    hosts: ['m.test'],
    rules: [
      { match: { [kind]: [{ name, value: a }] }, backends: [{ service: 'alpha', port: 80 }] },
      { match: { [kind]: [{ name, value: b }] }, backends: [{ service: 'beta', port: 80 }] },
      { backends: [{ service: 'alpha', port: 80 }] },
    ],
  });
  const [model] = buildModel(desired([r]), SNAP).clusters;
  if (model === undefined) throw new Error('no model');
  return model;
}

/** For each conditional rule of the only location: the value its NGINX condition tests and the upstream it proxies to. */
function nginxDispatch(view: NginxView): { pattern: string | undefined; target: string | undefined }[] {
  const server = view.servers.find((s) => s.serverName === 'm.test');
  const location = server?.locations[0];
  return (location?.dispatch ?? []).map((d) => ({
    pattern: view.headerMaps.find((m) => m.variable === d.condition)?.pattern,
    target: server?.named.find((n) => n.name === d.target)?.body.target,
  }));
}

/** For each conditional rule: the values its HAProxy ACLs test and the servers its backend holds. */
function haproxyDispatch(view: HaproxyView): { values: string[]; servers: string[] }[] {
  return view.http.ruleSelect.map((sel) => {
    const values = sel.conditions.flatMap((c) => [...view.http.headerAcls, ...view.http.cookieMatchAcls].filter((a) => a.name === c).map((a) => a.value));
    const backend = view.http.useBackends.find((u) => u.conditions.some((c) => c === `rule_${sel.rule}`));
    const servers = view.backends.find((b) => b.name === backend?.backend)?.servers.map((s) => s.address) ?? [];
    return { values, servers };
  });
}

describe('match variables and ACLs', () => {
  for (const kind of ['headers', 'cookies'] as const) {
    it(`keep two ${kind} values apart whose 32-bit hashes collide (NGINX maps, HAProxy ACLs)`, () => {
      const name = kind === 'headers' ? 'x-match' : 'sess';
      const [a, b] = collision((i) => `v${i.toString(36)}`, (v) => fnv1a32(`${name}\u0000${v}`));
      const model = conditional(kind, a, b);
      const upstreamOf = (service: string) => model.upstreams.find((u) => u.service === service)?.name;
      const nginx = buildNginxView(model, DEFAULT_NGINX_OPTIONS);
      const dispatch = nginxDispatch(nginx);
      expect(dispatch).toHaveLength(2);
      expect(new Set(dispatch.map((d) => d.pattern)).size).toBe(2);
      // Each rule tests its own value and reaches its own backend.
      const pattern = (v: string) => (kind === 'headers' ? `~${exactRegex(v)}` : `~${cookiePairRegex(name, v)}`);
      expect(dispatch).toContainEqual({ pattern: pattern(a), target: upstreamOf('alpha') });
      expect(dispatch).toContainEqual({ pattern: pattern(b), target: upstreamOf('beta') });
      const haproxy = haproxyDispatch(buildHaproxyView(model, DEFAULT_HAPROXY_OPTIONS));
      expect(haproxy).toContainEqual({ values: [a], servers: ['10.0.0.1:80'] });
      expect(haproxy).toContainEqual({ values: [b], servers: ['10.0.0.2:80'] });
      expectValidConfigs(model);
    });
  }

  it('keep two paths apart whose 32-bit hashes collide (HAProxy path ACLs)', () => {
    const [p, q] = collision((i) => `/p${i.toString(36)}`, (path) => fnv1a32(path));
    const r = route('paths', {
      hosts: ['p.test'],
      rules: [
        { match: { pathPrefix: p }, backends: [{ service: 'alpha', port: 80 }] },
        { match: { pathPrefix: q }, backends: [{ service: 'beta', port: 80 }] },
      ],
    });
    const [model] = buildModel(desired([r]), SNAP).clusters;
    if (model === undefined) throw new Error('no model');
    const view = buildHaproxyView(model, DEFAULT_HAPROXY_OPTIONS);
    expect(view.http.pathAcls.map((a) => a.path).sort()).toEqual([p, q].sort());
    expect(new Set(view.http.pathAcls.map((a) => a.name)).size).toBe(2);
    for (const sel of view.http.ruleSelect) {
      const paths = sel.conditions.flatMap((c) => view.http.pathAcls.filter((a) => a.name === c).map((a) => a.path));
      const backend = view.http.useBackends.find((u) => u.conditions.some((c) => c === `rule_${sel.rule}`));
      const servers = view.backends.find((b) => b.name === backend?.backend)?.servers.map((s) => s.address);
      expect(servers).toEqual(paths[0] === p ? ['10.0.0.1:80'] : ['10.0.0.2:80']);
      expect(paths).toHaveLength(1);
    }
    expectValidConfigs(model);
  });
});

describe('split_clients and header-edit maps', () => {
  it('give each weighted rule its own split when the 32-bit hashes of two weight sets collide', () => {
    const model0 = twoWeighted(1, 1, 1, 1);
    const [ua, ub] = ['alpha', 'beta'].map((s) => model0.upstreams.find((u) => u.service === s)?.name ?? '');
    const weights = (i: number): [number, number] => [1 + (i % 1000), 1 + Math.floor(i / 1000)];
    const [x, y] = collision(
      (i) => weights(i).join(','),
      (w) => {
        const [wa, wb] = w.split(',');
        return fnv1a32(`$request_id|${ua}=${wa},${ub}=${wb}`);
      },
      1_000_000,
    ).map((w) => w.split(',').map(Number) as [number, number]);
    if (x === undefined || y === undefined) throw new Error('no weights');
    const model = twoWeighted(...x, ...y);
    const view = buildNginxView(model, DEFAULT_NGINX_OPTIONS);
    expect(view.splits).toHaveLength(2);
    for (const [host, w] of [
      ['a.test', x],
      ['b.test', y],
    ] as const) {
      const target = view.servers.find((s) => s.serverName === host)?.locations[0]?.body?.target;
      const split = view.splits.find((s) => s.variable === target);
      expect(split?.shares.map((s) => s.share)).toEqual(splitPercentages(w));
    }
    expectValidConfigs(model);
  });

  it('give each added request header its own map when the 32-bit hashes of two values collide', () => {
    const [a, b] = collision((i) => `v${i.toString(36)}`, (v) => fnv1a32(`x-add\u0000${v}`));
    const rule = (value: string) => ({ backends: [{ service: 'alpha', port: 80 }], requestHeaders: { add: [{ name: 'X-Add', value }] } });
    const routes = [route('ra', { hosts: ['a.test'], rules: [rule(a)] }), route('rb', { hosts: ['b.test'], rules: [rule(b)] })];
    const [model] = buildModel(desired(routes), SNAP).clusters;
    if (model === undefined) throw new Error('no model');
    const view = buildNginxView(model, DEFAULT_NGINX_OPTIONS);
    for (const [host, value] of [
      ['a.test', a],
      ['b.test', b],
    ] as const) {
      const ref = view.servers.find((s) => s.serverName === host)?.locations[0]?.body?.fixedHeaders.find((h) => h.name === 'X-Add')?.ref;
      expect(view.addHeaderMaps.find((m) => m.variable === ref)?.value).toBe(value);
    }
    expectValidConfigs(model);
  });
});

function twoWeighted(a1: number, b1: number, a2: number, b2: number): ProxyModel {
  const rule = (wa: number, wb: number) => ({ backends: [{ service: 'alpha', port: 80, weight: wa }, { service: 'beta', port: 80, weight: wb }] });
  const routes = [route('ra', { hosts: ['a.test'], rules: [rule(a1, b1)] }), route('rb', { hosts: ['b.test'], rules: [rule(a2, b2)] })];
  const [model] = buildModel(desired(routes), SNAP).clusters;
  if (model === undefined) throw new Error('no model');
  return model;
}

describe('sticky cookie tags', () => {
  const sticky = { cookie: { name: 'sg', ttl: '10m' } };

  it('NGINX: give two versions of a pinned split their own tag when the 32-bit hashes of their upstream names collide', () => {
    const upstreamOf = (s: string) => upstreamName(s, 80, `${s}|80|task|app|cookie:sg`);
    const [a, b] = collision((i) => `v${i.toString(36)}`, (s) => fnv1a32(upstreamOf(s)));
    const snap = snapshot({ services: [a, b].map((name) => ({ name, networks: ['app'] })), tasks: [task(a, '10.0.0.1'), task(b, '10.0.0.2')], networks: [{ name: 'app' }] });
    const r = route('pin', { hosts: ['pin.test'], rules: [{ backends: [{ service: a, port: 80 }, { service: b, port: 80 }], sessionAffinity: sticky }] });
    const [model] = buildModel(desired([r]), snap).clusters;
    if (model === undefined) throw new Error('no model');
    expect(model.upstreams.map((u) => u.name).sort()).toEqual([upstreamOf(a), upstreamOf(b)].sort());
    const view = buildNginxView(model, DEFAULT_NGINX_OPTIONS);
    const entries = view.stickySplits[0]?.entries ?? [];
    expect(entries.map((e) => e.upstream).sort()).toEqual([upstreamOf(a), upstreamOf(b)].sort());
    expect(new Set(entries.map((e) => e.tag)).size).toBe(2);
    expectValidConfigs(model);
  });

  it('HAProxy: give each backend its own cookie tag when the 32-bit hashes of two backend names collide', () => {
    const rule = { backends: [{ service: 'alpha', port: 80 }, { service: 'beta', port: 80 }], sessionAffinity: sticky };
    const [probe] = buildModel(desired([route('probe', { hosts: ['probe.test'], rules: [rule] })]), SNAP).clusters;
    const alpha = probe?.upstreams.find((u) => u.service === 'alpha')?.name ?? '';
    const [x, y] = collision((i) => `r${i.toString(36)}`, (name) => fnv1a32(`be.${name}-r0.${alpha}`));
    const [model] = buildModel(desired([route(x, { hosts: ['x.test'], rules: [rule] }), route(y, { hosts: ['y.test'], rules: [rule] })]), SNAP).clusters;
    if (model === undefined) throw new Error('no model');
    const view = buildHaproxyView(model, DEFAULT_HAPROXY_OPTIONS);
    expect(new Set(view.http.cookieAcls.map((a) => a.prefix)).size).toBe(view.http.cookieAcls.length);
    expect(view.http.cookieAcls).toHaveLength(4);
    // The cookie a backend's servers issue is the one its use_backend line tests for, and no other backend's line.
    for (const backend of view.backends) {
      const acl = view.http.useBackends.find((u) => u.backend === backend.name && u.conditions.some((c) => c.startsWith('ck_')))?.conditions.find((c) => c.startsWith('ck_'));
      const prefix = view.http.cookieAcls.find((a) => a.name === acl)?.prefix ?? '<none>';
      for (const server of backend.servers) expect(server.serverCookie?.startsWith(prefix)).toBe(true);
      const others = view.backends.filter((o) => o.name !== backend.name).flatMap((o) => o.servers.map((s) => s.serverCookie ?? ''));
      expect(others.filter((c) => c.startsWith(prefix))).toEqual([]);
    }
    expectValidConfigs(model);
  });
});
