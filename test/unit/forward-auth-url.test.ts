/**
 * forwardAuth given by URL: what the codec accepts, the cross-field rules (url or service + port,
 * the path in one place), and the model the plan builds (no upstream, no Swarm service to resolve).
 */
import * as E from 'fp-ts/Either';
import { describe, expect, it } from 'vitest';
import { checkMiddleware } from '../../src/domain/middleware';
import { decodeObject } from '../../src/domain/object';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { cluster, desired, middleware, route, snapshot, task } from '../helpers/specs';

function issuesOf(forwardAuth: Record<string, unknown>): string {
  const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Middleware', metadata: { name: 'm' }, spec: { forwardAuth } });
  if (E.isLeft(r)) return r.left.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
  return r.right.kind === 'Middleware' ? checkMiddleware(r.right.spec).map((i) => `${i.path.join('.')}: ${i.message}`).join('\n') : 'not a Middleware';
}

describe('forwardAuth.url', () => {
  it.each(['http://auth.internal:9091/api/authz/auth-request', 'http://10.0.0.5', 'http://authelia/', 'http://a.b.example.net:65535/oauth2/auth'])('accepts %s', (url) => {
    expect(issuesOf({ url })).toBe('');
  });

  it.each([
    ['https://auth.example.com', /https is not supported/],
    ['http://Auth.example.com', /not a lowercase hostname/],
    ['http://auth.example.com:0', /port must be/],
    ['http://auth.example.com:70000', /port must be/],
    ['http://auth.example.com/a b', /not a valid URL path/],
    ['http://auth.example.com/?x=1', /no query/],
    ['http://user@auth.example.com/', /not a lowercase hostname/],
    ['auth.example.com', /use http:\/\/host/],
  ])('refuses %s', (url, message) => {
    expect(issuesOf({ url })).toMatch(message);
  });

  it('needs url or service and port, not both, and the path in one place', () => {
    expect(issuesOf({ path: '/x' })).toMatch(/give the auth service as service and port, or as url/);
    expect(issuesOf({ service: 'auth' })).toMatch(/give the auth service as service and port, or as url/);
    expect(issuesOf({ url: 'http://a.test', service: 'auth', port: 80 })).toMatch(/not both/);
    expect(issuesOf({ url: 'http://a.test/verify', path: '/other' })).toMatch(/the url has a path already/);
    expect(issuesOf({ url: 'http://a.test', path: '/other' })).toBe('');
  });

  it('builds a model with the URL and the path to ask, no upstream, and programs the route without an auth service in the swarm', () => {
    const snap = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks: [task('app', '10.0.0.5')], networks: [{ name: 'app' }] });
    const state = {
      ...desired([route('web', { hosts: ['web.test'], middlewares: ['a', 'b'], rules: [{ backends: [{ service: 'app', port: 80 }] }, { match: { pathPrefix: '/b' }, middlewares: ['b'], backends: [{ service: 'app', port: 80 }] }] })], [cluster('default', {})]),
      middlewares: [middleware('a', { forwardAuth: { url: 'http://sso.example.net:9091', path: '/verify' } }), middleware('b', { forwardAuth: { url: 'http://10.1.2.3/oauth2/auth', responseHeaders: ['X-User'] } })].map((object) => ({ object, generation: 1 })),
    };
    const model = buildModel(state, snap).clusters.find((c) => c.cluster === 'default') as ProxyModel;
    expect(model.routes.map((r) => r.name)).toEqual(['web']);
    const fa = model.virtualHosts[0]?.paths.flatMap((g) => (g.fallback !== undefined ? [g.fallback] : [])).map((r) => r.policies?.forwardAuth);
    expect(fa?.[0]).toEqual({ url: { origin: 'http://10.1.2.3', host: '10.1.2.3' }, path: '/oauth2/auth', responseHeaders: ['X-User'], timeout: '5s' });
    expect(model.upstreams.map((u) => u.service)).toEqual(['app']);
  });
});
