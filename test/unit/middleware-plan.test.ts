/**
 * Middleware references in the pure plan: order and merging of policies per rule, what is left out
 * and why, the secrets a login needs and how the proxy service mounts them.
 */
import { describe, expect, it } from 'vitest';
import { proxyServiceSpec } from '../../src/plan/proxy-service-spec';
import { buildModel } from '../../src/plan/build-model';
import { replicaRate } from '../../src/plan/middlewares';
import type { ModelRule, ProxyModel } from '../../src/plan/model';
import { cluster, desired, middleware, route, snapshot, task } from '../helpers/specs';

const SNAP = snapshot({
  services: [{ name: 'app', networks: ['app'] }],
  tasks: [task('app', '10.0.0.5')],
  networks: [{ name: 'app' }],
  secrets: [{ name: 'users-a' }, { name: 'users-b' }, { name: 'site.crt' }, { name: 'site.key' }],
});
const MIDDLEWARES = [
  middleware('deny-a', { ipDeny: ['10.9.0.0/16'] }),
  middleware('allow-b', { ipAllow: ['10.0.0.0/8', '::1'] }),
  middleware('login-a', { basicAuth: { secret: 'users-a' } }),
  middleware('login-b', { basicAuth: { secret: 'users-b', realm: 'B', userHeader: 'X-User' } }),
];
const backends = [{ service: 'app', port: 80 }];

function build(routes: ReturnType<typeof route>[], kind: 'nginx' | 'haproxy' = 'nginx', defaults: string[] = ['deny-a']) {
  const state = { ...desired(routes, [cluster('default', { proxy: { kind }, defaults: { middlewares: defaults } })]), middlewares: MIDDLEWARES.map((object) => ({ object, generation: 1 })) };
  const result = buildModel(state, SNAP);
  const model = result.clusters.find((c) => c.cluster === 'default') as ProxyModel;
  return { result, model };
}

const rulesOf = (m: ProxyModel): ModelRule[] => m.virtualHosts.flatMap((vh) => vh.paths.flatMap((g) => [...g.conditional, ...(g.fallback !== undefined ? [g.fallback] : [])]));

describe('middleware policies of a rule', () => {
  it('applies cluster defaults, then the route, then the rule; a repeated name once; the last login wins', () => {
    const { model } = build([
      route('web', {
        hosts: ['web.test'],
        middlewares: ['allow-b', 'login-a', 'deny-a'],
        rules: [{ backends }, { match: { pathPrefix: '/b' }, middlewares: ['login-b', 'allow-b'], backends }],
      }),
    ]);
    const [root, b] = [rulesOf(model).find((r) => r.match.path === '/'), rulesOf(model).find((r) => r.match.path === '/b')];
    expect(root?.policies).toEqual({ middlewares: ['deny-a', 'allow-b', 'login-a'], ipAllow: [['0:0:0:0:0:0:0:1', '10.0.0.0/8']], ipDeny: [['10.9.0.0/16']], basicAuth: { secret: 'users-a', realm: 'Restricted' }, rateLimits: [], connectionLimits: [] });
    expect(b?.policies?.middlewares).toEqual(['deny-a', 'allow-b', 'login-a', 'login-b']);
    expect(b?.policies?.basicAuth).toEqual({ secret: 'users-b', realm: 'B', userHeader: 'X-User' });
  });

  it('gives rules without any middleware no policies, and passthrough routes no cluster defaults', () => {
    const { model, result } = build([route('pt', { hosts: ['pt.test'], tls: { mode: 'Passthrough' }, rules: [{ backends }] }), route('plain', { hosts: ['plain.test'], rules: [{ backends }] })], 'nginx', []);
    expect(rulesOf(model).every((r) => r.policies === undefined)).toBe(true);
    expect(model.passthrough.map((p) => p.host)).toEqual(['pt.test']);
    const withDefaults = build([route('pt', { hosts: ['pt.test'], tls: { mode: 'Passthrough' }, rules: [{ backends }] })], 'nginx', ['login-a']);
    expect(withDefaults.result.conditions['Route/pt']?.find((c) => c.type === 'ResolvedRefs')?.status).toBe('True');
    expect(withDefaults.model.secrets).toEqual([]);
    expect(result.conditions['Route/plain']?.find((c) => c.type === 'ResolvedRefs')?.status).toBe('True');
  });
});

describe('basicAuth users secrets', () => {
  it('are mounted for the proxy and readable by its workers\' group only (root:nogroup 0440), as the shared TLS server\'s certificates are (ADR 0028)', () => {
    const { model } = build([
      route('web', { hosts: ['web.test'], middlewares: ['login-a'], rules: [{ backends }] }),
      route('tls', { hosts: ['tls.test'], tls: { mode: 'Terminate', certificate: { certSecret: 'site.crt', keySecret: 'site.key' } }, rules: [{ backends }] }),
    ]);
    expect(model.secrets).toEqual(['site.crt', 'site.key', 'users-a']);
    expect(model.workerSecrets).toEqual(['site.crt', 'site.key', 'users-a']);
    const spec = proxyServiceSpec({ model, serviceName: 'sg-proxy-default', config: { id: 'c', name: 'cfg' }, secretIds: new Map(), networkIds: new Map([['app', 'net']]), nodes: [] });
    const modes = Object.fromEntries((spec.TaskTemplate.ContainerSpec?.Secrets ?? []).map((s) => [s.SecretName, `${s.File?.UID}:${s.File?.GID} ${(s.File?.Mode ?? 0).toString(8)}`]));
    // Certificates the master reads (client-certificate and ACME hosts) stay 0400: test/unit/shared-tls-plan.test.ts.
    expect(modes).toEqual({ 'site.crt': '0:65534 440', 'site.key': '0:65534 440', 'users-a': '0:65534 440' });
  });

  it('leaves a route out while its users secret is missing (SecretNotFound)', () => {
    const state = build([route('web', { hosts: ['web.test'], middlewares: ['login-a'], rules: [{ backends }] })]);
    expect(state.model.routes.map((r) => r.name)).toEqual(['web']);
    const missing = buildModel(
      { ...desired([route('web', { hosts: ['web.test'], rules: [{ backends, middlewares: ['nope'] }] })]), middlewares: [{ object: middleware('nope', { basicAuth: { secret: 'absent' } }), generation: 1 }] },
      SNAP,
    );
    expect(missing.conditions['Route/web']?.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'SecretNotFound', message: expect.stringMatching(/secret "absent" \(basicAuth users\) not found/) });
    expect(missing.clusters.flatMap((c) => c.routes)).toEqual([]);
  });

  it('is UnsupportedValue on HAProxy, naming the middleware and where it is referenced', () => {
    const { result, model } = build([route('web', { hosts: ['web.test'], rules: [{ backends, middlewares: ['login-b'] }] }), route('open', { hosts: ['open.test'], rules: [{ backends }] })], 'haproxy');
    expect(result.conditions['Route/web']?.find((c) => c.type === 'Accepted')).toMatchObject({
      status: 'False',
      reason: 'UnsupportedValue',
      message: expect.stringMatching(/spec\.rules\[0\]\.middlewares: middleware "login-b": basicAuth is not supported by HAProxy/),
    });
    expect(model.routes.map((r) => r.name)).toEqual(['open']);
  });
});

describe('rate limits per replica', () => {
  it('keep the limit per replica (Replica) or divide it by proxy.replicas (Cluster), per second when whole, else per minute', () => {
    const rate = (average: number, period: '1s' | '1m', scope: 'Replica' | 'Cluster', replicas: number, burst = 0) => replicaRate({ average, period, burst, scope }, replicas);
    expect(rate(100, '1s', 'Replica', 3)).toEqual({ rate: 100, per: 's', burst: 0, retryAfter: 1 });
    expect(rate(90, '1s', 'Cluster', 3, 30)).toEqual({ rate: 30, per: 's', burst: 10, retryAfter: 1 });
    expect(rate(100, '1s', 'Cluster', 3)).toEqual({ rate: 2000, per: 'm', burst: 0, retryAfter: 1 });
    expect(rate(10, '1m', 'Cluster', 3)).toEqual({ rate: 3, per: 'm', burst: 0, retryAfter: 20 });
    // Never below one request per minute, whatever the replica count; 0 replicas count as 1.
    expect(rate(1, '1m', 'Cluster', 5)).toEqual({ rate: 1, per: 'm', burst: 0, retryAfter: 60 });
    expect(rate(6, '1s', 'Cluster', 0)).toEqual({ rate: 6, per: 's', burst: 0, retryAfter: 1 });
  });

  it('HAProxy refuses a burst and more than 3 limits on one rule (UnsupportedValue)', () => {
    const limits = [
      middleware('l1', { rateLimit: { average: 1 } }),
      middleware('l2', { rateLimit: { average: 2 } }),
      middleware('l3', { rateLimit: { average: 3 } }),
      middleware('c1', { connectionLimit: { max: 3 } }),
      middleware('b1', { rateLimit: { average: 3, burst: 2 } }),
    ];
    const state = {
      ...desired([route('four', { hosts: ['four.test'], middlewares: ['l1', 'l2', 'l3'], rules: [{ backends }, { match: { pathPrefix: '/c' }, middlewares: ['c1'], backends }] }), route('three', { hosts: ['three.test'], middlewares: ['l1', 'l2', 'c1'], rules: [{ backends }] }), route('burst', { hosts: ['burst.test'], middlewares: ['b1'], rules: [{ backends }] })], [cluster('default', { proxy: { kind: 'haproxy' } })]),
      middlewares: limits.map((object) => ({ object, generation: 1 })),
    };
    const result = buildModel(state, SNAP);
    expect(result.conditions['Route/four']?.[0]).toMatchObject({ reason: 'UnsupportedValue', message: expect.stringMatching(/spec\.rules\[1\]\.middlewares: 4 rate and connection limits apply to this rule; HAProxy 2\.6 tracks at most 3/) });
    expect(result.conditions['Route/burst']?.[0]).toMatchObject({ reason: 'UnsupportedValue', message: expect.stringMatching(/rateLimit\.burst is not supported by HAProxy/) });
    expect(result.clusters.flatMap((c) => c.routes.map((r) => r.name))).toEqual(['three']);
  });
});

describe('requestBody on HAProxy', () => {
  it('accepts a limit below the cluster default and refuses a larger one or none (UnsupportedValue)', () => {
    const bodies = [middleware('small', { requestBody: { maxSize: '64k' } }), middleware('large', { requestBody: { maxSize: '10m' } }), middleware('none', { requestBody: { maxSize: '0' } })];
    const state = {
      ...desired(['small', 'large', 'none'].map((n) => route(n, { hosts: [`${n}.test`], middlewares: [n], rules: [{ backends }] })), [cluster('default', { proxy: { kind: 'haproxy' } })]),
      middlewares: bodies.map((object) => ({ object, generation: 1 })),
    };
    const result = buildModel(state, SNAP);
    expect(result.clusters.flatMap((c) => c.routes.map((r) => r.name))).toEqual(['small']);
    expect(result.conditions['Route/large']?.[0]).toMatchObject({ reason: 'UnsupportedValue', message: expect.stringMatching(/requestBody\.maxSize 10m is larger than the cluster's defaults\.clientMaxBodySize 1m/) });
    expect(result.conditions['Route/none']?.[0]?.reason).toBe('UnsupportedValue');
  });
});

describe('forwardAuth', () => {
  const AUTH_SNAP = snapshot({
    services: [{ name: 'app', networks: ['app'] }, { name: 'auth', networks: ['app', 'other'] }],
    tasks: [task('app', '10.0.0.5'), task('auth', '10.0.0.9')],
    networks: [{ name: 'app' }, { name: 'other' }],
  });
  const sso = middleware('sso', { forwardAuth: { service: 'auth', port: 9091, path: '/verify', responseHeaders: ['Remote-User'] } });
  const buildAuth = (mws: ReturnType<typeof middleware>[], kind: 'nginx' | 'haproxy' = 'nginx') =>
    buildModel({ ...desired([route('web', { hosts: ['web.test'], middlewares: mws.map((m) => m.metadata.name), rules: [{ backends }, { match: { path: '/old' }, redirect: { path: '/new' } }] })], [cluster('default', { proxy: { kind } })]), middlewares: mws.map((object) => ({ object, generation: 1 })) }, AUTH_SNAP);

  it('resolves the auth service to its task addresses like a backend, and the proxy joins its network', () => {
    const result = buildAuth([sso]);
    const model = result.clusters.find((c) => c.cluster === 'default') as ProxyModel;
    const fa = rulesOf(model).find((r) => r.action.kind === 'proxy')?.policies?.forwardAuth;
    expect(fa).toMatchObject({ service: 'auth', port: 9091, path: '/verify', responseHeaders: ['Remote-User'], timeout: '5s' });
    const upstream = model.upstreams.find((u) => u.name === fa?.upstream);
    expect(upstream?.servers).toEqual([{ ip: '10.0.0.9', port: 9091 }]);
    expect(model.networks).toEqual(['app']);
  });

  it('leaves the route out while the auth service does not resolve (never served without its login)', () => {
    const result = buildAuth([middleware('sso', { forwardAuth: { service: 'gone', port: 9091 } })]);
    expect(result.conditions['Route/web']?.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'BackendNotFound', message: expect.stringMatching(/forwardAuth: service "gone" not found/) });
    expect(result.clusters.flatMap((c) => c.routes)).toEqual([]);
  });

  it('is UnsupportedValue on HAProxy', () => {
    const result = buildAuth([sso], 'haproxy');
    expect(result.conditions['Route/web']?.[0]).toMatchObject({ status: 'False', reason: 'UnsupportedValue', message: expect.stringMatching(/middleware "sso": forwardAuth is not supported by HAProxy/) });
  });
});
