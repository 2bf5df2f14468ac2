/**
 * The JSON Schemas in crds/ (what editors check while a user types) and the io-ts codecs in
 * src/domain (what swarmgate accepts) must agree. The test walks both trees in parallel:
 * - every object level: same property names, closed objects, `required` = the codec's required
 *   fields without a default, a description on every property;
 * - every defaulted field: the schema's `default` equals the value the codec fills in;
 * - every list: same item codec/schema and the same length bounds; every oneOf: the same enum;
 * - every leaf (brands, integers, literals, enums): a few hundred probe values (schema examples,
 *   bounds, strings generated from each `pattern` and mutations of them) must be accepted by
 *   both or rejected by both. Where JSON Schema cannot say what a brand checks (a sum of
 *   durations, a byte size, a length in UTF-16 units) the schema may be looser, never stricter.
 * Then Ajv (2020-12) validates the examples/ files, known-bad objects, and checks that filling
 * schema defaults into an object gives exactly what the codec decodes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import * as E from 'fp-ts/Either';
import * as fc from 'fast-check';
import type * as t from 'io-ts';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CookieValue, Duration, HeaderMatchValue, HeaderValue, LabelValue, MemorySize, RedirectUrl, Size } from '../../src/domain/brands';
import { DefaultCodec, ListCodec, MapCodec, OneOfCodec, StructCodec } from '../../src/domain/codec';
import { Cidr } from '../../src/domain/cidr';
import { AuthUrl, CorsOrigin } from '../../src/domain/middleware';
import { decodeObject, IssuerObject, MiddlewareObject, RouteObject, ServiceClusterObject, TcpRouteObject, UdpRouteObject } from '../../src/domain/object';
import { AcmeUrl, WebhookUrl } from '../../src/domain/issuer';
import { Redirect, REDIRECT_CODES } from '../../src/domain/route';

const ROOT = join(__dirname, '..', '..');

/** The subset of JSON Schema the crds use. */
interface Schema {
  readonly $id?: string;
  readonly $ref?: string;
  readonly $defs?: Readonly<Record<string, Schema>>;
  readonly title?: string;
  readonly description?: string;
  readonly type?: string;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly propertyNames?: Schema;
  readonly maxProperties?: number;
  readonly items?: Schema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly anyOf?: readonly Schema[];
}

interface SchemaDoc {
  readonly kind: 'Route' | 'ServiceCluster' | 'Middleware' | 'TCPRoute' | 'UDPRoute' | 'Issuer';
  readonly file: string;
  readonly root: Schema;
  readonly id: string;
  readonly codec: t.Mixed;
}

function loadSchema(file: string): Schema {
  return JSON.parse(readFileSync(join(ROOT, 'crds', file), 'utf8')) as Schema;
}

function makeDoc(kind: SchemaDoc['kind'], file: string, codec: t.Mixed): SchemaDoc {
  const root = loadSchema(file);
  if (root.$id === undefined) throw new Error(`${file} has no $id`);
  return { kind, file, root, id: root.$id, codec };
}

const DOCS: readonly SchemaDoc[] = [
  makeDoc('Route', 'route.schema.json', RouteObject),
  makeDoc('ServiceCluster', 'servicecluster.schema.json', ServiceClusterObject),
  makeDoc('Middleware', 'middleware.schema.json', MiddlewareObject),
  makeDoc('TCPRoute', 'tcproute.schema.json', TcpRouteObject),
  makeDoc('UDPRoute', 'udproute.schema.json', UdpRouteObject),
  makeDoc('Issuer', 'issuer.schema.json', IssuerObject),
];

const ajv = new Ajv2020({ allErrors: true, strict: true });
for (const doc of DOCS) ajv.addSchema(doc.root as object);

function schemaValidator(doc: SchemaDoc): ValidateFunction {
  const v = ajv.getSchema(doc.id);
  if (v === undefined) throw new Error(`schema ${doc.id} not registered`);
  return v;
}

const subValidators = new Map<string, ValidateFunction>();
/** A validator for the subschema at `pointer` (refs resolve against the whole document). */
function validatorAt(doc: SchemaDoc, pointer: string): ValidateFunction {
  const ref = `${doc.id}#${pointer}`;
  let v = subValidators.get(ref);
  if (v === undefined) {
    v = ajv.compile({ $ref: ref });
    subValidators.set(ref, v);
  }
  return v;
}

function at(root: Schema, pointer: string): Schema {
  let cur: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof cur !== 'object' || cur === null || !(seg in cur)) throw new Error(`no schema at ${pointer}`);
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur as Schema;
}

interface Node {
  readonly schema: Schema;
  readonly pointer: string;
}

function deref(doc: SchemaDoc, node: Node): Node {
  let cur = node;
  const seen = new Set<string>();
  while (cur.schema.$ref !== undefined) {
    const ref = cur.schema.$ref;
    if (!ref.startsWith('#/') || seen.has(ref)) throw new Error(`unsupported or cyclic $ref ${ref} at ${cur.pointer}`);
    seen.add(ref);
    cur = { schema: at(doc.root, ref.slice(1)), pointer: ref.slice(1) };
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------
// The parallel walk

interface Leaf {
  readonly doc: SchemaDoc;
  readonly path: string;
  readonly codec: t.Mixed;
  readonly node: Node;
}

interface WalkResult {
  readonly problems: string[];
  readonly leaves: Leaf[];
  /** Lists the schema declares uniqueItems (a rule the codec side enforces in *-checks.ts). */
  readonly uniqueLists: string[];
  objects: number;
}

/** `status` is free-form on both sides (the codec accepts anything and drops it). */
const STATUS_CODECS: ReadonlySet<t.Mixed> = new Set(
  [RouteObject.optional['status'], ServiceClusterObject.optional['status']].filter((c): c is t.Mixed => c !== undefined),
);

const sorted = (xs: readonly unknown[]): string[] => xs.map((x) => JSON.stringify(x)).sort();

function walk(doc: SchemaDoc, codec: t.Mixed, node: Node, path: string, out: WalkResult): void {
  const target = deref(doc, node);
  const s = target.schema;
  const problem = (msg: string): void => {
    out.problems.push(`${path} (${doc.file}#${target.pointer}): ${msg}`);
  };
  if (codec instanceof DefaultCodec) throw new Error(`walk() got an unwrapped default at ${path}`);

  if (codec instanceof StructCodec) {
    out.objects += 1;
    if (s.type !== 'object') problem(`type is ${String(s.type)}, expected object`);
    if (s.additionalProperties !== false) problem('additionalProperties must be false (the codec rejects unknown fields)');
    const props = s.properties ?? {};
    const schemaKeys = Object.keys(props).sort();
    const codecKeys = [...codec.knownKeys].sort();
    if (!isDeepStrictEqual(schemaKeys, codecKeys)) problem(`properties ${schemaKeys.join(',')} but codec fields ${codecKeys.join(',')}`);
    const codecRequired = Object.entries(codec.required)
      .filter(([, c]) => !(c instanceof DefaultCodec))
      .map(([k]) => k)
      .sort();
    const schemaRequired = [...(s.required ?? [])].sort();
    if (!isDeepStrictEqual(schemaRequired, codecRequired)) problem(`required [${schemaRequired.join(',')}] but codec requires [${codecRequired.join(',')}]`);
    for (const key of codecKeys) {
      const field = codec.required[key] ?? codec.optional[key];
      const prop = props[key];
      if (field === undefined || prop === undefined) continue;
      const propNode: Node = { schema: prop, pointer: `${target.pointer}/properties/${key}` };
      const where = `${path}.${key}`;
      if (typeof prop.description !== 'string' || prop.description.trim().length < 10) problem(`${key}: missing description`);
      const propTarget = deref(doc, propNode).schema;
      const hasDefault = 'default' in prop || 'default' in propTarget;
      const schemaDefault = 'default' in prop ? prop.default : propTarget.default;
      if (field instanceof DefaultCodec) {
        if (!hasDefault) problem(`${key}: the codec fills in ${JSON.stringify(field.value)} but the schema has no default`);
        else if (!isDeepStrictEqual(schemaDefault, field.value))
          problem(`${key}: schema default ${JSON.stringify(schemaDefault)} but the codec fills in ${JSON.stringify(field.value)}`);
        if (!validatorAt(doc, propNode.pointer)(field.value)) problem(`${key}: the codec's default does not validate against the schema`);
        walk(doc, field.inner, propNode, where, out);
      } else {
        if (hasDefault) problem(`${key}: schema default ${JSON.stringify(schemaDefault)} but the codec fills in nothing`);
        if (STATUS_CODECS.has(field)) continue;
        walk(doc, field, propNode, where, out);
      }
    }
    return;
  }

  if (codec instanceof ListCodec) {
    if (s.type !== 'array') problem(`type is ${String(s.type)}, expected array`);
    if (s.minItems !== codec.bounds.min) problem(`minItems ${String(s.minItems)} but codec min ${String(codec.bounds.min)}`);
    if (s.maxItems !== codec.bounds.max) problem(`maxItems ${String(s.maxItems)} but codec max ${String(codec.bounds.max)}`);
    if (s.uniqueItems === true) out.uniqueLists.push(path);
    if (s.items === undefined) {
      problem('no items schema');
      return;
    }
    walk(doc, codec.item, { schema: s.items, pointer: `${target.pointer}/items` }, `${path}[]`, out);
    return;
  }

  if (codec instanceof OneOfCodec) {
    if (s.type !== 'string') problem(`type is ${String(s.type)}, expected string`);
    if (s.enum === undefined || !isDeepStrictEqual(sorted(s.enum), sorted(codec.values)))
      problem(`enum ${JSON.stringify(s.enum)} but codec values ${JSON.stringify(codec.values)}`);
    out.leaves.push({ doc, path, codec, node: target });
    return;
  }

  if (codec instanceof MapCodec) {
    out.objects += 1;
    if (s.type !== 'object') problem(`type is ${String(s.type)}, expected object`);
    if (s.maxProperties !== codec.maxEntries) problem(`maxProperties ${String(s.maxProperties)} but codec allows ${codec.maxEntries}`);
    if (s.propertyNames === undefined) problem('no propertyNames schema for the keys');
    else out.leaves.push({ doc, path: `${path}{key}`, codec: codec.key, node: { schema: s.propertyNames, pointer: `${target.pointer}/propertyNames` } });
    if (typeof s.additionalProperties !== 'object') problem('no additionalProperties schema for the values');
    else out.leaves.push({ doc, path: `${path}{value}`, codec: codec.value, node: { schema: s.additionalProperties, pointer: `${target.pointer}/additionalProperties` } });
    return;
  }

  out.leaves.push({ doc, path, codec, node: target });
}

function walkDoc(doc: SchemaDoc): WalkResult {
  const out: WalkResult = { problems: [], leaves: [], uniqueLists: [], objects: 0 };
  walk(doc, doc.codec, { schema: doc.root, pointer: '' }, doc.kind, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Leaf probing

/**
 * Brands with a rule JSON Schema cannot state: the schema may accept a value the codec rejects,
 * but only for that rule, recognised by the codec's own message.
 */
const LOOSER: ReadonlyMap<t.Mixed, RegExp> = new Map<t.Mixed, RegExp>([
  [Duration, /longer than 7d$/], // a sum over the groups
  [Size, /larger than 1024g$/], // the bound depends on the unit
  [MemorySize, /Docker needs at least 4m$/], // the bound depends on the unit
  [LabelValue, /longer than 1024 characters$/], // UTF-16 units; JSON Schema counts code points
  [RedirectUrl, /(host|path): longer than (253|1024) characters$/], // lengths inside the URL
  // Bytes once escaped for nginx.conf: a weighted length JSON Schema cannot count.
  [HeaderValue, /bytes once escaped for nginx\.conf .*, at most \d+$/],
  [HeaderMatchValue, /bytes as an NGINX match pattern .*, at most \d+$/],
  [CookieValue, /bytes as an NGINX match pattern .*, at most \d+$/],
  // Host labels and port range inside an origin: the schema checks the shape only.
  [CorsOrigin, /(is not a lowercase hostname|port must be 1\.\.65535)/],
  // Address syntax (octets, groups, "::") and host bits: the schema checks the characters only.
  // The port range inside an ACME or webhook URL: the schema checks up to 5 digits.
  [AcmeUrl, /port must be 1\.\.65535$/],
  [WebhookUrl, /port must be 1\.\.65535$/],
  // Host labels, port range and path characters inside a forwardAuth URL: the schema checks the shape.
  [AuthUrl, /(is not a lowercase hostname or an IPv4 address|port must be 1\.\.65535|is not a valid URL path)/],
  [Cidr, /(not an IP(v6)? address|octet|groups|"::"|prefix length|host bits are set|zone ids|too long|more than one "\/")/],
]);

function codecMessage(codec: t.Mixed, u: unknown): string {
  const r = codec.decode(u);
  return E.isLeft(r) ? r.left.map((e) => e.message ?? '').join('; ') : '';
}

const redirectCode = Redirect.required['code'];
/** Leaves the schema states more strictly than the field codec because a cross-field check completes it. */
const CHECKED_LATER: ReadonlyMap<t.Mixed, (u: unknown) => boolean> = new Map(
  redirectCode instanceof DefaultCodec
    ? [[redirectCode.inner, (u: unknown): boolean => (REDIRECT_CODES as readonly unknown[]).includes(u)] as const]
    : [],
);

const GENERIC_PROBES: readonly unknown[] = [
  null, true, false, [], {}, ['a'], { a: 'b' },
  0, 1, -1, 0.5, 0.01, 0.001, 1.5, 2, 4, 63, 64, 65, 100, 101, 255, 256, 301, 303, 308, 1000, 1001, 1024, 1024.5, 65535, 65536, 1e21,
  '', ' ', 'a', 'A', '0', '1', '01', '-', '-a', 'a-', 'a_b', '*', '*.a', 'a.*.b', 'on', 'off', 'On', 'true', 'yes', 'auto', 'Auto',
  '1s', '1 s', '7d', '8d', '168h', '169h', '604800000ms', '604800001ms', '1h30m', '0s',
  '0', '1024g', '1025g', '1099511627776', '1099511627777', '3m', '4m', '4194303', '4194304', '4095k', '4096k', '1g', '0g',
  '/', '//', '/.', '/..', '/...', '/a/', '/%', '/%zz', '/%2F', 'http://a', 'https://a:0', 'https://a:65535/x?y', 'https://a#f',
  // Label lengths (63 is the most a DNS label may have) and URL ports around their bounds.
  'a'.repeat(63), 'a'.repeat(64), `${'a'.repeat(63)}.example.com`, `${'a'.repeat(64)}.example.com`, `*.${'a'.repeat(63)}.com`, `*.${'a'.repeat(64)}.com`,
  `example.${'a'.repeat(63)}`, `example.${'a'.repeat(64)}`, `*.a.${'b'.repeat(63)}`, `*.a.${'b'.repeat(64)}`, `https://a.${'b'.repeat(63)}/`, `https://a.${'b'.repeat(64)}/`,
  `a-${'b'.repeat(60)}c`, `a-${'b'.repeat(61)}c`, `https://${'a'.repeat(63)}.com/`, `https://${'a'.repeat(64)}.com/`,
  'https://a:1', 'https://a:00001', 'https://a:000001', 'https://a:65535', 'https://a:65536', 'https://a:65539', 'https://a:65599', 'https://a:99999', 'https://a:', 'https://a:080/',
  `https://${`${'a'.repeat(63)}.`.repeat(4)}com/`,
  `https://a/${'b'.repeat(1030)}`,
  'x'.repeat(300), 'é', '😀'.repeat(600), 'a\u0000b', 'a\u007fb', 'a\tb', 'a\u0085b',
];

const MUTATION_ALPHABET = [...'aZz09-._*/%:@?#=&~+, \t"\'!$é😀\u0000\u007f'];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every schema node reachable from a leaf (through $ref and anyOf). */
function leafNodes(doc: SchemaDoc, node: Node): Schema[] {
  const target = deref(doc, node).schema;
  const branches = (target.anyOf ?? []).flatMap((b, i) => leafNodes(doc, { schema: b, pointer: `${node.pointer}/anyOf/${i}` }));
  return [node.schema, target, ...branches];
}

function probesFor(doc: SchemaDoc, leaf: Leaf, seed: number): unknown[] {
  const nodes = leafNodes(doc, leaf.node);
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const out: unknown[] = [...GENERIC_PROBES];
  const strings: string[] = [];
  for (const n of nodes) {
    if ('const' in n) out.push(n.const);
    if ('default' in n) out.push(n.default);
    for (const v of [...(n.enum ?? []), ...(n.examples ?? [])]) {
      out.push(v);
      if (typeof v === 'string') strings.push(v, v.toLowerCase(), v.toUpperCase());
    }
    for (const bound of [n.minimum, n.maximum]) {
      if (bound !== undefined) out.push(bound, bound - 1, bound + 1, bound - 0.5, bound + 0.5, bound - 0.001, bound + 0.001);
    }
    if (n.pattern !== undefined) strings.push(...fc.sample(fc.stringMatching(new RegExp(n.pattern, 'u')), { numRuns: 150, seed }));
  }
  const lengths = nodes.flatMap((n) => [n.minLength, n.maxLength]).filter((x): x is number => x !== undefined);
  strings.forEach((s, n) => {
    out.push(s);
    const chars = [...s];
    // One random edit: insert, delete or replace a character.
    const i = Math.floor(random() * (chars.length + 1));
    const edited = [...chars];
    const op = random();
    if (op < 0.34) edited.splice(i, 0, pick(MUTATION_ALPHABET));
    else if (op < 0.67) edited.splice(i, 1);
    else edited.splice(i, 1, pick(MUTATION_ALPHABET));
    out.push(edited.join(''), s.toLowerCase(), s.toUpperCase(), s + s, `${s}.${s}`, `/${s}`);
    // Around each length bound, keep a prefix of the sample and cycle the rest (a few samples suffice).
    if (s.length > 0 && n < 40) {
      for (const len of lengths) {
        for (const target of [len - 1, len, len + 1]) {
          for (const keep of [0, 1, 2]) {
            const head = s.slice(0, keep);
            const tail = s.slice(keep) || s;
            if (target < head.length) continue;
            out.push(head + tail.repeat(Math.ceil((target - head.length) / tail.length) + 1).slice(0, target - head.length));
          }
          out.push(s.padEnd(target, s.slice(-1)));
        }
      }
    }
  });
  return out;
}

function codecAccepts(codec: t.Mixed, u: unknown): boolean {
  const decoded = E.isRight(codec.decode(u));
  const later = CHECKED_LATER.get(codec);
  return decoded && (later === undefined || later(u));
}

const show = (u: unknown): string => {
  const s = JSON.stringify(u) ?? String(u);
  return s.length > 90 ? `${s.slice(0, 87)}...` : s;
};

// ---------------------------------------------------------------------------------------------
// Objects

const route = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'swarmgate.io/v1',
  kind: 'Route',
  metadata: { name: 'shop' },
  spec: { hosts: ['shop.example.com'], rules: [{ backends: [{ service: 'web', port: 8080 }] }], ...spec },
  ...extra,
});
const cluster = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'swarmgate.io/v1',
  kind: 'ServiceCluster',
  metadata: { name: 'public' },
  spec,
  ...extra,
});

const RICH_ROUTE = route({
  serviceCluster: 'public',
  hosts: ['shop.example.com', '*.shop.example.com'],
  defaultBackend: true,
  tls: { mode: 'Terminate', certificate: { certSecret: 'shop.crt', keySecret: 'shop.key' }, redirectHTTP: true },
  rules: [
    {
      match: { pathPrefix: '/api', headers: [{ name: 'X-Canary', value: 'always' }], methods: ['GET', 'POST'] },
      rewrite: { stripPrefix: true },
      backends: [
        { service: 'api-v1', port: 8080, weight: 90 },
        { service: 'api-v2', port: 8080, weight: 10, mode: 'vip', network: 'api' },
      ],
      websocket: true,
      timeouts: { connect: '2s', read: '1h30m' },
      retries: { attempts: 3, on: ['error', 'http_502'] },
      sessionAffinity: { cookie: { name: 'sg_affinity' } },
      requestHeaders: { set: [{ name: 'X-From', value: 'swarmgate' }], remove: ['X-Debug'] },
      responseHeaders: { add: [{ name: 'Cache-Control', value: 'no-store' }] },
    },
    { match: { path: '/old' }, redirect: { to: 'https://www.example.com/new?x=1' } },
    { match: { pathPrefix: '/legacy' }, redirect: { scheme: 'https', host: 'example.com', port: 8443, path: '/v2', code: 308 } },
    { match: { pathPrefix: '/ip' }, backends: [{ service: 'web', port: 80 }], sessionAffinity: { clientIP: true } },
  ],
});

const RICH_CLUSTER = cluster({
  proxy: {
    kind: 'nginx',
    image: 'registry.example.com:5000/swarmgate/proxy:1.2.3',
    replicas: 3,
    constraints: ['node.role==worker', 'node.labels.edge == true'],
    placementPreferences: [{ spread: 'node.labels.zone' }],
    publish: { mode: 'host', http: 8080, https: 8443 },
    update: { order: 'stop-first', parallelism: 2, delay: '5s' },
    stopGracePeriod: '30s',
    resources: { limits: { cpus: 1, memory: '512m' }, reservations: { cpus: 0.25, memory: '128m' } },
  },
  extension: { replicas: 1, constraints: ['node.role==manager'] },
  networks: ['frontend', 'backoffice'],
  defaults: { timeouts: { read: '300s' }, clientMaxBodySize: '10m', workerProcesses: 4, accessLog: 'off' },
});

interface BadCase {
  readonly name: string;
  readonly object: Record<string, unknown>;
  /** Where the codec reports it (joined path of its first issue). */
  readonly codecPath: string;
}

const rule0 = (extra: Record<string, unknown>): Record<string, unknown> => ({ backends: [{ service: 'web', port: 8080 }], ...extra });

const mw = (spec: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: 'swarmgate.io/v1', kind: 'Middleware', metadata: { name: 'office' }, spec });

const BAD: readonly BadCase[] = [
  { name: 'Middleware without a behaviour', object: mw({}), codecPath: 'spec' },
  { name: 'Middleware with a mistyped address', object: mw({ ipAllow: ['10.0.0.0/8', '10.0.0.0 /8'] }), codecPath: 'spec.ipAllow.1' },
  { name: 'duplicate middleware reference', object: route({ middlewares: ['a', 'a'] }), codecPath: 'spec.middlewares.1' },
  { name: 'bad hostname (underscore)', object: route({ hosts: ['shop_front.example.com'] }), codecPath: 'spec.hosts.0' },
  { name: 'bad hostname (upper case)', object: route({ hosts: ['Shop.example.com'] }), codecPath: 'spec.hosts.0' },
  { name: 'wildcard not first', object: route({ hosts: ['a.*.example.com'] }), codecPath: 'spec.hosts.0' },
  { name: 'weight 1500', object: route({ rules: [{ backends: [{ service: 'web', port: 8080, weight: 1500 }] }] }), codecPath: 'spec.rules.0.backends.0.weight' },
  { name: 'unknown field', object: route({ rules: [{ backends: [{ service: 'web', port: 8080, wieght: 5 }] }] }), codecPath: 'spec.rules.0.backends.0.wieght' },
  { name: 'unknown top-level field', object: route({}, { extra: 1 }), codecPath: 'extra' },
  { name: 'missing hosts', object: { ...route({}), spec: { rules: [rule0({})] } }, codecPath: 'spec.hosts' },
  { name: 'empty hosts', object: route({ hosts: [] }), codecPath: 'spec.hosts' },
  { name: 'duplicate host', object: route({ hosts: ['a.example.com', 'a.example.com'] }), codecPath: 'spec.hosts.1' },
  { name: 'missing rules', object: { ...route({}), spec: { hosts: ['a.example.com'] } }, codecPath: 'spec.rules' },
  { name: 'port 0', object: route({ rules: [{ backends: [{ service: 'web', port: 0 }] }] }), codecPath: 'spec.rules.0.backends.0.port' },
  { name: 'unknown backend mode', object: route({ rules: [{ backends: [{ service: 'web', port: 80, mode: 'dnsrr' }] }] }), codecPath: 'spec.rules.0.backends.0.mode' },
  { name: 'lower-case method', object: route({ rules: [rule0({ match: { methods: ['get'] } })] }), codecPath: 'spec.rules.0.match.methods.0' },
  { name: 'duplicate method', object: route({ rules: [rule0({ match: { methods: ['GET', 'GET'] } })] }), codecPath: 'spec.rules.0.match.methods.1' },
  { name: 'relative path', object: route({ rules: [rule0({ match: { pathPrefix: 'api' } })] }), codecPath: 'spec.rules.0.match.pathPrefix' },
  { name: 'dot-dot path', object: route({ rules: [rule0({ match: { path: '/a/../b' } })] }), codecPath: 'spec.rules.0.match.path' },
  { name: 'bad duration', object: route({ rules: [rule0({ timeouts: { read: '5 s' } })] }), codecPath: 'spec.rules.0.timeouts.read' },
  { name: 'header name with underscore', object: route({ rules: [rule0({ match: { headers: [{ name: 'X_Canary', value: '1' }] } })] }), codecPath: 'spec.rules.0.match.headers.0.name' },
  { name: 'retries without attempts', object: route({ rules: [rule0({ retries: { on: ['error'] } })] }), codecPath: 'spec.rules.0.retries.attempts' },
  { name: 'redirect code 303', object: route({ rules: [{ redirect: { path: '/x', code: 303 } }] }), codecPath: 'spec.rules.0.redirect.code' },
  { name: 'redirect to with fragment', object: route({ rules: [{ redirect: { to: 'https://example.com/#top' } }] }), codecPath: 'spec.rules.0.redirect.to' },
  { name: 'tls without mode', object: route({ tls: { redirectHTTP: true } }), codecPath: 'spec.tls.mode' },
  { name: 'bad metadata name', object: route({}, { metadata: { name: 'Shop' } }), codecPath: 'metadata.name' },
  { name: 'label value not a string', object: route({}, { metadata: { name: 'shop', labels: { tier: 1 } } }), codecPath: 'metadata.labels.tier' },
  { name: 'wrong apiVersion', object: route({}, { apiVersion: 'swarmgate.io/v2' }), codecPath: 'apiVersion' },
  { name: 'replicas 101', object: cluster({ proxy: { replicas: 101 } }), codecPath: 'spec.proxy.replicas' },
  { name: 'unknown proxy field', object: cluster({ proxy: { replica: 3 } }), codecPath: 'spec.proxy.replica' },
  { name: 'duplicate network', object: cluster({ networks: ['a', 'a'] }), codecPath: 'spec.networks.1' },
  { name: 'accessLog yes', object: cluster({ defaults: { accessLog: 'yes' } }), codecPath: 'spec.defaults.accessLog' },
  { name: 'workerProcesses 65', object: cluster({ defaults: { workerProcesses: 65 } }), codecPath: 'spec.defaults.workerProcesses' },
  { name: 'workerProcesses "0"', object: cluster({ defaults: { workerProcesses: '0' } }), codecPath: 'spec.defaults.workerProcesses' },
  { name: 'cpus 0', object: cluster({ proxy: { resources: { limits: { cpus: 0 } } } }), codecPath: 'spec.proxy.resources.limits.cpus' },
  { name: 'bad memory unit', object: cluster({ proxy: { resources: { limits: { memory: '512x' } } } }), codecPath: 'spec.proxy.resources.limits.memory' },
  { name: 'bad constraint', object: cluster({ proxy: { constraints: ['role==worker'] } }), codecPath: 'spec.proxy.constraints.0' },
  { name: 'missing spec', object: { apiVersion: 'swarmgate.io/v1', kind: 'ServiceCluster', metadata: { name: 'x' } }, codecPath: 'spec' },
];

function validatorFor(u: Record<string, unknown>): ValidateFunction {
  const doc = DOCS.find((d) => d.kind === u['kind']) ?? DOCS[0];
  if (doc === undefined) throw new Error('no schema');
  return schemaValidator(doc);
}

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(e.name) ? [full] : [];
  });
}

// ---------------------------------------------------------------------------------------------

describe('crds/*.schema.json', () => {
  it.each(DOCS)('$file is a valid 2020-12 schema with $id, title and description', (doc) => {
    expect(ajv.validateSchema(doc.root as object)).toBe(true);
    expect(doc.id).toMatch(/^https:\/\/swarmgate\.io\/schemas\/v1\//);
    expect(doc.root.title).toEqual(expect.any(String));
    expect(doc.root.description).toEqual(expect.any(String));
    const status = doc.root.properties?.['status'];
    expect(status?.type).toBe('object');
    expect(status?.description).toMatch(/written by swarmgate only/i);
  });

  it.each(DOCS)('$file agrees with the codec field by field (names, required, enums, defaults, list bounds)', (doc) => {
    const result = walkDoc(doc);
    expect(result.problems).toEqual([]);
    expect(result.objects).toBeGreaterThan(doc.kind === 'Route' ? 15 : doc.kind === 'ServiceCluster' ? 12 : 2);
  });

  it.each(DOCS)('$file accepts and rejects the same leaf values as the codec', (doc) => {
    const { leaves } = walkDoc(doc);
    const seen = new Set<string>();
    const mismatches: string[] = [];
    const looserSeen = new Set<t.Mixed>();
    leaves.forEach((leaf, i) => {
      const key = `${leaf.node.pointer}|${leaf.codec.name}`;
      if (seen.has(key)) return;
      seen.add(key);
      const validate = validatorAt(doc, leaf.node.pointer);
      const looser = LOOSER.get(leaf.codec);
      for (const probe of probesFor(doc, leaf, 1000 + i)) {
        const bySchema = validate(probe);
        const byCodec = codecAccepts(leaf.codec, probe);
        if (bySchema === byCodec) continue;
        if (looser !== undefined && bySchema && !byCodec && looser.test(codecMessage(leaf.codec, probe))) {
          looserSeen.add(leaf.codec);
          continue;
        }
        mismatches.push(`${leaf.path}: ${show(probe)} ${bySchema ? 'accepted' : 'rejected'} by the schema, ${byCodec ? 'accepted' : 'rejected'} by the codec`);
      }
    });
    expect(mismatches.slice(0, 20)).toEqual([]);
    // Each looser leaf the document uses must really be looser somewhere; else drop it from LOOSER.
    const used = new Set(leaves.map((l) => l.codec).filter((c) => LOOSER.has(c)));
    expect([...used].filter((c) => !looserSeen.has(c)).map((c) => c.name)).toEqual([]);
  });

  it('declares uniqueItems only where a cross-field check rejects duplicates', () => {
    const unique = DOCS.flatMap((d) => walkDoc(d).uniqueLists).sort();
    expect(unique).toEqual(['Middleware.spec.forwardAuth.responseHeaders', 'Middleware.spec.ipAllow', 'Middleware.spec.ipDeny', 'Route.spec.hosts', 'Route.spec.middlewares', 'Route.spec.rules[].match.methods', 'Route.spec.rules[].middlewares', 'ServiceCluster.spec.defaults.middlewares', 'ServiceCluster.spec.networks', 'ServiceCluster.spec.proxy.clientAddress.trustedProxies']);
  });

  it('examples in the schemas are valid', () => {
    const bad: string[] = [];
    for (const doc of DOCS) {
      const visit = (s: Schema, pointer: string): void => {
        for (const ex of s.examples ?? []) if (!validatorAt(doc, pointer)(ex)) bad.push(`${doc.file}#${pointer}: ${show(ex)}`);
        for (const [k, v] of Object.entries(s.$defs ?? {})) visit(v, `${pointer}/$defs/${k}`);
        for (const [k, v] of Object.entries(s.properties ?? {})) visit(v, `${pointer}/properties/${k}`);
      };
      visit(doc.root, '');
    }
    expect(bad).toEqual([]);
  });
});

describe('schemas and decodeObject on whole objects', () => {
  it.each([
    ['minimal Route', route({})],
    ['rich Route', RICH_ROUTE],
    ['passthrough Route', route({ tls: { mode: 'Passthrough' }, rules: [{ backends: [{ service: 'vault', port: 8200 }], sessionAffinity: { clientIP: true } }] })],
    ['Route with status', route({}, { status: { conditions: [] } })],
    ['empty ServiceCluster spec', cluster({})],
    ['rich ServiceCluster', RICH_CLUSTER],
    ['ServiceCluster with string workers and on', cluster({ defaults: { workerProcesses: '8', accessLog: 'on' } })],
    ['Middleware with address lists', mw({ ipAllow: ['10.0.0.0/8', 'fd00::/8'], ipDeny: ['10.0.0.7'] })],
    ['Route and ServiceCluster naming middlewares', route({ middlewares: ['office'], rules: [{ backends: [{ service: 'web', port: 8080 }], middlewares: ['vpn'] }] })],
    ['ServiceCluster with default middlewares', cluster({ defaults: { middlewares: ['office'] } })],
  ])('%s is accepted by both', (_name, object) => {
    const validate = validatorFor(object);
    expect(validate(object) ? [] : validate.errors).toEqual([]);
    expect(decodeObject(object)).toEqual(E.right(expect.anything()));
  });

  it.each(BAD)('$name: rejected by the schema and by decodeObject', ({ object, codecPath }) => {
    const validate = validatorFor(object);
    expect(validate(object)).toBe(false);
    const decoded = decodeObject(object);
    expect(E.isLeft(decoded)).toBe(true);
    if (E.isLeft(decoded)) expect(decoded.left.map((i) => i.path.join('.'))).toContain(codecPath);
  });

  it.each([
    ['minimal Route', route({})],
    ['rich Route', RICH_ROUTE],
    ['empty ServiceCluster spec', cluster({})],
    ['partial ServiceCluster', cluster({ proxy: { replicas: 3, update: { order: 'stop-first' } }, defaults: { timeouts: { read: '300s' } } })],
    ['rich ServiceCluster', RICH_CLUSTER],
    ['ServiceCluster with listeners', cluster({ listeners: [{ name: 'db', port: 9000, protocol: 'TCP' }, { name: 'dns', port: 9000, protocol: 'UDP' }] })],
    ['minimal TCPRoute', { apiVersion: 'swarmgate.io/v1', kind: 'TCPRoute', metadata: { name: 'db' }, spec: { listener: 'db', backends: [{ service: 'pg', port: 5432 }] } }],
    ['TLS TCPRoute', { apiVersion: 'swarmgate.io/v1', kind: 'TCPRoute', metadata: { name: 'db' }, spec: { listener: 'db', tls: { certificate: { name: 'db' } }, proxyProtocol: true, backends: [{ service: 'pg', port: 5432, weight: 3 }] } }],
    ['minimal UDPRoute', { apiVersion: 'swarmgate.io/v1', kind: 'UDPRoute', metadata: { name: 'dns' }, spec: { listener: 'dns', backends: [{ service: 'dns', port: 53 }] } }],
  ])('%s: filling in schema defaults gives what the codec decodes', (_name, object) => {
    const filling = new Ajv2020({ strict: true, useDefaults: true });
    for (const doc of DOCS) filling.addSchema(doc.root as object);
    const doc = DOCS.find((d) => d.kind === object['kind']);
    const validate = doc === undefined ? undefined : filling.getSchema(doc.id);
    const filled: unknown = structuredClone(object);
    expect(validate?.(filled)).toBe(true);
    const decoded = decodeObject(object);
    if (E.isLeft(decoded)) throw new Error(decoded.left.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    // The codec turns "workerProcesses: 4" into "4" and "accessLog: off" into false; compare like for like.
    const normalise = (u: unknown): unknown =>
      JSON.parse(JSON.stringify(u, (k: string, v: unknown) => (k === 'workerProcesses' ? String(v) : k === 'accessLog' && typeof v === 'string' ? v === 'on' : v))) as unknown;
    expect(normalise(filled)).toEqual(normalise(decoded.right));
  });
});

describe('examples/', () => {
  it('every Route and ServiceCluster document validates against its schema', () => {
    const failures: string[] = [];
    for (const file of yamlFiles(join(ROOT, 'examples'))) {
      const docs = parseAllDocuments(readFileSync(file, 'utf8'));
      docs.forEach((yamlDoc, index) => {
        if (yamlDoc.errors.length > 0) {
          failures.push(`${file} document ${index + 1}: not YAML: ${yamlDoc.errors[0]?.message ?? ''}`);
          return;
        }
        const value: unknown = yamlDoc.toJS();
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
        const kind = (value as Record<string, unknown>)['kind'];
        const schemaDoc = DOCS.find((d) => d.kind === kind);
        if (schemaDoc === undefined) return;
        const validate = schemaValidator(schemaDoc);
        if (!validate(value))
          failures.push(
            `${file} document ${index + 1}: ${(validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('; ')}`,
          );
      });
    }
    expect(failures).toEqual([]);
  });
});
