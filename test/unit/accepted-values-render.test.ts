/**
 * Issue 14, class 2: values that `validate` accepts must render a config the proxy accepts, or the
 * whole cluster freezes on its last good config. One minimal input per defect shape, checked with
 * the real `nginx -t` / `haproxy -c`; test/property/proxy-accepts-properties.test.ts generalises it.
 */
import * as E from 'fp-ts/Either';
import { describe, expect, it } from 'vitest';
import { translateServiceLabels } from '../../src/plan/sources/interlock';
import {
  HEADER_VALUE_MAX_BYTES,
  COOKIE_MATCH_FRAME_BYTES,
  COOKIE_MATCH_VALUE_MAX_BYTES,
  MATCH_VALUE_MAX_BYTES,
  NGINX_MAX_QUOTED_PARAM,
  nginxQuotedBytes,
  nginxRegexBytes,
  REDIRECT_URL_MAX,
  durationMs,
  type Duration,
} from '../../src/domain/brands';
import { formatPath } from '../../src/domain/issue';
import { decodeObject } from '../../src/domain/object';
import { canonicalDuration, nginxDuration, nginxSeconds } from '../../src/render/nginx/duration';
import { cookiePairRegex, exactRegex, nginxEscape } from '../../src/render/nginx/escape';
import { haproxyFailTimeout } from '../../src/render/haproxy/escape';
import { rejectedConfigs, renderClusters } from '../helpers/proxy-accepts';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';

const SERVICES = ['alpha', 'beta', ...Array.from({ length: 11 }, (_, i) => `big${i}`)];
const SNAPSHOT = snapshot({
  services: SERVICES.map((name) => ({ name, networks: ['app'] })),
  tasks: SERVICES.map((s, i) => task(s, `10.1.${i}.1`)),
  networks: [{ name: 'app' }],
});
const KINDS = ['nginx', 'haproxy'] as const;

/** The issues `validate` reports for a Route spec, as `path: message` lines. */
function routeIssues(spec: Record<string, unknown>): string[] {
  const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name: 'r' }, spec });
  return E.isLeft(r) ? r.left.map((i) => `${formatPath(i.path)}: ${i.message}`) : [];
}

describe('durations (issue 14: 1s1s, 30m1h, 500ms1s, a failTimeout below 1s or 0s)', () => {
  it('are written in each proxy\'s syntax: each unit once, largest first; whole seconds for NGINX fail_timeout', () => {
    const d = (s: string) => s as Duration;
    expect(nginxDuration(d('1h30m'))).toBe('1h30m');
    expect(nginxDuration(d('90s'))).toBe('90s');
    expect(nginxDuration(d('1s1s'))).toBe('2s');
    expect(nginxDuration(d('30m1h'))).toBe('1h30m');
    expect(nginxDuration(d('500ms1s'))).toBe('1s500ms');
    expect(nginxDuration(d('0ms0s'))).toBe('0s');
    expect(nginxSeconds(d('1s'))).toBe('1s');
    expect(nginxSeconds(d('500ms'))).toBe('1s');
    expect(nginxSeconds(d('1s1ms'))).toBe('2s');
    expect(nginxSeconds(d('0ms'))).toBe('0s');
    expect(nginxSeconds(d('59s1m'))).toBe('1m59s');
    expect(canonicalDuration(7 * 86_400_000)).toBe('7d');
    expect(haproxyFailTimeout(d('0s'))).toBe('1s');
    expect(haproxyFailTimeout(d('500ms'))).toBe('500ms');
  });

  for (const kind of KINDS) {
    it(`in timeouts, cluster defaults and failTimeout render a config ${kind} accepts`, () => {
      const odd = ['1s1s', '30m1h', '500ms1s', '0s', '0ms', '1ms', '6d23h59m59s999ms', '1s1m1h1d'];
      const routes = odd.map((t, i) =>
        route(`d${i}`, {
          serviceCluster: 'c',
          hosts: [`d${i}.test`],
          rules: [
            {
              // A zero timeout is refused (below); failTimeout may be 0.
              ...(durationMs(t) > 0 ? { timeouts: { connect: t, read: t, send: t } } : {}),
              backends: [{ service: 'alpha', port: 80, passiveHealthCheck: { maxFails: 3, failTimeout: t } }],
            },
          ],
        }),
      );
      const c = cluster('c', { proxy: { kind }, defaults: { timeouts: { connect: '500ms1s', read: '30m1h', send: '1s1s' } } });
      expect(rejectedConfigs(desired(routes, [c]), SNAPSHOT)).toEqual([]);
    });
  }
});

describe('zero timeouts (NGINX answers 504 at once, HAProxy never times out)', () => {
  it('are refused with the field path, in rules and in cluster defaults', () => {
    expect(routeIssues({ hosts: ['z.test'], rules: [{ timeouts: { connect: '0s', read: '0ms0s', send: '1ms' }, backends: [{ service: 'alpha', port: 80 }] }] })).toEqual([
      'spec.rules[0].timeouts.connect: a timeout must be longer than 0 (NGINX would give up at once, HAProxy never)',
      'spec.rules[0].timeouts.read: a timeout must be longer than 0 (NGINX would give up at once, HAProxy never)',
    ]);
    const c = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'ServiceCluster', metadata: { name: 'c' }, spec: { defaults: { timeouts: { send: '0d' } } } });
    expect(E.isLeft(c) ? c.left.map((i) => `${formatPath(i.path)}: ${i.message}`) : []).toEqual([
      'spec.defaults.timeouts.send: a timeout must be longer than 0 (NGINX would give up at once, HAProxy never)',
    ]);
  });
});

describe('weights (issue 14: a share that rounds to 0.00%)', () => {
  const backends = [{ service: 'alpha', port: 80, weight: 1 }, ...Array.from({ length: 11 }, (_, i) => ({ service: `big${i}`, port: 80, weight: 1000 }))];
  for (const kind of KINDS) {
    it(`give weight 1 among eleven of 1000 a nonzero share that ${kind} accepts (HTTP and passthrough)`, () => {
      const http = route('w', { serviceCluster: 'c', hosts: ['w.test'], rules: [{ backends }] });
      const last = route('wl', { serviceCluster: 'c', hosts: ['wl.test'], rules: [{ backends: [...backends].reverse() }] });
      const pt = route('p', { serviceCluster: 'c', hosts: ['p.test'], tls: { mode: 'Passthrough' }, rules: [{ backends }] });
      const state = desired([http, last, pt], [cluster('c', { proxy: { kind } })]);
      expect(rejectedConfigs(state, SNAPSHOT)).toEqual([]);
      const [config] = renderClusters(state, SNAPSHOT).configs;
      if (kind === 'nginx') {
        expect(config?.config).toMatch(/ 0\.01% /);
        expect(config?.config).not.toMatch(/ 0\.00% /);
      }
    });
  }
});

/** The most of `unit` a value can hold within `budget` bytes by `cost`, topped up with "a" to `maxChars`. */
function worstCase(unit: string, cost: (s: string) => number, budget: number, maxChars: number): string {
  let v = '';
  while (v.length < maxChars && cost(`${v}${unit}`) <= budget) v += unit;
  while (v.length < maxChars && cost(`${v}a`) <= budget) v += 'a';
  return v;
}

const LONG_PATH = `/${'+.'.repeat(512)}`.slice(0, 1024);
const LONG_WRITTEN_PATH = `/${'%41'.repeat(341)}`.slice(0, 1024);

describe('parameter length (issue 14: NGINX refuses a parameter over 4 KiB once escaped)', () => {
  it('counts escaped bytes exactly as the renderer escapes', () => {
    for (const v of ['', 'plain', '$$$', 'a"b\\c$d', ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~', 'x'.repeat(1024)]) {
      expect(nginxQuotedBytes(v)).toBe(nginxEscape(v).length);
      // `~` before the pattern; nginxEscape doubles the backslashes of \xHH and \z.
      expect(nginxRegexBytes(v) + '~^\\\\z'.length).toBe(`~${nginxEscape(exactRegex(v))}`.length);
      const name = '_'.repeat(64);
      expect(nginxRegexBytes(v) + COOKIE_MATCH_FRAME_BYTES + name.length).toBe(`~${nginxEscape(cookiePairRegex(name, v))}`.length);
    }
    expect(NGINX_MAX_QUOTED_PARAM).toBe(4093);
  });

  const dollars = worstCase('$', nginxQuotedBytes, HEADER_VALUE_MAX_BYTES, 1024);
  const quotes = worstCase('"', nginxQuotedBytes, HEADER_VALUE_MAX_BYTES, 1024);
  const punct = worstCase('$', nginxRegexBytes, MATCH_VALUE_MAX_BYTES, 1024);
  const cookie = worstCase('$', nginxRegexBytes, COOKIE_MATCH_VALUE_MAX_BYTES, 1024);
  // The longest cookie name: it shares the match pattern's parameter with the value.
  const cookieName = '_'.repeat(64);
  const query = 'a'.repeat(REDIRECT_URL_MAX - 'https://x.test/?'.length);
  const spec = (v: string, m: string, c: string, to: string, serviceCluster = 'default') => ({
    serviceCluster,
    hosts: ['long.test'],
    rules: [
      {
        match: { pathPrefix: '/a', headers: [{ name: 'X-M', value: m }], cookies: [{ name: cookieName, value: c }] },
        backends: [{ service: 'alpha', port: 80 }],
        requestHeaders: { set: [{ name: 'X-S', value: v }], add: [{ name: `X-${'A'.repeat(62)}`, value: v }] },
        responseHeaders: { set: [{ name: 'X-R', value: v }], add: [{ name: 'X-Q', value: v }] },
      },
      { match: { pathPrefix: '/b' }, redirect: { to } },
      // Paths at 1024 characters: "+" and "." take 3 bytes each in a rewrite regex ("[+]").
      { match: { pathPrefix: LONG_PATH }, rewrite: { replacePrefix: LONG_WRITTEN_PATH }, backends: [{ service: 'beta', port: 80 }] },
      { match: { path: LONG_PATH.replace(/^\/\+/, '/-') }, redirect: { path: LONG_WRITTEN_PATH, host: `${'h'.repeat(63)}.test`, port: 65535 } },
    ],
  });

  it('accepts the worst-case value at each bound, and the proxies accept what it renders', () => {
    expect(nginxQuotedBytes(dollars)).toBeGreaterThan(HEADER_VALUE_MAX_BYTES - 12);
    for (const kind of KINDS)
      for (const v of [dollars, quotes]) {
        const r = route('long', spec(v, punct, cookie, `https://x.test/?${query}`, 'c'));
        expect(rejectedConfigs(desired([r], [cluster('c', { proxy: { kind } })]), SNAPSHOT)).toEqual([]);
      }
  });

  it('refuses one byte more, naming the field and the budget', () => {
    const issues = routeIssues(spec(`${dollars}$`, `${punct}$`, `${cookie}$`, `https://x.test/?${query}a`));
    expect(issues.map((i) => i.replace(/: expected .*?(: |$)/, ': ').replace(/takes \d+ bytes/, 'takes N bytes'))).toEqual([
      'spec.rules[0].match.headers[0].value: takes N bytes as an NGINX match pattern (a letter or digit 1, any other character 5), at most 4088',
      'spec.rules[0].match.cookies[0].value: takes N bytes as an NGINX match pattern (a letter or digit 1, any other character 5), at most 3985',
      'spec.rules[0].requestHeaders.set[0].value: takes N bytes once escaped for nginx.conf ("$" takes 12, \'"\' and "\\" 2, any other character 1), at most 4021',
      'spec.rules[0].requestHeaders.add[0].value: takes N bytes once escaped for nginx.conf ("$" takes 12, \'"\' and "\\" 2, any other character 1), at most 4021',
      'spec.rules[0].responseHeaders.set[0].value: takes N bytes once escaped for nginx.conf ("$" takes 12, \'"\' and "\\" 2, any other character 1), at most 4021',
      'spec.rules[0].responseHeaders.add[0].value: takes N bytes once escaped for nginx.conf ("$" takes 12, \'"\' and "\\" 2, any other character 1), at most 4021',
      'spec.rules[1].redirect.to: longer than 4093 characters',
    ]);
  });
});

describe('Interlock labels (issue 14: the same values through com.docker.lb.*)', () => {
  const labelled = (name: string, labels: Record<string, string>) => ({
    name,
    networks: ['app'],
    labels: Object.fromEntries(Object.entries(labels).map(([k, v]) => [`com.docker.lb.${k}`, v])),
  });
  const snap = snapshot({
    services: [
      labelled('half', { hosts: 'half.test', port: '80', fail_timeout: '500ms', max_fails: '2' }),
      labelled('twice', { hosts: 'twice.test', port: '80', fail_timeout: '1s1s' }),
      labelled('backwards', { hosts: 'backwards.test', port: '80', fail_timeout: '30m1h' }),
      labelled('mixed', { hosts: 'mixed.test', port: '80', fail_timeout: '500ms1s' }),
      labelled('zero', { hosts: 'zero.test', port: '80', fail_timeout: '0' }),
      labelled('bad', { hosts: 'bad.test', port: '80', fail_timeout: '5x' }),
    ],
    tasks: ['half', 'twice', 'backwards', 'mixed', 'zero', 'bad'].map((s, i) => task(s, `10.2.${i}.1`)),
    networks: [{ name: 'app' }],
  });

  it('translate every accepted fail_timeout, reject a bad one alone, and render configs both proxies accept', () => {
    const t = translateServiceLabels(snap.services);
    expect(t.routes.map((r) => r.object.metadata.name)).toEqual(['svc-backwards', 'svc-half', 'svc-mixed', 'svc-twice', 'svc-zero']);
    expect(t.rejects.map((r) => [r.service, r.issues.map((i) => formatPath(i.path))])).toEqual([['bad', ['labels["com.docker.lb.fail_timeout"]']]]);
    for (const kind of KINDS) {
      const state = desired([], kind === 'haproxy' ? [cluster('default', { proxy: { kind } })] : []);
      expect(rejectedConfigs(state, snap)).toEqual([]);
    }
    // Dynamic endpoints (the default with hitless delivery, ADR 0039): max_fails and fail_timeout in
    // seconds in the endpoint lines; the Lua balancer keeps fractions, which NGINX's syntax cannot.
    const dynamic = renderClusters(desired([]), snap).configs[0]?.endpoints ?? '';
    // (The hosts' own lines, "@…", are their locations: routes as data, ADR 0050.)
    expect(dynamic.split('\n').filter((l) => l !== '' && !l.startsWith('@')).map((l) => l.replace(/^u_[0-9a-f]{6}_/, ''))).toEqual([
      'zero_80 1 0 - 10.2.4.1:80',
      'half_80 2 0.5 - 10.2.0.1:80',
      'twice_80 1 2 - 10.2.1.1:80',
      'mixed_80 1 1.5 - 10.2.3.1:80',
      'backwards_80 1 5400 - 10.2.2.1:80',
    ]);
    // Static: the same values on the upstream's server lines, in NGINX's time syntax.
    const nginx = renderClusters(desired([], [cluster('default', { proxy: { endpoints: 'Static' } })]), snap).configs[0]?.config ?? '';
    expect(nginx).toMatch(/server 10\.2\.0\.1:80 max_fails=2 fail_timeout=1s;/);
    expect(nginx).toMatch(/server 10\.2\.2\.1:80 max_fails=1 fail_timeout=1h30m;/);
  });
});
