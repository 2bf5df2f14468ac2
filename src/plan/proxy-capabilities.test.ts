import { describe, expect, it } from 'vitest';
import { cluster, desired, route, snapshot, task } from '../../test/helpers/specs';
import { buildModel } from './build-model';
import { unsupportedValues } from './proxy-capabilities';

const SNAP = snapshot({
  services: [{ name: 'a', networks: ['app'] }],
  tasks: [task('a', '10.0.0.2')],
  networks: [{ name: 'app' }],
});

const backends = [{ service: 'a', port: 80 }];

describe('unsupportedValues', () => {
  it('refuses on NGINX, not on HAProxy, a gRPC rule header name longer than grpc_set_header\'s hash allows', () => {
    const long = `X-${'L'.repeat(45)}`;
    const grpc = [{ service: 'a', port: 80, protocol: 'grpc' }];
    const r = route('g', { hosts: ['g.test'], rules: [{ backends: grpc, requestHeaders: { set: [{ name: long, value: 'v' }] } }, { match: { pathPrefix: '/ok' }, backends: grpc, requestHeaders: { set: [{ name: `X-${'L'.repeat(44)}`, value: 'v' }] } }] });
    expect(unsupportedValues('nginx', r).map((u) => u.field)).toEqual(['spec.rules[0].requestHeaders']);
    expect(unsupportedValues('haproxy', r)).toEqual([]);
    // The same name on an HTTP rule is fine (proxy_headers_hash_bucket_size grows for it).
    expect(unsupportedValues('nginx', route('h', { hosts: ['h.test'], rules: [{ backends, requestHeaders: { set: [{ name: long, value: 'v' }] } }] }))).toEqual([]);
  });

  const odd = route('odd', {
    hosts: ['odd.test'],
    rules: [
      { match: { pathPrefix: '/x' }, backends },
      { retries: { attempts: 2, on: ['http_429'] }, timeouts: { read: '60s', send: '5s' }, backends },
    ],
  });

  it('reports a 429 retry and an explicit send timeout different from the read timeout for HAProxy', () => {
    expect(unsupportedValues('haproxy', odd)).toEqual([
      { route: 'odd', path: ['spec', 'rules', 1, 'retries', 'on'], field: 'spec.rules[1].retries.on', message: expect.stringMatching(/http_429 cannot be retried/) as unknown as string },
      { route: 'odd', path: ['spec', 'rules', 1, 'timeouts', 'send'], field: 'spec.rules[1].timeouts.send', message: expect.stringMatching(/send timeout 5s differs from read timeout 60s/) as unknown as string },
    ]);
  });

  it('reports nothing for NGINX', () => {
    expect(unsupportedValues('nginx', odd)).toEqual([]);
  });

  it('accepts one timeout inherited from the cluster defaults, equal durations in other units, and redirects', () => {
    const r = route('fine', {
      hosts: ['fine.test'],
      rules: [
        { timeouts: { read: '5m' }, backends },
        { match: { pathPrefix: '/s' }, timeouts: { send: '1s' }, backends },
        { match: { pathPrefix: '/e' }, timeouts: { read: '1m', send: '60s' }, backends },
        { match: { pathPrefix: '/r' }, redirect: { to: 'https://example.com/' } },
      ],
    });
    expect(unsupportedValues('haproxy', r)).toEqual([]);
  });
});

describe('buildModel for an HAProxy service cluster', () => {
  const edge = cluster('edge', { proxy: { kind: 'haproxy' }, defaults: { timeouts: { read: '30s', send: '15s' } } });
  const plain = route('plain', { serviceCluster: 'edge', hosts: ['plain.test'], rules: [{ backends }] });
  const retry429 = route('retry429', { serviceCluster: 'edge', hosts: ['r.test'], rules: [{ retries: { attempts: 3, on: ['error', 'http_429'] }, backends }] });
  const split = route('split', { serviceCluster: 'edge', hosts: ['s.test'], rules: [{ match: { pathPrefix: '/up' }, timeouts: { read: '1h', send: '1s' }, backends }] });

  it('rejects a route with a value HAProxy cannot express, names the field, and leaves it out whole', () => {
    const r = buildModel(desired([plain, retry429, split], [edge]), SNAP);
    expect(r.conditions['Route/retry429']).toEqual([
      {
        type: 'Accepted',
        status: 'False',
        reason: 'UnsupportedValue',
        message: expect.stringMatching(/^not supported by the haproxy proxy of service cluster "edge": spec\.rules\[0\]\.retries\.on: http_429 cannot be retried/) as unknown as string,
        observedGeneration: 1,
      },
    ]);
    expect(r.conditions['Route/split']?.[0]).toMatchObject({ status: 'False', reason: 'UnsupportedValue', message: expect.stringContaining('spec.rules[0].timeouts.send: send timeout 1s differs from read timeout 1h') as unknown as string });
    const m = r.clusters.find((c) => c.cluster === 'edge');
    expect(m?.routes.map((x) => x.name)).toEqual(['plain']);
    expect(m?.virtualHosts.map((v) => v.host)).toEqual(['plain.test']);
    expect(m?.upstreams).toHaveLength(1);
  });

  it('keeps every route of a cluster whose default send and read timeouts differ', () => {
    const r = buildModel(desired([plain], [edge]), SNAP);
    expect(r.conditions['Route/plain']?.[0]).toMatchObject({ type: 'Accepted', status: 'True' });
    const action = r.clusters.find((c) => c.cluster === 'edge')?.virtualHosts[0]?.paths[0]?.fallback?.action;
    expect(action?.kind === 'proxy' ? action.timeouts : undefined).toEqual({ connect: '5s', read: '30s', send: '15s' });
  });

  it('leaves NGINX clusters alone: the same routes are accepted there', () => {
    const onNginx = [retry429, split].map((x) => route(x.metadata.name, { ...x.spec, serviceCluster: 'default' }));
    const r = buildModel(desired(onNginx), SNAP);
    expect(Object.values(r.conditions).map((c) => c[0]?.status)).toEqual(['True', 'True']);
  });

  it('has no per-host limit on header/method-matched rules (NGINX: 34)', () => {
    const rules = Array.from({ length: 40 }, (_, i) => ({ match: { headers: [{ name: 'x-v', value: `v${i}` }] }, backends }));
    const onHaproxy = buildModel(desired([route('many', { serviceCluster: 'edge', hosts: ['m.test'], rules })], [edge]), SNAP);
    expect(onHaproxy.conditions['Route/many']?.[0]).toMatchObject({ status: 'True' });
    const onNginx = buildModel(desired([route('many', { hosts: ['m.test'], rules })]), SNAP);
    expect(onNginx.conditions['Route/many']?.[0]).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
  });
});

describe('proxy.endpoints: Dynamic where it cannot apply', () => {
  const web = (c: string) => route('web', { serviceCluster: c, hosts: ['w.test'], rules: [{ backends }] });
  const accepted = (r: ReturnType<typeof buildModel>, name: string) => r.conditions[`ServiceCluster/${name}`]?.find((c) => c.type === 'Accepted');

  it('refuses it on rolling clusters (NGINX or HAProxy) with UnsupportedValue, and says they serve Static', () => {
    const rolling = cluster('roll', { proxy: { delivery: 'rolling', endpoints: 'Dynamic' } });
    const hapRolling = cluster('hroll', { proxy: { kind: 'haproxy', delivery: 'rolling', endpoints: 'Dynamic' } });
    const r = buildModel(desired([web('roll')], [rolling, hapRolling]), SNAP);
    for (const name of ['roll', 'hroll'])
      expect(accepted(r, name)).toMatchObject({ status: 'False', reason: 'UnsupportedValue', message: expect.stringMatching(/proxy\.delivery rolling .*no proxy agent.*serve with Static endpoints/) as unknown as string });
    // The routes are still served (Static upstreams), not dropped.
    expect(r.clusters.find((c) => c.cluster === 'roll')?.routes.map((x) => x.name)).toEqual(['web']);
  });

  it('accepts it on NGINX and HAProxy with hitless delivery (ADR 0016, 0031), and Static everywhere', () => {
    const r = buildModel(
      desired([], [cluster('dyn', { proxy: { delivery: 'hitless', endpoints: 'Dynamic' } }), cluster('hap', { proxy: { kind: 'haproxy', delivery: 'hitless', endpoints: 'Dynamic' } }), cluster('hs', { proxy: { kind: 'haproxy' } })]),
      SNAP,
    );
    for (const name of ['dyn', 'hap', 'hs']) expect(accepted(r, name)).toMatchObject({ status: 'True' });
  });
});

describe('proxy.endpoints absent (ADR 0039)', () => {
  const accepted = (r: ReturnType<typeof buildModel>, name: string) => r.conditions[`ServiceCluster/${name}`]?.find((c) => c.type === 'Accepted');
  const endpointsOf = (r: ReturnType<typeof buildModel>) => Object.fromEntries(r.clusters.map((c) => [c.cluster, c.spec.proxy.endpoints]));
  const specs = desired([], [
    cluster('hit', {}),
    cluster('hap', { proxy: { kind: 'haproxy' } }),
    cluster('hapdyn', { proxy: { kind: 'haproxy', endpoints: 'Dynamic' } }),
    cluster('roll', { proxy: { delivery: 'rolling' } }),
    cluster('pinned', { proxy: { endpoints: 'Static' } }),
    cluster('dyn', { proxy: { endpoints: 'Dynamic' } }),
    cluster('rolldyn', { proxy: { delivery: 'rolling', endpoints: 'Dynamic' } }),
  ]);

  it('is Dynamic with hitless delivery on NGINX, Static on HAProxy and with rolling, refused nowhere; an explicit value stays', () => {
    const r = buildModel(specs, SNAP);
    // rolldyn: refused (UnsupportedValue, above) and served Static.
    // hap: HAProxy's slots need file descriptors, so it is Static unless its spec opts in (ADR 0039).
    expect(endpointsOf(r)).toEqual({ default: 'Dynamic', dyn: 'Dynamic', hap: 'Static', hapdyn: 'Dynamic', hit: 'Dynamic', pinned: 'Static', roll: 'Static', rolldyn: 'Static' });
    for (const name of ['hit', 'hap', 'hapdyn', 'roll', 'pinned', 'dyn']) expect(accepted(r, name)).toMatchObject({ status: 'True', reason: 'Accepted' });
  });

  it('is Static for every cluster, an explicit Dynamic included, when agents cannot reach the core (hitless falls back to rolling)', () => {
    const r = buildModel(specs, SNAP, { agents: false });
    expect(endpointsOf(r)).toEqual({ default: 'Static', dyn: 'Static', hap: 'Static', hapdyn: 'Static', hit: 'Static', pinned: 'Static', roll: 'Static', rolldyn: 'Static' });
  });
});
