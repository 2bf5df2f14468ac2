/**
 * Issue 14: snapshot addresses were checked by character class only, so ":::::" or "1:2:3:4" passed as
 * IPv6 task addresses and broke `nginx -t` / `haproxy -c`. The pure IpAddress parser (src/domain/snapshot.ts)
 * must agree with Node's net.isIP on every string (except zone ids, which it refuses), and every address it
 * accepts must render configs that NGINX and HAProxy accept.
 */
import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/domain/codec';
import { IpAddress, Snapshot } from '../../src/domain/snapshot';
import { buildModel } from '../../src/plan/build-model';
import { renderHaproxy } from '../../src/render/haproxy/render';
import { renderNginx } from '../../src/render/nginx/render';
import { haproxyAvailable, haproxyCheck, haproxyProblems } from '../helpers/haproxy-check';
import { nginxAvailable, nginxCheck } from '../helpers/nginx-check';
import { cluster, desired, route, snapshot } from '../helpers/specs';

/** The 16-bit groups written out in `run` (an IPv4 tail counts two). */
const written = (run: string): number => (run === '' ? 0 : run.split(':').reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0));

/**
 * What the parser must say: Node's answer, with two deliberate refusals: zone ids ("fe80::1%eth0") and a
 * trailing "::" standing for one group only ("1:2:3:4:5:6:7::", which NGINX refuses).
 */
const nodeSays = (s: string): boolean => {
  if (isIP(s) === 0 || s.includes('%')) return false;
  return !(s.endsWith('::') && written(s.slice(0, -2)) === 7);
};

const problem = (s: string): string | undefined => {
  const r = decode(IpAddress, s);
  return E.isLeft(r) ? r.left[0]?.message : undefined;
};

const chars = (alphabet: string, maxLength: number) => fc.string({ unit: fc.constantFrom(...alphabet), maxLength });
/** A hex group of 0–5 digits (5: one too many). */
const group = chars('0123456789abcdefABCDEF', 5);
const ipv4ish = fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), fc.boolean()).map(([a, b, c, d, zero]) => `${zero ? '0' : ''}${a}.${b}.${c}.${d}`);
/** Colon-separated groups with maybe one or more "::", maybe an IPv4 tail: near misses of every kind. */
const ipv6ish = fc
  .tuple(fc.array(group, { maxLength: 10 }), fc.array(fc.constantFrom(':', '::', ':::'), { maxLength: 10 }), fc.option(ipv4ish, { nil: undefined }), fc.boolean(), fc.boolean())
  .map(([groups, seps, v4, lead, trail]) => {
    let s = lead ? ':' : '';
    groups.forEach((g, i) => {
      s += g + (i < groups.length - 1 ? (seps[i] ?? ':') : '');
    });
    if (v4 !== undefined) s += `:${v4}`;
    return trail ? `${s}:` : s;
  });
/** A valid address with one character inserted, deleted or replaced. */
const mutated = fc
  .tuple(fc.oneof(fc.ipV6(), fc.ipV4()), fc.nat(), fc.constantFrom('', ':', '.', '0', 'f', 'g', '::', '%', ' '), fc.boolean())
  .map(([ip, at, ch, replace]) => {
    const i = at % (ip.length + 1);
    return ip.slice(0, i) + ch + ip.slice(i + (replace ? 1 : 0));
  });

describe('IpAddress agrees with net.isIP', () => {
  it('on valid addresses of both families', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (s) => {
        expect(isIP(s)).not.toBe(0);
        expect(IpAddress.is(s), s).toBe(nodeSays(s));
      }),
      { numRuns: 3000 },
    );
  });

  it('on near misses, mutations and random strings of address characters', () => {
    fc.assert(
      fc.property(fc.oneof(ipv6ish, ipv4ish, mutated, fc.ipV4Extended(), chars('0123456789abcdefABCDEF:.%g', 45)), (s) => {
        expect(IpAddress.is(s), JSON.stringify(s)).toBe(nodeSays(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('on the shapes of issue 14 and other edge cases, with a reason for each refusal', () => {
    const cases: Record<string, string | undefined> = {
      ':::::': '"::" may appear only once',
      '1:2:3:4': 'expected 8 groups, got 4',
      '1:2:3:4:5:6:7:8:9': 'expected 8 groups, got 9',
      '1:2:3:4:5:6:7:8::': 'more than 8 groups',
      '1:2:3:4:5:6:7::': '"::" at the end stands for a single group of zeros, which NGINX refuses; write it as 0',
      '1:2:3::5:6:7:8': undefined,
      '::2:3:4:5:6:7:8': undefined,
      '1::2::3': '"::" may appear only once',
      'fe80::1%eth0': 'zone ids (%…) are not allowed',
      '[::1]': 'not an IPv6 address',
      '1.2.3.4::': 'not an IPv6 address',
      '::ffff:1.2.3.256': 'not an IPv6 address',
      '12345::': 'not an IPv6 address',
      '256.1.1.1': 'octet above 255',
      '010.0.0.1': 'octet with a leading zero',
      '1.2.3': 'not an IP address',
      '': 'not an IP address',
      '::': undefined,
      '::1': undefined,
      '1::': undefined,
      '1:2:3:4:5:6::': undefined,
      '::ffff:10.0.0.1': undefined,
      '64:ff9b::192.0.2.33': undefined,
      '1:2:3:4:5:6:1.2.3.4': undefined,
      'FE80:0000:0000:0000:0202:B3FF:FE1E:8329': undefined,
      '0.0.0.0': undefined,
      '255.255.255.255': undefined,
    };
    for (const [s, why] of Object.entries(cases)) {
      expect(problem(s)?.replace(/^expected IPv4 or IPv6 address, got .*?: /, ''), JSON.stringify(s)).toBe(why);
      expect(IpAddress.is(s), s).toBe(nodeSays(s));
    }
  });
});

describe('every accepted address renders a config NGINX and HAProxy accept', () => {
  const EDGE = ['::', '::1', '1::', '1:2:3:4:5:6::', '::2:3:4:5:6:7:8', '1:2:3::5:6:7:8', '1:2::7:8', '::2:3:4:5:6:1.2.3.4', '::ffff:10.0.0.1', '64:ff9b::192.0.2.33', 'FE80::B3FF:FE1E:8329', '0.0.0.0', '255.255.255.255', '10.0.0.7'];

  function render(addresses: readonly string[]): { nginx: string; haproxy: string } {
    const snap = snapshot({
      services: [
        { name: 'web', networks: ['app'] },
        { name: 'vipsvc', networks: ['app'], vips: addresses.map((ip) => ({ network: 'app', ip })).slice(0, 1) },
        { name: 'hostsvc', networks: [], ports: [{ target: 80, published: 8080, mode: 'host' }] },
      ],
      tasks: addresses.flatMap((ip, i) => [
        { id: `t${i}`, service: 'web', state: 'running', desiredState: 'running', addresses: [{ network: 'app', ip }] },
        { id: `h${i}`, service: 'hostsvc', state: 'running', desiredState: 'running', node: `n${i}`, ports: [{ target: 80, published: 8080, mode: 'host' }] },
      ]),
      networks: [{ name: 'app' }],
      nodes: addresses.map((ip, i) => ({ id: `n${i}`, hostname: `node-${i}`, role: 'worker', addr: ip })),
    });
    const r = route('all', {
      hosts: ['a.test'],
      rules: [
        { backends: [{ service: 'web', port: 80 }] },
        { match: { pathPrefix: '/vip' }, backends: [{ service: 'vipsvc', port: 80, mode: 'vip' }] },
        { match: { pathPrefix: '/host' }, backends: [{ service: 'hostsvc', port: 80, mode: 'host' }] },
      ],
    });
    const nginx = buildModel(desired([r]), snap).clusters.find((m) => m.cluster === 'default');
    const haproxy = buildModel(desired([route('all', { ...r.spec, serviceCluster: 'hap' })], [cluster('hap', { proxy: { kind: 'haproxy' } })]), snap).clusters.find((m) => m.cluster === 'hap');
    if (nginx === undefined || haproxy === undefined) throw new Error('no model');
    for (const ip of addresses) expect(nginx.upstreams.some((u) => u.servers.some((s) => s.ip === ip)), ip).toBe(true);
    return { nginx: renderNginx(nginx), haproxy: renderHaproxy(haproxy) };
  }

  it('decodes every generated address into a snapshot (task, VIP and node alike)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()).filter((ip) => IpAddress.is(ip)), (ip) => {
        const r = decode(Snapshot, { services: [{ name: 's', vips: [{ network: 'n', ip }] }], tasks: [{ id: 't', service: 's', state: 'running', desiredState: 'running', addresses: [{ network: 'n', ip }] }], nodes: [{ id: 'n', hostname: 'h', role: 'worker', addr: ip }] });
        expect(E.isRight(r)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it.runIf(nginxAvailable())('nginx -t passes with the edge forms and generated addresses as task, VIP and node addresses', () => {
    const generated = fc.sample(fc.oneof(fc.ipV6(), fc.ipV4()), { numRuns: 60, seed: 14 }).filter((ip) => IpAddress.is(ip));
    for (const batch of [EDGE, [...new Set(generated)]]) {
      const check = nginxCheck(render(batch).nginx);
      expect(check.ok, check.output).toBe(true);
    }
  });

  it.runIf(haproxyAvailable())('haproxy -c passes with the same addresses', () => {
    const generated = fc.sample(fc.oneof(fc.ipV6(), fc.ipV4()), { numRuns: 60, seed: 14 }).filter((ip) => IpAddress.is(ip));
    for (const batch of [EDGE, [...new Set(generated)]]) {
      const check = haproxyCheck(render(batch).haproxy);
      expect(haproxyProblems(check.output)).toEqual([]);
      expect(check.ok, check.output).toBe(true);
    }
  });
});
