/**
 * Issue 14: every accepted input renders a config the proxy accepts.
 *
 * Each run generates a whole world (ServiceClusters of both proxy kinds, Routes, services carrying
 * Interlock labels) biased to the boundaries of every field: maximum lengths and counts, extreme
 * durations, sizes and weights, every character the escaping rules treat specially, many backends.
 * The candidates go through the codec like a user's specs (what `validate` refuses is dropped, as
 * the core would), then through the real pipeline (labels → buildModel → renderer), and every
 * rendered config must pass `nginx -t` or `haproxy -c`. One world batches many routes per check.
 *
 * SG_PROPERTY_RUNS=N runs more worlds (default: a few, fast in CI); SG_PROPERTY_SEED=S replays a
 * run; SG_PROPERTY_SHRINK=1 shrinks a failure to a minimal world (slow: every step runs the proxies).
 */
import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPath, type Issue } from '../../src/domain/issue';
import { decodeObject, type MiddlewareObject, type RouteObject, type ServiceClusterObject, type StreamRouteObject } from '../../src/domain/object';
import { ERROR_PAGE_STATUSES } from '../../src/domain/middleware';
import { HTTP_METHODS, RETRY_CONDITIONS } from '../../src/domain/route';
import { proxyRejects, renderClusters } from '../helpers/proxy-accepts';
import { desired, snapshot } from '../helpers/specs';

const RUNS = Number(process.env['SG_PROPERTY_RUNS'] ?? '8');
const SEED = process.env['SG_PROPERTY_SEED'] === undefined ? undefined : Number(process.env['SG_PROPERTY_SEED']);
/** Its first two worlds render TCP/UDP routes with targets (checked when it was chosen). */
const COVERAGE_SEED = 1;
/**
 * Worlds that once failed, replayed on every run (they stay meaningful while the generator keeps its
 * shape). 956638462: an HAProxy TLS listener passing TLS through rendered `bind :9001 ssl` with no
 * certificate, because Mustache found the HTTPS frontend's `tls` in the enclosing view.
 */
// -1270547616 (8th world): two rate limits with the same header and rate but other bursts (ADR 0050's session found it).
const REGRESSION_SEEDS: readonly { readonly seed: number; readonly path?: string }[] = [{ seed: 956638462 }, { seed: -1270547616, path: '7' }];
const SHRINK = process.env['SG_PROPERTY_SHRINK'] === '1';
/** SG_PROPERTY_DEBUG=1: print why generated candidates were refused (to keep the generator useful). */
const DEBUG = process.env['SG_PROPERTY_DEBUG'] === '1';

// ---------------------------------------------------------------------------------------------
// The cluster's world: services of every backend mode, secrets for TLS.

const LONG_SERVICE = `s${'x'.repeat(63)}`;
const SERVICES = ['alpha', 'beta', 'gamma', 'delta', 'v6', 'empty', LONG_SERVICE, ...Array.from({ length: 26 }, (_, i) => `w${i}`)];
const CERT = 'crt';
const KEY = `k${'y'.repeat(63)}`;
/** Error-page configs: labelled ones in the world, and one that is not (ConfigNotFound). */
const PAGES = ['outage.html', `p${'x'.repeat(63)}`, 'missing-page'];
/** Client-certificate CA bundle and CRL secrets: the punctuation a Swarm name allows, and the longest. */
const CLIENT_CA = 'clients_ca-v1.2.pem';
const CLIENT_CRL = `c${'r'.repeat(62)}l`;

function baseSnapshot(labelled: readonly { name: string; labels: Record<string, string> }[]) {
  const overlay = SERVICES.map((name) => ({
    name,
    networks: ['app'],
    vips: [{ network: 'app', ip: `10.9.${SERVICES.indexOf(name)}.250` }],
  }));
  const tasks = SERVICES.filter((s) => s !== 'empty').flatMap((s, i) =>
    s === 'v6'
      ? [{ id: `t6${i}`, service: s, state: 'running', desiredState: 'running', addresses: [{ network: 'app', ip: 'fd00::1' }] }]
      : [1, 2].map((n) => ({ id: `t${i}n${n}`, service: s, state: 'running', desiredState: 'running', addresses: [{ network: 'app', ip: `10.1.${i}.${n}` }] })),
  );
  const hostMode = { name: 'hostmode', ports: [{ target: 8080, published: 9000, mode: 'host' }], exposedPorts: [8080] };
  const hostTasks = [1, 2].map((n) => ({ id: `h${n}`, service: 'hostmode', node: `n${n}`, state: 'running', desiredState: 'running' }));
  const labelTasks = labelled.map((l, i) => ({ id: `l${i}`, service: l.name, state: 'running', desiredState: 'running', addresses: [{ network: 'app', ip: `10.5.${i}.1` }] }));
  return snapshot({
    services: [...overlay, hostMode, ...labelled.map((l, i) => ({ name: l.name, networks: ['app'], vips: [{ network: 'app', ip: `10.6.${i}.250` }], labels: l.labels }))],
    tasks: [...tasks, ...hostTasks, ...labelTasks],
    networks: [{ name: 'app' }],
    secrets: [{ name: CERT }, { name: KEY }, { name: CLIENT_CA }, { name: CLIENT_CRL }],
    configs: PAGES.filter((p) => p !== 'missing-page').map((name) => ({ name })),
    nodes: [1, 2].map((n) => ({ id: `n${n}`, hostname: `node-${n}`, role: 'worker', addr: `10.210.0.${n}` })),
  });
}

// ---------------------------------------------------------------------------------------------
// Field generators, each biased to its boundaries.

const printableChar = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
/** The characters some escaping rule treats specially, in NGINX or HAProxy. */
const special = fc.constantFrom('$', '"', '\\', "'", '#', '%', ';', '{', '}', ' ', '(', ')', '[', ']', '^', '|', '*', '?', '~');
const repeatTo = (unit: string, n: number): string => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

const durationGroup = fc.tuple(fc.integer({ min: 0, max: 99 }), fc.constantFrom('ms', 's', 'm', 'h'));
const duration = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('0s', '0ms', '1ms', '999ms', '500ms', '1s', '1s1s', '30m1h', '500ms1s', '7d', '6d23h59m59s999ms', '1s1m1h1d', '604800000ms', '000000001s', '1h30m', '59s1m', '000000000d') },
  { weight: 3, arbitrary: fc.array(durationGroup, { minLength: 1, maxLength: 5 }).map((gs) => gs.map(([n, u]) => `${n}${u}`).join('')) },
  // Up to 7d in one unit, any number of digits.
  { weight: 1, arbitrary: fc.constantFrom(['ms', 1], ['s', 1000], ['m', 60_000], ['h', 3_600_000], ['d', 86_400_000]).chain(([u, ms]) => fc.integer({ min: 0, max: Math.floor((7 * 86_400_000) / Number(ms)) }).map((n) => `${n}${String(u)}`)) },
);
const size = fc.constantFrom('0', '1', '512', '1k', '1K', '64m', '1g', '1G', '1024g', '1099511627776', '000000000001', '999999999999', '1048576k');

const label = fc.oneof(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?$/), fc.constant('a'.repeat(63)), fc.constant('0'));
/** A host unique to route `i`: short, wildcard, or exactly 253 characters. */
const host = (i: number) =>
  fc.oneof(
    label.map((l) => `r${i}-${l.slice(0, 50)}.test`),
    label.map((l) => `*.r${i}.${l}.test`),
    fc.constant(`${'a'.repeat(59)}${String(i).padStart(4, '0')}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`),
    fc.constant(`*.${'e'.repeat(59)}${String(i).padStart(4, '0')}.${'f'.repeat(63)}.${'g'.repeat(63)}.${'h'.repeat(59)}`),
  );

const segment = fc.stringMatching(/^[A-Za-z0-9._~+,:@=&-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
/** Match paths: no percent-encoding. The longest are all "+" and "." (3 bytes each in a regex). */
const matchPath = fc.oneof(
  { weight: 4, arbitrary: fc.array(segment, { minLength: 0, maxLength: 4 }).map((ss) => `/${ss.join('/')}`) },
  { weight: 1, arbitrary: fc.constantFrom(`/${repeatTo('+.', 1023)}`, `/${repeatTo('a', 1023)}`, `/${repeatTo('.+/', 1022)}`.replace(/\/\.?\/|\/$/g, '/x'), '/a.b/', '/~@:,=&+-_') },
);
/** Paths written out (rewrite, redirect): percent-encoded bytes too. */
const writtenPath = fc.oneof(matchPath, fc.constantFrom(`/${repeatTo('%41', 1023)}`, '/%2F%25', '/a%20b/'));
const headerName = fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,15}$/), fc.constant(`X-${'L'.repeat(62)}`), fc.constant('X-Forwarded-For'), fc.constant('Host'));
/** Header values: any printable text, and the worst cases for each escaping budget. */
const headerValue = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.oneof(printableChar, special), maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', repeatTo('$', 335), `${repeatTo('$', 334)}${repeatTo('a', 10)}`, repeatTo('"', 1024), repeatTo('\\', 1024), repeatTo('a$', 618), repeatTo('%{', 1024), repeatTo("#'", 1024)) },
);
const matchValue = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.oneof(printableChar, special), maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', repeatTo('$', 817), repeatTo('"\\', 817), `${repeatTo('.', 817)}aaa`, repeatTo('a', 1024)) },
);
const cookieChar = fc.constantFrom(...'!#$%&\'()*+-./0123456789:<=>?@ABCXYZ[]^_`abcxyz{|}~'.split(''));
const cookieValue = fc.oneof(fc.string({ unit: cookieChar, minLength: 1, maxLength: 30 }), fc.constantFrom(repeatTo('$', 817), repeatTo('a', 1024), '%{x}'));
const cookieName = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/), fc.constant(`c${'_'.repeat(63)}`));
const port = fc.oneof(fc.constantFrom(1, 80, 8080, 65535), fc.integer({ min: 1, max: 65535 }));
const weight = fc.oneof(fc.constantFrom(0, 1, 1000, 999), fc.integer({ min: 0, max: 1000 }));

const passiveHealthCheck = fc.record({ maxFails: fc.oneof(fc.constantFrom(0, 1, 100), fc.integer({ min: 0, max: 100 })), failTimeout: duration }, { requiredKeys: [] });

const overlayBackend = fc.record(
  { service: fc.constantFrom(...SERVICES), port, weight, mode: fc.constantFrom('task', 'vip'), network: fc.constant('app'), passiveHealthCheck },
  { requiredKeys: ['service', 'port'] },
);
const hostBackend = fc.record({ service: fc.constant('hostmode'), port: fc.constant(8080), weight, mode: fc.constant('host'), passiveHealthCheck }, { requiredKeys: ['service', 'port', 'mode'] });
const backendKey = (b: { service: string; port: number; mode?: string; network?: string }) => `${b.service}:${b.port}:${b.mode ?? 'task'}:${b.network ?? ''}`;
const backends = fc.oneof(
  { weight: 4, arbitrary: fc.uniqueArray(fc.oneof({ weight: 5, arbitrary: overlayBackend }, { weight: 1, arbitrary: hostBackend }), { minLength: 1, maxLength: 4, selector: backendKey }) },
  // Many backends, the extreme weights: 1 among many 1000s (a share that floors to 0).
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 32 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))).map(([n, tiny]) => SERVICES.filter((s) => s.startsWith('w') || s === 'alpha' || s === 'beta' || s === 'gamma').slice(0, n).map((service, j) => ({ service, port: 80, weight: j === tiny ? 1 : 1000 }))) },
);

/**
 * Backend protocols and backend TLS (issue 21): the same protocol on every backend of a rule, TLS with
 * the world's secrets and the longest names. Combinations the codec refuses (grpc with a rewrite or
 * websocket) are dropped like a user's invalid specs.
 */
const backendTls = fc.record(
  { caSecret: fc.constant(CERT), serverName: fc.constantFrom('backend.internal', `${'a'.repeat(63)}.${'b'.repeat(63)}.internal`), clientCertificate: fc.constant({ certSecret: CERT, keySecret: KEY }) },
  { requiredKeys: [] },
).filter((t) => t.caSecret === undefined || t.serverName !== undefined);
/** Route tls.clientCertificate (issue 21): both modes, with and without a CRL. */
const clientCertificate = fc.record({ mode: fc.constantFrom('Require', 'Request'), caSecret: fc.constant(CLIENT_CA), crlSecret: fc.constant(CLIENT_CRL) }, { requiredKeys: ['caSecret'] });
const protocolBackends = fc
  .tuple(backends, fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('http', 'https', 'grpc', 'grpcs') }), fc.option(backendTls))
  .map(([bs, protocol, tls]) =>
    protocol === undefined ? bs : bs.map((b) => ({ ...b, protocol, ...(tls !== null && (protocol === 'https' || protocol === 'grpcs') ? { tls } : {}) })),
  );
const grpcMatch = fc.record(
  {
    service: fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}(\.[A-Za-z_][A-Za-z0-9_]{0,8}){0,3}$/), fc.constant(`p.${'S'.repeat(253)}`)),
    method: fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/), fc.constant('M'.repeat(255))),
  },
  { requiredKeys: ['service'] },
);

const redirectUrl = fc.oneof(
  fc.tuple(fc.constantFrom('http', 'https'), label, fc.option(port, { nil: undefined }), fc.option(writtenPath, { nil: undefined }), fc.option(fc.stringMatching(/^[A-Za-z0-9._~%+,:@/=&-]{0,20}$/).filter((q) => !/%(?![0-9A-Fa-f]{2})/.test(q)), { nil: undefined })).map(
    ([scheme, h, p, path, q]) => `${scheme}://${h}.test${p !== undefined ? `:${p}` : ''}${path ?? ''}${q !== undefined ? `?${q}` : ''}`,
  ),
  fc.constant(`https://x.test/?${repeatTo('a%25', 4093 - 'https://x.test/?'.length)}`),
);
const headerPairs = (max: number) => fc.uniqueArray(fc.record({ name: headerName, value: headerValue }), { maxLength: max, selector: (h) => h.name.toLowerCase() });
const headerEdits = fc
  .record({ set: headerPairs(4), add: fc.array(fc.record({ name: headerName, value: headerValue }), { maxLength: 3 }), remove: fc.uniqueArray(headerName, { maxLength: 3, selector: (n) => n.toLowerCase() }) })
  .map((e) => {
    const used = new Set([...e.set, ...e.add].map((h) => h.name.toLowerCase()));
    return { ...e, remove: e.remove.filter((n) => !used.has(n.toLowerCase())) };
  });
/** Many edits at once: 32 set headers (the maximum), long names. */
const manyEdits = fc.constant({ set: Array.from({ length: 32 }, (_, i) => ({ name: `X-${'M'.repeat(58)}${String(i).padStart(4, '0')}`, value: `v${i}$` })), add: [], remove: [] });

/** Every condition a rule can have at once: 16 headers, 16 cookies, all 9 methods. */
const MAX_CONDITIONS = {
  headers: Array.from({ length: 16 }, (_, i) => ({ name: `X-H${i}-${'q'.repeat(58)}`, value: `${i}$"\\` })),
  cookies: Array.from({ length: 16 }, (_, i) => ({ name: `c${i}_${'k'.repeat(58)}`, value: `${i}$%{}` })),
  methods: [...HTTP_METHODS],
};
const match = fc.record(
  {
    pathPrefix: matchPath,
    path: matchPath,
    headers: fc.uniqueArray(fc.record({ name: headerName, value: matchValue }), { maxLength: 3, selector: (h) => h.name.toLowerCase() }),
    cookies: fc.uniqueArray(fc.record({ name: cookieName, value: cookieValue }), { maxLength: 2, selector: (c) => c.name }),
    methods: fc.uniqueArray(fc.constantFrom(...HTTP_METHODS), { maxLength: 9 }),
    grpc: grpcMatch,
    max: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  },
  { requiredKeys: ['max'] },
).map(({ max, ...m }) => (max ? { ...m, ...MAX_CONDITIONS } : m)).map(({ pathPrefix, ...m }) => (m.path === undefined && pathPrefix !== undefined ? { ...m, pathPrefix } : m))
  // A gRPC match stands for the path: keep it only on matches without one (else the rule is refused).
  .map(({ grpc, ...m }) => (grpc !== undefined && m.path === undefined && !('pathPrefix' in m) ? { ...m, grpc } : m));

const timeouts = fc.oneof(
  fc.record({ connect: duration, read: duration, send: duration }, { requiredKeys: [] }),
  // HAProxy has one server timeout: equal read and send are accepted by both proxies.
  fc.tuple(duration, duration).map(([connect, io]) => ({ connect, read: io, send: io })),
);
const retries = fc.record({ attempts: fc.integer({ min: 1, max: 10 }), on: fc.uniqueArray(fc.constantFrom(...RETRY_CONDITIONS.filter((c) => c !== 'http_429')), { minLength: 1, maxLength: 10 }) });
const sessionAffinity = fc.oneof(
  fc.record({ cookie: fc.record({ name: cookieName, ttl: duration, issuedBy: fc.constantFrom('Proxy', 'Application') }, { requiredKeys: ['name'] }) }),
  fc.constant({ clientIP: true }),
);

/** Middlewares m0..m3 (some maybe refused by the codec: a reference to them leaves the route out). */
const MIDDLEWARES = ['m0', 'm1', 'm2', 'm3'];
const cidr = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('0.0.0.0/0', '::/0', '255.255.255.255', '255.255.255.255/32', '::', '::ffff:1.2.3.4', 'fe80::/10', '2001:db8::/32', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', '10.0.0.0/8', '1:2:3:4:5:6:7::', '10.1.2.3/8') },
  { weight: 2, arbitrary: fc.ipV4() },
  { weight: 1, arbitrary: fc.ipV6() },
);
const cidrList = fc.oneof({ weight: 6, arbitrary: fc.uniqueArray(cidr, { minLength: 1, maxLength: 6 }) }, { weight: 1, arbitrary: fc.constant(Array.from({ length: 256 }, (_, i) => `10.${i}.0.0/16`)) });
const realm = fc.oneof(fc.string({ unit: fc.oneof(printableChar, special), minLength: 1, maxLength: 40 }), fc.constantFrom(repeatTo('$', 128), repeatTo("{;'#", 128), 'a'));
const basicAuth = fc.record({ secret: fc.constantFrom(CERT, KEY), realm, userHeader: headerName }, { requiredKeys: ['secret'] });
const rateLimit = fc.record(
  {
    average: fc.oneof(fc.constantFrom(1, 7, 1_000_000), fc.integer({ min: 1, max: 1_000_000 })),
    period: fc.constantFrom('1s', '1m'),
    burst: fc.oneof(fc.constant(0), fc.constantFrom(1, 1_000_000)),
    scope: fc.constantFrom('Replica', 'Cluster'),
    header: headerName,
  },
  { requiredKeys: ['average'] },
);
const connectionLimit = fc.record({ max: fc.constantFrom(1, 3, 65_535), scope: fc.constantFrom('Replica', 'Cluster') }, { requiredKeys: ['max'] });
const corsOrigin = fc.oneof(
  fc.tuple(fc.constantFrom('http', 'https'), fc.boolean(), label, fc.option(port, { nil: undefined })).map(([s, wild, l, p]) => `${s}://${wild ? '*.' : ''}${l}.test${p !== undefined ? `:${p}` : ''}`),
  fc.constant(`https://*.${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}:65535`),
);
const cors = fc.record(
  {
    allowOrigins: fc.oneof({ weight: 5, arbitrary: fc.array(corsOrigin, { minLength: 1, maxLength: 64 }) }, { weight: 1, arbitrary: fc.constant(['*']) }),
    allowMethods: fc.uniqueArray(fc.constantFrom(...HTTP_METHODS), { minLength: 1, maxLength: 9 }),
    allowHeaders: fc.array(headerName, { maxLength: 64 }),
    exposeHeaders: fc.array(headerName, { maxLength: 64 }),
    allowCredentials: fc.boolean(),
    maxAge: duration,
  },
  { requiredKeys: ['allowOrigins'] },
);
const maintenance = fc.record({ enabled: fc.boolean(), retryAfter: duration, message: headerValue }, { requiredKeys: [] });
const requestBody = fc.record({ maxSize: size, buffering: fc.boolean() }, { requiredKeys: [] });
const mimeType = fc.oneof(fc.constantFrom('application/json', 'text/css', 'image/svg+xml', `${'a'.repeat(22)}/${'b'.repeat(22)}`, `a/${'b'.repeat(43)}`), fc.stringMatching(/^[a-z0-9][a-z0-9_.+-]{0,10}\/[a-z0-9][a-z0-9_.+-]{0,10}$/));
const compression = fc.record({ types: fc.array(mimeType, { minLength: 1, maxLength: 32 }) });
const errorPage = fc.record({
  statuses: fc.uniqueArray(fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...ERROR_PAGE_STATUSES) }, { weight: 1, arbitrary: fc.constantFrom(418, 599) }), { minLength: 1, maxLength: 4 }),
  config: fc.constantFrom(...PAGES),
  contentType: mimeType,
}, { requiredKeys: ['statuses', 'config'] });
const errorPages = fc.record({ pages: fc.array(errorPage, { minLength: 1, maxLength: 3 }), upstream: fc.boolean() }, { requiredKeys: ['pages'] });
const middlewareSpec = fc.record({ ipAllow: cidrList, ipDeny: cidrList, basicAuth, rateLimit, connectionLimit, cors, maintenance, requestBody, compression, errorPages }, { requiredKeys: [] });
const middlewareRefs = fc.uniqueArray(fc.constantFrom(...MIDDLEWARES), { maxLength: 3 });

const proxyRule = fc
  .record(
    {
      match,
      backends: protocolBackends,
      split: fc.constant('Tasks'),
      rewrite: fc.oneof(fc.constant({ stripPrefix: true }), writtenPath.map((p) => ({ replacePrefix: p }))),
      websocket: fc.boolean(),
      timeouts,
      retries,
      sessionAffinity,
      requestHeaders: fc.oneof({ weight: 5, arbitrary: headerEdits }, { weight: 1, arbitrary: manyEdits }),
      responseHeaders: headerEdits,
      middlewares: middlewareRefs,
    },
    { requiredKeys: ['backends'] },
  )
  .map((r) => (r.split === 'Tasks' ? { ...r, backends: (r.backends as readonly { readonly weight?: number }[]).map((b) => ({ ...b, weight: Math.min(1, b.weight ?? 1) })) } : r))
  // gRPC rules cannot rewrite or upgrade: leave those out rather than lose the rule to the codec.
  .map(({ rewrite, websocket, ...r }) =>
    (r.backends as readonly { readonly protocol?: string }[]).some((b) => b.protocol === 'grpc' || b.protocol === 'grpcs') ? r : { ...r, ...(rewrite !== undefined ? { rewrite } : {}), ...(websocket !== undefined ? { websocket } : {}) },
  );

const redirectRule = fc.record(
  {
    match,
    redirect: fc.oneof(
      fc.record({ to: redirectUrl, code: fc.constantFrom(301, 302, 307, 308) }, { requiredKeys: ['to'] }),
      fc.record({ scheme: fc.constantFrom('http', 'https'), host: label.map((l) => `${l}.test`), port, path: writtenPath, code: fc.constantFrom(301, 302, 307, 308) }, { requiredKeys: ['path'] }),
    ),
    responseHeaders: headerEdits.map((e) => ({ ...e, remove: [] })),
    middlewares: middlewareRefs,
  },
  { requiredKeys: ['redirect'] },
);

const ruleKey = (r: { match?: { path?: string; pathPrefix?: string } }) => JSON.stringify([r.match?.path ?? null, (r.match?.pathPrefix ?? '/').replace(/\/+$/, '') || '/', r.match]);
const rules = fc.uniqueArray(fc.oneof({ weight: 3, arbitrary: proxyRule }, { weight: 1, arbitrary: redirectRule }), { minLength: 1, maxLength: 6, selector: ruleKey });
const CLUSTERS = ['default', 'c0', 'c1', 'c2'];

const httpRoute = (i: number) =>
  fc.record(
    {
      serviceCluster: fc.constantFrom(...CLUSTERS),
      hosts: fc.oneof(
        { weight: 8, arbitrary: fc.uniqueArray(host(i), { minLength: 1, maxLength: 3 }) },
        { weight: 1, arbitrary: fc.constant(Array.from({ length: 100 }, (_, k) => `h${k}.r${i}.many.test`)) },
      ),
      rules: fc.oneof(
        { weight: 12, arbitrary: rules },
        // The most rules a route may have, and the most header-matched rules a host may have.
        { weight: 1, arbitrary: fc.constant(Array.from({ length: 100 }, (_, j) => ({ match: { pathPrefix: `/many/${j}` }, backends: [{ service: 'alpha', port: 80 }] }))) },
        { weight: 1, arbitrary: fc.constant(Array.from({ length: 34 }, (_, j) => ({ match: { pathPrefix: `/many/${j % 3}`, headers: [{ name: 'X-Many', value: `${j}$` }] }, backends: [{ service: 'alpha', port: 80 }] }))) },
      ),
      tls: fc.oneof(
        fc.constant(undefined),
        fc.record(
          { mode: fc.constant('Terminate'), certificate: fc.constant({ certSecret: CERT, keySecret: KEY }), redirectHTTP: fc.boolean(), clientCertificate },
          { requiredKeys: ['mode', 'certificate', 'redirectHTTP'] },
        ),
      ),
      defaultBackend: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      middlewares: middlewareRefs,
    },
    { requiredKeys: ['hosts', 'rules'] },
  );
const passthroughRoute = (i: number) =>
  fc.record({
    serviceCluster: fc.constantFrom(...CLUSTERS),
    hosts: fc.uniqueArray(host(i), { minLength: 1, maxLength: 2 }),
    tls: fc.constant({ mode: 'Passthrough' }),
    rules: fc.tuple(backends, fc.boolean()).map(([bs, ip]) => [{ backends: bs, ...(ip ? { sessionAffinity: { clientIP: true } } : {}) }]),
  });

/** Listeners l0..l5 of fixed names (routes refer to them), ports at the boundaries, TCP and UDP sharing numbers. */
const LISTENERS = ['l0', 'l1', 'l2', 'l3', 'l4', 'l5'];
const listenerPort = fc.oneof(fc.constantFrom(1, 9000, 9001, 65535, 10445), fc.integer({ min: 1, max: 65535 }));
/** l0 TCP, l1 UDP on the same number, l2 TLS (ports at the boundaries), then up to three of any protocol. */
const listeners = fc
  .tuple(
    fc.constantFrom(2, 9000, 65535),
    fc.constantFrom(3, 9001, 65534),
    fc.subarray(LISTENERS.slice(3)).chain((names) => fc.tuple(...names.map((name) => fc.record({ name: fc.constant(name), port: listenerPort, protocol: fc.constantFrom('TCP', 'UDP', 'TLS') })))),
  )
  .map(([p, q, extra]) => [{ name: 'l0', port: p, protocol: 'TCP' }, { name: 'l1', port: p, protocol: 'UDP' }, { name: 'l2', port: q, protocol: 'TLS' }, ...extra]);

const clusterSpec = fc.record(
  {
    listeners,
    proxy: fc.record(
      {
        kind: fc.constantFrom('nginx', 'haproxy'),
        delivery: fc.constantFrom('rolling', 'hitless'),
        // Dynamic endpoints (ADR 0016, 0031): the Lua balancer / HAProxy's server slots; Static with rolling delivery.
        endpoints: fc.constantFrom('Static', 'Dynamic'),
        publish: fc.constantFrom({ http: 80, https: 443 }, { http: 1, https: 65535 }, { http: 8080, https: 8443 }),
      },
      { requiredKeys: ['kind'] },
    ),
    defaults: fc.record(
      {
        timeouts: timeouts,
        clientMaxBodySize: size,
        workerProcesses: fc.constantFrom('auto', '1', '64', 64, '01'),
        accessLog: fc.constantFrom(true, false, 'on', 'off'),
        middlewares: middlewareRefs,
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['proxy'] },
);

/** Interlock labels of one service, including every value shape the Route fields take. */
const interlockLabels = (i: number) =>
  fc
    .record(
      {
        hosts: fc.uniqueArray(host(100 + i), { minLength: 1, maxLength: 2 }).map((hs) => hs.join(',')),
        port: port.map(String),
        fail_timeout: fc.oneof(duration, fc.constantFrom('0', '1', '30')),
        max_fails: fc.integer({ min: 0, max: 100 }).map(String),
        context_root: matchPath.filter((p) => p.length < 1000),
        context_root_rewrite: fc.constantFrom('true', 'false'),
        sticky_session_cookie: cookieName,
        ip_hash: fc.constantFrom('true', 'false'),
        websocket_endpoints: fc.uniqueArray(matchPath.filter((p) => p.length < 200 && !p.includes(',')), { minLength: 1, maxLength: 2 }).map((ps) => ps.join(',')),
        backend_mode: fc.constantFrom('task', 'vip'),
        service_cluster: fc.constantFrom(...CLUSTERS),
        ssl_cert: fc.constant(CERT),
        ssl_only: fc.constantFrom('true', 'false'),
      },
      { requiredKeys: ['hosts', 'port'] },
    )
    .map((l) => {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(l)) if (v !== undefined) out[`com.docker.lb.${k}`] = v;
      if (l.ssl_cert !== undefined) out['com.docker.lb.ssl_key'] = KEY;
      if (l.sticky_session_cookie !== undefined) delete out['com.docker.lb.ip_hash'];
      if (l.context_root === undefined) delete out['com.docker.lb.context_root_rewrite'];
      return out;
    });

/** A TCPRoute or UDPRoute on any listener of any cluster: many are refused (protocol, conflicts), which is the point too. */
const streamBackends = fc.uniqueArray(fc.oneof({ weight: 5, arbitrary: overlayBackend }, { weight: 1, arbitrary: hostBackend }), { minLength: 1, maxLength: 4, selector: backendKey });
const streamCommon = { serviceCluster: fc.constantFrom(...CLUSTERS), backends: streamBackends, idleTimeout: duration };
const tcpRoute = (i: number) =>
  fc
    .record(
      {
        ...streamCommon,
        connectTimeout: duration,
        proxyProtocol: fc.boolean(),
        // A TCP listener, plain or terminating TLS; a TLS listener with SNI names; or any listener at all.
        on: fc.oneof(
          fc.constant({ listener: 'l0' }),
          fc.constant({ listener: 'l0', tls: { certificate: { certSecret: CERT, keySecret: KEY } } }),
          fc.uniqueArray(host(200 + i), { minLength: 1, maxLength: 3 }).map((hostnames) => ({ listener: 'l2', hostnames })),
          fc.constantFrom(...LISTENERS).map((listener) => ({ listener })),
        ),
      },
      { requiredKeys: ['on', 'backends'] },
    )
    .map(({ on, ...spec }) => ({ kind: 'TCPRoute', spec: { ...spec, ...on } }));
const udpRoute = fc
  .record({ ...streamCommon, listener: fc.oneof({ weight: 3, arbitrary: fc.constant('l1') }, { weight: 1, arbitrary: fc.constantFrom(...LISTENERS) }) }, { requiredKeys: ['listener', 'backends'] })
  .map((spec) => ({ kind: 'UDPRoute', spec }));

interface World {
  readonly streamRoutes: readonly { readonly kind: string; readonly spec: unknown }[];
  readonly middlewares: readonly unknown[];
  readonly clusters: readonly { readonly name: string; readonly spec: unknown }[];
  readonly routes: readonly unknown[];
  readonly labelled: readonly { readonly name: string; readonly labels: Record<string, string> }[];
}

const world: fc.Arbitrary<World> = fc.record({
  streamRoutes: fc.integer({ min: 0, max: 10 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => fc.oneof(tcpRoute(i), udpRoute)))),
  middlewares: fc.tuple(...MIDDLEWARES.map(() => middlewareSpec)),
  // c0..c2 are always declared (routes naming them are accepted); `default` only sometimes.
  clusters: fc.tuple(fc.option(clusterSpec, { nil: undefined }), clusterSpec, clusterSpec, clusterSpec).map((specs) =>
    specs.flatMap((spec, i) => (spec === undefined ? [] : [{ name: CLUSTERS[i] ?? 'default', spec }])),
  ),
  routes: fc.integer({ min: 1, max: 14 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => fc.oneof({ weight: 5, arbitrary: httpRoute(i) }, { weight: 1, arbitrary: passthroughRoute(i) })))),
  labelled: fc.integer({ min: 0, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => interlockLabels(i).map((labels) => ({ name: `lb${i}`, labels }))))),
});

// ---------------------------------------------------------------------------------------------

/** An issue without its index and value, to count why candidates are refused. */
const refusal = (i: Issue): string => `${formatPath(i.path).replace(/\[\d+\]/g, '[]')}: ${i.message.replace(/got .*?(: |$)/, '').slice(0, 80)}`;

interface Stats {
  refusals: Map<string, number>;
  worlds: number;
  candidates: number;
  accepted: number;
  rendered: number;
  /** TCPRoutes/UDPRoutes with a target, rendered as a listener's route. */
  streamRendered: number;
  configs: number;
  /** HAProxy configs rendered with dynamic endpoints (server slots), and those whose endpoints name a member. */
  haproxyDynamic: number;
  haproxyDynamicMembers: number;
}

/** The world's objects that the codec accepts (what `validate` and the core keep). */
function accepted(w: World, stats: Stats): { routes: RouteObject[]; clusters: ServiceClusterObject[]; middlewares: MiddlewareObject[]; streamRoutes: StreamRouteObject[] } {
  const streamRoutes: StreamRouteObject[] = [];
  w.streamRoutes.forEach((r, i) => {
    stats.candidates++;
    const d = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: r.kind, metadata: { name: `s${i}` }, spec: r.spec });
    if (E.isRight(d) && (d.right.kind === 'TCPRoute' || d.right.kind === 'UDPRoute')) streamRoutes.push(d.right);
    else if (DEBUG && E.isLeft(d)) for (const issue of d.left) stats.refusals.set(refusal(issue), (stats.refusals.get(refusal(issue)) ?? 0) + 1);
  });
  stats.accepted += streamRoutes.length;
  const routes: RouteObject[] = [];
  const clusters: ServiceClusterObject[] = [];
  const middlewares: MiddlewareObject[] = [];
  w.middlewares.forEach((spec, i) => {
    const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Middleware', metadata: { name: MIDDLEWARES[i] }, spec });
    if (E.isRight(r) && r.right.kind === 'Middleware') middlewares.push(r.right);
  });
  for (const c of w.clusters) {
    const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'ServiceCluster', metadata: { name: c.name }, spec: c.spec });
    if (E.isRight(r) && r.right.kind === 'ServiceCluster') clusters.push(r.right);
  }
  w.routes.forEach((spec, i) => {
    stats.candidates++;
    const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name: `r${i}` }, spec });
    if (E.isRight(r) && r.right.kind === 'Route') routes.push(r.right);
    else if (DEBUG && E.isLeft(r)) for (const issue of r.left) stats.refusals.set(refusal(issue), (stats.refusals.get(refusal(issue)) ?? 0) + 1);
  });
  stats.accepted += routes.length;
  return { routes, clusters, middlewares, streamRoutes };
}

describe('every accepted input renders a config the proxy accepts (issue 14)', () => {
  it(`holds over ${RUNS} generated worlds (nginx -t, haproxy -c)`, () => {
    const stats: Stats = { refusals: new Map(), worlds: 0, candidates: 0, accepted: 0, rendered: 0, streamRendered: 0, configs: 0, haproxyDynamic: 0, haproxyDynamicMembers: 0 };
    const started = Date.now();
    const holds = fc.property(world, (w) => {
        stats.worlds++;
        const { routes, clusters, middlewares, streamRoutes } = accepted(w, stats);
        const snap = baseSnapshot(w.labelled);
        const state = { ...desired(routes, clusters), middlewares: middlewares.map((object) => ({ object, generation: 1 })), streamRoutes: streamRoutes.map((object) => ({ object, generation: 1 })) };
        const { result, configs } = renderClusters(state, snap);
        stats.rendered += result.clusters.reduce((n, m) => n + m.routes.length, 0);
        stats.streamRendered += result.clusters.reduce((n, m) => n + (m.listeners ?? []).reduce((k, l) => k + l.routes.filter((r) => r.targets.length > 0).length, 0), 0);
        if (DEBUG)
          for (const conds of [...Object.values(result.conditions), ...Object.values(result.labelRoutes ?? {}).map((l) => l.conditions)])
            for (const c of conds) if (c.status === 'False') {
              const k = `model: ${c.type} ${c.reason} ${c.message.replace(/[0-9]+/g, "N").slice(0, 110)}`;
              stats.refusals.set(k, (stats.refusals.get(k) ?? 0) + 1);
            }
        stats.configs += configs.length;
        stats.haproxyDynamic += configs.filter((c) => c.kind === 'haproxy' && c.endpoints !== undefined).length;
        stats.haproxyDynamicMembers += configs.filter((c) => c.kind === 'haproxy' && /:\d+/.test(c.endpoints ?? '')).length;
        const rejected = configs.flatMap((c) => proxyRejects(c) ?? []);
        expect(rejected).toEqual([]);
      });
    fc.assert(holds, { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: !SHRINK, verbose: 1 });
    // A few random worlds may by chance hold no TCP/UDP route with a target (about one run in three
    // at 8 worlds), which made the coverage floor below flaky. Two worlds of a fixed seed known to
    // render stream routes keep the floor deterministic; the random worlds above still explore.
    if (SEED === undefined) {
      fc.assert(holds, { numRuns: 2, seed: COVERAGE_SEED, endOnFailure: !SHRINK, verbose: 1 });
      for (const { seed, path } of REGRESSION_SEEDS) fc.assert(holds, { numRuns: 1, seed, ...(path !== undefined ? { path } : {}), endOnFailure: !SHRINK, verbose: 1 });
    }
    const { refusals, ...counts } = stats;
    console.info(`proxy-accepts: ${JSON.stringify(counts)} in ${Date.now() - started} ms`);
    if (DEBUG) console.info([...refusals.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`).join('\n'));
    // The generator must keep producing accepted input, else the property proves nothing.
    expect(stats.accepted).toBeGreaterThan(stats.candidates / 3);
    expect(stats.rendered).toBeGreaterThan(0);
    // HAProxy with dynamic endpoints is among what the proxies checked (ADR 0031): every HAProxy cluster is rendered with slots too.
    expect(stats.haproxyDynamic).toBeGreaterThan(0);
    expect(stats.streamRendered).toBeGreaterThan(0);
  }, Math.max(120_000, RUNS * 10_000));
});
