/**
 * Properties of the HAProxy renderer over generated inputs:
 * - no user string (header value, header match, path, rewrite or redirect target) can add,
 *   remove or reshape a line of haproxy.cfg, nor reach HAProxy's `$VAR` expansion; each reaches
 *   HAProxy intact (checked by parsing the output as HAProxy does, and by `haproxy -c` on a sample);
 * - rendering is deterministic and independent of the order specs arrive in.
 */
import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeObject } from '../../src/domain/object';
import { buildModel } from '../../src/plan/build-model';
import { renderHaproxy } from '../../src/render/haproxy/render';
import { haproxyCheck, haproxyProblems, haproxyShape, parseHaproxyConfig, type HaproxyLine } from '../helpers/haproxy-check';
import { desired, route, snapshot, task } from '../helpers/specs';

const SERVICES = ['alpha', 'beta', 'gamma'];
const SNAPSHOT = snapshot({
  services: SERVICES.map((name) => ({ name, networks: ['app'] })),
  tasks: SERVICES.flatMap((s, i) => [task(s, `10.1.${i}.1`), task(s, `10.1.${i}.2`)]),
  networks: [{ name: 'app' }],
});

/** Every printable ASCII character, including those that matter to HAProxy: " \ $ # ' % { } and spaces. */
const printable = (minLength: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength, maxLength: 40 });
const headerName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,15}$/);
const segment = (percent: boolean) =>
  fc.stringMatching(percent ? /^[A-Za-z0-9._~%+,:@=&-]{1,8}$/ : /^[A-Za-z0-9._~+,:@=&-]{1,8}$/).filter((s) => s !== '.' && s !== '..' && !/%(?![0-9A-Fa-f]{2})/.test(s));
const path = (percent: boolean) => fc.array(segment(percent), { minLength: 1, maxLength: 3 }).map((ss) => `/${ss.join('/')}`);

interface Inputs {
  readonly value: string;
  readonly match: string;
  readonly name: string;
  readonly prefix: string;
  readonly exact: string;
  readonly to: string;
  readonly redirect: string;
}

const inputs: fc.Arbitrary<Inputs> = fc.record({
  // Empty values change the structure on purpose (an empty set removes the header, an empty
  // match also matches an absent header); the unit tests cover them.
  value: printable(1),
  match: printable(1),
  name: headerName,
  prefix: path(false),
  exact: path(false),
  to: path(true),
  redirect: path(true),
});

function render(i: Inputs): string {
  const r = route('inj', {
    hosts: ['inj.test'],
    rules: [
      { match: { pathPrefix: `/a${i.prefix}` }, rewrite: { replacePrefix: i.to }, backends: [{ service: 'alpha', port: 80 }] },
      { match: { pathPrefix: '/c', headers: [{ name: 'X-Match', value: i.match }] }, backends: [{ service: 'gamma', port: 80 }] },
      { match: { path: `/b${i.exact}` }, redirect: { path: i.redirect, code: 302 } },
      {
        backends: [{ service: 'beta', port: 80 }],
        requestHeaders: { set: [{ name: i.name, value: i.value }], add: [{ name: 'X-Add', value: i.value }] },
        responseHeaders: { add: [{ name: 'X-Resp', value: i.value }] },
      },
    ],
  });
  return buildModel(desired([r]), SNAPSHOT).clusters.map((m) => renderHaproxy(m)).join('\n');
}

const PLAIN: Omit<Inputs, 'name'> = { value: 'x', match: 'y', prefix: '/p', exact: '/q', to: '/r', redirect: '/s' };

/** Log-format text back to the literal it stands for. */
const literal = (lf: string): string => lf.replace(/%%/g, '%');

const find = (lines: readonly HaproxyLine[], ...start: string[]): HaproxyLine[] => lines.filter((l) => start.every((w, i) => l.words[i] === w));

describe('haproxy rendering', () => {
  it('never lets a user string change the configuration structure, and keeps it intact', () => {
    fc.assert(
      fc.property(inputs, (i) => {
        const evil = parseHaproxyConfig(render(i));
        const plain = parseHaproxyConfig(render({ ...PLAIN, name: i.name }));
        expect(haproxyShape(evil)).toBe(haproxyShape(plain));
        expect(evil.every((l) => l.envRefs === 0)).toBe(true);
        const setter = find(evil, 'http-request', 'set-header', i.name);
        expect(setter.map((l) => literal(l.words[3] ?? ''))).toContain(i.value);
        expect(find(evil, 'http-after-response', 'add-header', 'X-Resp').map((l) => literal(l.words[3] ?? ''))).toEqual([i.value]);
        const matcher = evil.find((l) => l.words[0] === 'acl' && l.words[2] === 'req.fhdr(X-Match,1)');
        expect(matcher?.words.at(-1)).toBe(i.match);
        const prefixAcl = evil.filter((l) => l.words[0] === 'acl' && l.words[1]?.startsWith('path_p_')).map((l) => l.words.at(-1) ?? '');
        expect(prefixAcl.filter((p) => p.startsWith('/a'))).toEqual([`/a${i.prefix}`, `/a${i.prefix}/`]);
        const location = find(evil, 'http-request', 'redirect', 'location').map((l) => literal(l.words[3] ?? ''));
        expect(location).toContain(`%[var(txn.sg_scheme)]://%[var(txn.sg_host)]${i.redirect}`);
        const rewrite = find(evil, 'http-request', 'replace-path').map((l) => literal(l.words[3] ?? ''));
        expect(rewrite).toEqual([`${i.to}\\1`]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps arbitrary accepted strings inside their quotes (checked by haproxy -c on a sample)', () => {
    fc.assert(
      fc.property(inputs, (i) => {
        const check = haproxyCheck(render(i));
        expect(haproxyProblems(check.output)).toEqual([]);
        expect(check.ok, check.output).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('is deterministic and independent of input order', () => {
    const host = fc.stringMatching(/^[a-z0-9]{1,8}$/).map((s) => `${s}.test`);
    const backend = fc.record({ service: fc.constantFrom(...SERVICES), port: fc.integer({ min: 1, max: 65535 }), weight: fc.integer({ min: 0, max: 1000 }) });
    const rule = fc.record({
      match: fc.record({ pathPrefix: path(false), headers: fc.array(fc.record({ name: headerName, value: printable(0) }), { maxLength: 1 }) }),
      backends: fc.uniqueArray(backend, { minLength: 1, maxLength: 3, selector: (b) => `${b.service}:${b.port}` }),
      sessionAffinity: fc.constantFrom(undefined, { clientIP: true }, { cookie: { name: 'sg_c' } }),
    });
    const spec = fc.record({ hosts: fc.uniqueArray(fc.oneof(host, host.map((h) => `*.${h}`)), { minLength: 1, maxLength: 2 }), rules: fc.array(rule, { minLength: 1, maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 4 }), (specs) => {
        const routes = specs
          .map((s, n) => decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name: `r${n}` }, spec: JSON.parse(JSON.stringify(s)) as unknown }))
          .flatMap((r) => (E.isRight(r) && r.right.kind === 'Route' ? [r.right] : []));
        // Same creation time for all: ties are broken by name, never by arrival order.
        const state = (rs: typeof routes) => ({ routes: rs.map((object) => ({ object, generation: 1 })), clusters: [], rejected: [] });
        const a = buildModel(state(routes), SNAPSHOT).clusters.map((m) => renderHaproxy(m)).join('\n');
        const b = buildModel(state([...routes].reverse()), SNAPSHOT).clusters.map((m) => renderHaproxy(m)).join('\n');
        expect(b).toBe(a);
      }),
      { numRuns: 150 },
    );
  });
});
