/**
 * Middleware errorPages in the codec and the pure plan: what is refused, how pages merge per rule,
 * ConfigNotFound, how the proxy service mounts the page configs, what `diff` says about a new page,
 * and how the observed snapshot lists the labelled configs.
 */
import * as E from 'fp-ts/Either';
import { describe, expect, it } from 'vitest';
import { checkMiddleware, ERROR_PAGE_LABEL } from '../../src/domain/middleware';
import { decodeObject } from '../../src/domain/object';
import { buildModel } from '../../src/plan/build-model';
import type { ModelRule, ProxyModel } from '../../src/plan/model';
import { proxyServiceSpec } from '../../src/plan/proxy-service-spec';
import { restartCauses } from '../../src/plan/writes/impact';
import { toSnapshot } from '../../src/observed/to-snapshot';
import type { ConfigInfo } from '../../src/observed/docker-port';
import { mountedFiles } from '../../src/validate/validate-files';
import { cluster, desired, middleware, route, snapshot, task } from '../helpers/specs';

const backends = [{ service: 'app', port: 80 }];
const SNAP = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks: [task('app', '10.0.0.5')], networks: [{ name: 'app' }], configs: [{ name: 'outage.html' }, { name: 'refused.txt' }] });

function issuesOf(spec: Record<string, unknown>): string[] {
  const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Middleware', metadata: { name: 'm' }, spec });
  if (E.isLeft(r)) return r.left.map((i) => `${i.path.join('.')}: ${i.message}`);
  return r.right.kind === 'Middleware' ? checkMiddleware(r.right.spec).map((i) => `${i.path.join('.')}: ${i.message}`) : ['not a Middleware'];
}

function build(mws: ReturnType<typeof middleware>[], routes: ReturnType<typeof route>[], snap = SNAP) {
  const state = { ...desired(routes, [cluster('default', {})]), middlewares: mws.map((object) => ({ object, generation: 1 })) };
  const result = buildModel(state, snap);
  return { result, model: result.clusters.find((c) => c.cluster === 'default') as ProxyModel };
}
const rulesOf = (m: ProxyModel): ModelRule[] => m.virtualHosts.flatMap((vh) => vh.paths.flatMap((g) => [...g.conditional, ...(g.fallback !== undefined ? [g.fallback] : [])]));

describe('errorPages codec', () => {
  it('accepts pages with the default content type text/html and upstream false', () => {
    expect(issuesOf({ errorPages: { pages: [{ statuses: [502, 503], config: 'outage.html' }] } })).toEqual([]);
  });

  it.each([
    [{ pages: [{ statuses: [418], config: 'p' }] }, /status 418 cannot have a page/],
    [{ pages: [{ statuses: [503], config: 'p' }, { statuses: [503], config: 'q' }] }, /status 503 already has a page \(pages\[0\]\)/],
    [{ pages: [{ statuses: [302], config: 'p' }] }, /400/],
    [{ pages: [{ statuses: [503], config: 'a b' }] }, /Swarm object name/],
    [{ pages: [{ statuses: [503], config: 'p', contentType: 'text/html; charset=utf-8' }] }, /media type/],
    [{ pages: [] }, /at least 1/],
    [{ pages: [{ statuses: [503], config: 'p' }], extra: 1 }, /unknown field/],
  ])('refuses %j', (errorPages, message) => {
    expect(issuesOf({ errorPages }).join('\n')).toMatch(message);
  });
});

describe('errorPages in the plan', () => {
  it('merges one page per status (the last middleware with errorPages wins) and lists the configs to mount', () => {
    const { model } = build(
      [
        middleware('a', { errorPages: { pages: [{ statuses: [404], config: 'refused.txt' }] } }),
        middleware('b', { errorPages: { upstream: true, pages: [{ statuses: [504, 502], config: 'outage.html' }, { statuses: [403], config: 'refused.txt', contentType: 'text/plain' }] } }),
      ],
      [route('web', { hosts: ['web.test'], middlewares: ['a', 'b'], rules: [{ backends }] })],
    );
    expect(rulesOf(model)[0]?.policies?.errorPages).toEqual({
      upstream: true,
      pages: [
        { status: 403, config: 'refused.txt', contentType: 'text/plain' },
        { status: 502, config: 'outage.html', contentType: 'text/html' },
        { status: 504, config: 'outage.html', contentType: 'text/html' },
      ],
    });
    expect(model.pageConfigs).toEqual(['outage.html', 'refused.txt']);
    expect(mountedFiles(model)).toEqual(['page/outage.html', 'page/refused.txt']);
  });

  it('leaves a route out while its page config is missing or unlabelled (ConfigNotFound)', () => {
    const { model, result } = build([middleware('a', { errorPages: { pages: [{ statuses: [503], config: 'nope' }] } })], [route('web', { hosts: ['web.test'], middlewares: ['a'], rules: [{ backends }] })]);
    expect(model.routes).toEqual([]);
    expect(model.pageConfigs).toBeUndefined();
    const resolved = result.conditions['Route/web']?.find((c) => c.type === 'ResolvedRefs');
    expect(resolved).toMatchObject({ status: 'False', reason: 'ConfigNotFound' });
    expect(resolved?.message).toContain(ERROR_PAGE_LABEL);
  });

  it('mounts each page config read-only after the proxy config, by ID, at /run/swarmgate-pages/<name>', () => {
    const { model } = build([middleware('a', { errorPages: { pages: [{ statuses: [503], config: 'outage.html' }] } })], [route('web', { hosts: ['web.test'], middlewares: ['a'], rules: [{ backends }] })]);
    const spec = proxyServiceSpec({ model, serviceName: 'sg-proxy-default', config: { id: 'c', name: 'cfg' }, secretIds: new Map(), pageConfigIds: new Map([['outage.html', 'id-outage']]), networkIds: new Map([['app', 'net']]), nodes: [] });
    expect(spec.TaskTemplate.ContainerSpec?.Configs?.map((c) => [c.ConfigID, c.ConfigName, c.File?.Name, c.File?.Mode])).toEqual([
      ['c', 'cfg', '/etc/nginx/nginx.conf', 0o444],
      ['id-outage', 'outage.html', '/run/swarmgate-pages/outage.html', 0o444],
    ]);
    // What `diff`/`apply` say about the restart this needs.
    const before = proxyServiceSpec({ model: { ...model, pageConfigs: [] }, serviceName: 'sg-proxy-default', config: { id: 'c', name: 'cfg' }, secretIds: new Map(), networkIds: new Map([['app', 'net']]), nodes: [] });
    expect(restartCauses(before, spec, (n) => n)).toEqual(['error page mounts +outage.html']);
  });
});

describe('observed error-page configs', () => {
  it('lists the names of the labelled configs in the snapshot, never their content', () => {
    const config = (name: string): ConfigInfo => ({ ID: `id-${name}`, Version: { Index: 1 }, Spec: { Name: name, Labels: { [ERROR_PAGE_LABEL]: 'true' }, Data: Buffer.from('<h1>secret-looking body</h1>').toString('base64') } }) as ConfigInfo;
    const { snapshot: s } = toSnapshot({ services: [], tasks: [], networks: [], secrets: [], nodes: [], pageConfigs: [config('b.html'), config('a.html'), config('bad name')] });
    expect(s.configs).toEqual([{ name: 'a.html' }, { name: 'b.html' }]);
    expect(JSON.stringify(s)).not.toContain('secret-looking');
  });
});
