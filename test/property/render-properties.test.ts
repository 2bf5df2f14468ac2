/**
 * Properties of the pure pipeline, over generated inputs:
 * - rendering is deterministic and independent of the order specs arrive in;
 * - no user string can add, remove or reshape an NGINX directive (checked by parsing the output,
 *   and by `nginx -t` on a sample);
 * - decode(encode(x)) = x for every valid object.
 */
import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeObject, encodeObject } from '../../src/domain/object';
import { buildModel } from '../../src/plan/build-model';
import { renderNginx } from '../../src/render/nginx/render';
import { nginxTest } from '../helpers/nginx-process';
import { findAll, parseConfig, shape } from '../helpers/nginx-tokens';
import { desired, route, snapshot, task } from '../helpers/specs';

const SERVICES = ['alpha', 'beta', 'gamma'];
const SNAPSHOT = snapshot({
  services: SERVICES.map((name) => ({ name, networks: ['app'] })),
  tasks: SERVICES.flatMap((s, i) => [task(s, `10.1.${i}.1`), task(s, `10.1.${i}.2`)]),
  networks: [{ name: 'app' }],
});

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const host = fc.tuple(fc.boolean(), fc.array(label, { minLength: 1, maxLength: 3 })).map(([wild, ls]) => `${wild ? '*.' : ''}${ls.join('.')}.test`);
const segment = fc.stringMatching(/^[A-Za-z0-9._~%+,:@=&-]{1,8}$/).filter((s) => s !== '.' && s !== '..' && !/%(?![0-9A-Fa-f]{2})/.test(s));
const path = fc.array(segment, { minLength: 0, maxLength: 3 }).map((ss) => `/${ss.join('/')}`);
const headerName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,15}$/);
/** Every printable ASCII character, including the ones that matter to NGINX: " \ $ ; { } # ' and spaces. */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const backend = fc.record({ service: fc.constantFrom(...SERVICES), port: fc.integer({ min: 1, max: 65535 }), weight: fc.integer({ min: 0, max: 1000 }) });

const proxyRule = fc.record(
  {
    match: fc.record({ pathPrefix: path, headers: fc.uniqueArray(fc.record({ name: headerName, value: headerValue }), { maxLength: 2, selector: (h) => h.name.toLowerCase() }) }),
    backends: fc.uniqueArray(backend, { minLength: 1, maxLength: 3, selector: (b) => `${b.service}:${b.port}` }),
    requestHeaders: fc.record({ set: fc.uniqueArray(fc.record({ name: headerName, value: headerValue }), { maxLength: 2, selector: (h) => h.name.toLowerCase() }) }),
    responseHeaders: fc.record({ add: fc.array(fc.record({ name: headerName, value: headerValue }), { maxLength: 2 }) }),
    websocket: fc.boolean(),
  },
  { requiredKeys: ['backends'] },
);
/** gRPC names mostly valid, sometimes not (the codec must refuse those): match.grpc and grpc/grpcs backends. */
const grpcName = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}(\.[A-Za-z_][A-Za-z0-9_]{0,6}){0,2}$/), fc.string({ maxLength: 12 }));
const grpcRule = fc.record({
  match: fc.record({ grpc: fc.record({ service: grpcName, method: grpcName }, { requiredKeys: ['service'] }) }),
  backends: fc.constantFrom('grpc', 'grpcs').chain((protocol) => fc.uniqueArray(backend.map((b) => ({ ...b, protocol })), { minLength: 1, maxLength: 2, selector: (b) => `${b.service}:${b.port}` })),
});
const redirectRule = fc.record({ match: fc.record({ path }), redirect: fc.record({ path, code: fc.constantFrom(301, 302, 307, 308) }) });

const routeSpec = fc.record({
  hosts: fc.uniqueArray(host, { minLength: 1, maxLength: 3 }),
  rules: fc.array(fc.oneof(proxyRule, redirectRule, grpcRule), { minLength: 1, maxLength: 4 }),
});

/** Generated specs can collide (same match twice); keep those the codec accepts, like a user would have to. */
function decodable(name: string, spec: unknown) {
  const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name }, spec });
  return E.isRight(r) && r.right.kind === 'Route' ? r.right : undefined;
}

function renderAll(routes: ReturnType<typeof route>[]): string {
  const result = buildModel(desired(routes), SNAPSHOT);
  return result.clusters.map((m) => renderNginx(m)).join('\n');
}

describe('rendering', () => {
  it('is deterministic and independent of input order', () => {
    fc.assert(
      fc.property(fc.array(routeSpec, { minLength: 1, maxLength: 4 }), (specs) => {
        const routes = specs.map((s, i) => decodable(`r${i}`, s)).filter((r) => r !== undefined);
        // Same creation time for all: ties are broken by name, never by arrival order.
        const state = (rs: typeof routes) => ({ routes: rs.map((object) => ({ object, generation: 1 })), clusters: [], rejected: [] });
        const a = buildModel(state(routes), SNAPSHOT).clusters.map((m) => renderNginx(m)).join('\n');
        const b = buildModel(state([...routes].reverse()), SNAPSHOT).clusters.map((m) => renderNginx(m)).join('\n');
        expect(b).toBe(a);
        expect(renderAll(routes)).toBe(renderAll(routes));
      }),
      { numRuns: 150 },
    );
  });

  it('never lets a header value change the configuration structure', () => {
    fc.assert(
      fc.property(headerValue, headerValue, headerName, (value, matchValue, name) => {
        const make = (v: string, mv: string) =>
          route('inj', {
            hosts: ['inj.test'],
            rules: [
              { match: { headers: [{ name: 'X-Match', value: mv }] }, backends: [{ service: 'alpha', port: 80 }] },
              {
                backends: [{ service: 'beta', port: 80 }],
                requestHeaders: { set: [{ name, value: v }], add: [{ name: 'X-Add', value: v }] },
                responseHeaders: { add: [{ name: 'X-Resp', value: v }] },
              },
            ],
          });
        const evil = parseConfig(renderAll([make(value, matchValue)]));
        const plain = parseConfig(renderAll([make('x', 'y')]));
        expect(shape(evil)).toBe(shape(plain));
        // The value reaches NGINX intact: after NGINX's own unquoting, only the $ workaround differs.
        const setter = findAll(evil, 'proxy_set_header').find((d) => d.args[0] === name);
        expect(setter?.args[1]?.replace(/\$\{sg_dollar\}/g, '$')).toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it('never lets a header value change the structure of a grpc_pass location either', () => {
    fc.assert(
      fc.property(headerValue, headerName, (value, name) => {
        const make = (v: string) =>
          route('inj', {
            hosts: ['inj.test'],
            rules: [{ match: { grpc: { service: 'pkg.Svc' } }, backends: [{ service: 'beta', port: 80, protocol: 'grpc' }], requestHeaders: { set: [{ name, value: v }] }, responseHeaders: { add: [{ name: 'X-Resp', value: v }] } }],
          });
        const evil = parseConfig(renderAll([make(value)]));
        expect(shape(evil)).toBe(shape(parseConfig(renderAll([make('x')]))));
        const setter = findAll(evil, 'grpc_set_header').find((d) => d.args[0] === name);
        expect(setter?.args[1]?.replace(/\$\{sg_dollar\}/g, '$')).toBe(value);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects, instead of rendering, gRPC service and method names that could leave the path', () => {
    const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 30 });
    fc.assert(
      fc.property(anyText, anyText, (service, method) => {
        const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name: 'x' }, spec: { hosts: ['g.test'], rules: [{ match: { grpc: { service, method } }, backends: [{ service: 'alpha', port: 80, protocol: 'grpc' }] }] } });
        if (E.isLeft(r)) return;
        expect(service).toMatch(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/);
        expect(method).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps arbitrary accepted strings inside their quotes (checked by nginx -t on a sample)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-prop-'));
    fc.assert(
      fc.property(headerValue, (value) => {
        const conf = renderNginx(
          buildModel(
            desired([route('q', { hosts: ['q.test'], rules: [{ backends: [{ service: 'alpha', port: 80 }], requestHeaders: { set: [{ name: 'X-V', value }] }, responseHeaders: { add: [{ name: 'X-R', value }] } }] })]),
            SNAPSHOT,
          ).clusters[0] ?? (() => { throw new Error('no cluster'); })(),
          { pidPath: join(dir, 'pid'), accessLogPath: join(dir, 'access.log') },
        );
        const file = join(dir, 'nginx.conf');
        writeFileSync(file, conf);
        const r = nginxTest(file);
        expect(r.output).toBe('');
        expect(r.ok).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('rejects, instead of rendering, strings that could break out of a hostname or path', () => {
    const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 30 });
    fc.assert(
      fc.property(anyText, anyText, (h, p) => {
        const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name: 'x' }, spec: { hosts: [h], rules: [{ match: { pathPrefix: p }, backends: [{ service: 'alpha', port: 80 }] }] } });
        if (E.isLeft(r)) return;
        expect(h).toMatch(/^(\*\.)?[a-z0-9.-]+$/);
        expect(p).toMatch(/^\/[A-Za-z0-9._~%+,:@/=&-]*$/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('codecs', () => {
  it('decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(routeSpec, (spec) => {
        const obj = decodable('roundtrip', spec);
        if (obj === undefined) return;
        const again = decodeObject(encodeObject(obj));
        expect(again).toEqual(E.right(obj));
      }),
      { numRuns: 300 },
    );
  });
});
