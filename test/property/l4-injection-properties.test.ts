/**
 * "No user string can add a directive", for every user string a listener or a layer-4 route brings
 * into a configuration: SNI hostnames, certificate secret names, listener, route and service names.
 * Whatever the codec accepts renders into NGINX's stream block and HAProxy's tcp frontends with
 * exactly the structure of a plain value (same directives, arguments, lines and words), and
 * reaches the proxy intact. Values the codec refuses are skipped, as `validate` would refuse them.
 */
import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeObject, type ServiceClusterObject, type StreamRouteObject } from '../../src/domain/object';
import { buildModel } from '../../src/plan/build-model';
import { renderHaproxy } from '../../src/render/haproxy/render';
import { renderNginx } from '../../src/render/nginx/render';
import { haproxyShape, parseHaproxyConfig } from '../helpers/haproxy-check';
import { parseConfig, shape, type Directive } from '../helpers/nginx-tokens';
import { snapshot } from '../helpers/specs';

interface Values {
  readonly host: string;
  readonly cert: string;
  readonly key: string;
  readonly listener: string;
  readonly route: string;
  readonly service: string;
}

const PLAIN: Values = { host: 'a.example.com', cert: 'crt', key: 'key', listener: 'sni', route: 'r', service: 'svc' };

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 30 });
const hostile = fc.constantFrom('"', ';', '}', '{', ' ', '$x', '${x}', '#', '\\', "'", '%[src]', '\n', '*', '.', '-', '_');
/** A plain-looking value with a hostile character spliced in, printable text, or a valid shape. */
const candidate = (valid: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    valid,
    printable,
    fc.tuple(valid, hostile, fc.nat({ max: 30 })).map(([v, bad, at]) => `${v.slice(0, at % (v.length + 1))}${bad}${v.slice(at % (v.length + 1))}`),
  );

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const FIELDS: Record<keyof Values, fc.Arbitrary<string>> = {
  host: candidate(fc.oneof(label.map((l) => `${l}.example.com`), label.map((l) => `*.${l}.test`))),
  cert: candidate(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/)),
  key: candidate(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/)),
  listener: candidate(label),
  route: candidate(label),
  service: candidate(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/)),
};

function decoded<K extends 'ServiceCluster' | 'TCPRoute'>(kind: K, name: string, spec: unknown): (K extends 'ServiceCluster' ? ServiceClusterObject : StreamRouteObject) | undefined {
  const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind, metadata: { name }, spec });
  return E.isRight(r) && r.right.kind === kind ? (r.right as K extends 'ServiceCluster' ? ServiceClusterObject : StreamRouteObject) : undefined;
}

/** Both proxies' configs for one set of values; undefined when the codec refuses one of them. */
function render(v: Values): { nginx: string; haproxy: string } | undefined {
  const listeners = [
    { name: v.listener, port: 9001, protocol: 'TLS' },
    { name: `${v.listener}-t`, port: 9000, protocol: 'TCP' },
  ];
  const nginxCluster = decoded('ServiceCluster', 'edge', { listeners });
  const haproxyCluster = decoded('ServiceCluster', 'hap', { proxy: { kind: 'haproxy', publish: { http: 8081, https: 8444 } }, listeners: listeners.map((l) => ({ ...l, port: l.port + 100 })) });
  const routes = (cluster: string) => [
    decoded('TCPRoute', v.route, { serviceCluster: cluster, listener: v.listener, hostnames: [v.host], backends: [{ service: v.service, port: 5432, weight: 3 }, { service: 'other', port: 5432 }] }),
    decoded('TCPRoute', `${v.route}-t`, { serviceCluster: cluster, listener: `${v.listener}-t`, tls: { certificate: { certSecret: v.cert, keySecret: v.key } }, proxyProtocol: true, backends: [{ service: v.service, port: 5432 }] }),
  ];
  const all = [...routes('edge'), ...routes('hap')];
  if (nginxCluster === undefined || haproxyCluster === undefined || all.some((r) => r === undefined)) return undefined;
  const snap = snapshot({
    services: [{ name: v.service, networks: ['app'] }, { name: 'other', networks: ['app'] }],
    tasks: [
      { id: 't1', service: v.service, state: 'running', desiredState: 'running', addresses: [{ network: 'app', ip: '10.1.0.1' }] },
      { id: 't2', service: 'other', state: 'running', desiredState: 'running', addresses: [{ network: 'app', ip: '10.1.0.2' }] },
    ],
    networks: [{ name: 'app' }],
    secrets: [{ name: v.cert }, { name: v.key }],
  });
  const result = buildModel(
    { routes: [], clusters: [nginxCluster, haproxyCluster].map((object, i) => ({ object, generation: 1, createdAt: `2026-01-01T00:00:0${i}Z` })), rejected: [], streamRoutes: all.map((object) => ({ object: object as StreamRouteObject, generation: 1 })) },
    snap,
  );
  const model = (name: string) => {
    const m = result.clusters.find((c) => c.cluster === name);
    if (m === undefined) throw new Error(`no model for ${name}`);
    return m;
  };
  // Every route must be served, else the test would compare configs without the value in them.
  for (const [key, conds] of Object.entries(result.conditions))
    if (key.startsWith('TCPRoute/')) expect(conds.map((c) => `${c.type}=${c.status}`), key).toEqual(['Accepted=True', 'ResolvedRefs=True']);
  return { nginx: renderNginx(model('edge')), haproxy: renderHaproxy(model('hap')) };
}

const plain = render(PLAIN);

describe('layer-4 strings in the configuration', () => {
  it('the plain rendering exists', () => {
    expect(plain).toBeDefined();
  });

  it.each(Object.keys(FIELDS) as (keyof Values)[])('%s cannot change the structure of nginx.conf or haproxy.cfg, and reaches both intact', (field) => {
    if (plain === undefined) throw new Error('no plain rendering');
    const nginxShape = shape(parseConfig(plain.nginx));
    const haproxyPlainShape = haproxyShape(parseHaproxyConfig(plain.haproxy));
    let accepted = 0;
    fc.assert(
      fc.property(FIELDS[field], (value) => {
        const v = { ...PLAIN, [field]: value };
        // The other values must stay distinct from the generated one (a clash is a different structure).
        if (field !== 'host' && Object.entries(v).some(([k, x]) => k !== field && x === value)) return;
        if (field === 'service' && value === 'other') return;
        const out = render(v);
        if (out === undefined) return;
        accepted++;
        const nginx = parseConfig(out.nginx);
        const haproxy = parseHaproxyConfig(out.haproxy);
        expect(shape(nginx)).toBe(nginxShape);
        expect(haproxyShape(haproxy)).toBe(haproxyPlainShape);
        const words = haproxy.flatMap((l) => l.words);
        const flat = (ds: readonly Directive[]): string[] => ds.flatMap((d) => [d.name, ...d.args, ...flat(d.block ?? [])]);
        const nginxWords = flat(nginx);
        if (field === 'host') {
          expect(nginxWords).toContain(value);
          expect(words).toContain(value.startsWith('*.') ? value.slice(1) : value);
        }
        if (field === 'cert' || field === 'key') {
          expect(nginxWords).toContain(`/run/secrets/${value}`);
          expect(words.some((w) => w.endsWith(field === 'cert' ? `/${value}+key.pem` : `/crt+${value}.pem`))).toBe(true);
        }
        if (field === 'listener') expect(words).toContain(`sg_l4_${value}`);
        if (field === 'route') expect(words.some((w) => w.startsWith(`l4.t.${value}.`))).toBe(true);
      }),
      { numRuns: 150 },
    );
    // The generator must produce accepted values, else the property proves nothing.
    expect(accepted).toBeGreaterThan(10);
  });
});
