/**
 * "No user string can add a directive", for the strings Route tls.clientCertificate brings into a
 * configuration: the CA bundle and CRL secret names (and the host they apply to). Whatever the codec
 * accepts renders into NGINX's server (ssl_client_certificate, ssl_crl) and HAProxy's TLS bind
 * (ca-file, crl-file) and frontend rules with exactly the structure of a plain value (same
 * directives, arguments, lines and words), and reaches both proxies intact. Values the codec refuses
 * are skipped, as `validate` would refuse them.
 */
import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeObject, type RouteObject, type ServiceClusterObject } from '../../src/domain/object';
import { buildModel } from '../../src/plan/build-model';
import { renderHaproxy } from '../../src/render/haproxy/render';
import { renderNginx } from '../../src/render/nginx/render';
import { haproxyShape, parseHaproxyConfig } from '../helpers/haproxy-check';
import { parseConfig, shape, type Directive } from '../helpers/nginx-tokens';
import { desired, snapshot, task } from '../helpers/specs';

interface Values {
  readonly host: string;
  readonly ca: string;
  readonly crl: string;
}

const PLAIN: Values = { host: 'a.example.com', ca: 'ca', crl: 'crl' };

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 30 });
const hostile = fc.constantFrom('"', ';', '}', '{', ' ', '$x', '${x}', '#', '\\', "'", '%[src]', '\n', '*', '.', '-', '_', '|');
const candidate = (valid: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    valid,
    printable,
    fc.tuple(valid, hostile, fc.nat({ max: 30 })).map(([v, bad, at]) => `${v.slice(0, at % (v.length + 1))}${bad}${v.slice(at % (v.length + 1))}`),
  );
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const swarmName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/);
const FIELDS: Record<keyof Values, fc.Arbitrary<string>> = {
  host: candidate(fc.oneof(label.map((l) => `${l}.example.com`), label.map((l) => `*.${l}.test`))),
  ca: candidate(swarmName),
  crl: candidate(swarmName),
};

function decoded<T>(kind: 'ServiceCluster' | 'Route', name: string, spec: unknown): T | undefined {
  const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind, metadata: { name }, spec });
  return E.isRight(r) && r.right.kind === kind ? (r.right as T) : undefined;
}

/** Both proxies' configs for one set of values; undefined when the codec refuses one of them. */
function render(v: Values): { nginx: string; haproxy: string } | undefined {
  const spec = (cluster: string) => ({
    serviceCluster: cluster,
    hosts: [v.host],
    tls: { mode: 'Terminate', certificate: { certSecret: 'edge.crt', keySecret: 'edge.key' }, clientCertificate: { caSecret: v.ca, crlSecret: v.crl } },
    rules: [{ backends: [{ service: 'app', port: 8080 }] }],
  });
  const clusters = [decoded<ServiceClusterObject>('ServiceCluster', 'edge', {}), decoded<ServiceClusterObject>('ServiceCluster', 'hap', { proxy: { kind: 'haproxy', publish: { http: 8081, https: 8444 } } })];
  const routes = [decoded<RouteObject>('Route', 'r', spec('edge')), decoded<RouteObject>('Route', 'h', spec('hap'))];
  if ([...clusters, ...routes].some((o) => o === undefined)) return undefined;
  const snap = snapshot({
    services: [{ name: 'app', networks: ['app'] }],
    tasks: [task('app', '10.1.0.1')],
    networks: [{ name: 'app' }],
    secrets: [...new Set(['edge.crt', 'edge.key', v.ca, v.crl])].map((name) => ({ name })),
  });
  const result = buildModel(desired(routes as RouteObject[], clusters as ServiceClusterObject[]), snap);
  // Every route must be served, else the test would compare configs without the value in them.
  for (const key of ['Route/r', 'Route/h']) expect((result.conditions[key] ?? []).map((c) => `${c.type}=${c.status}`), key).toContain('ResolvedRefs=True');
  const model = (name: string) => {
    const m = result.clusters.find((c) => c.cluster === name);
    if (m === undefined) throw new Error(`no model for ${name}`);
    return m;
  };
  return { nginx: renderNginx(model('edge')), haproxy: renderHaproxy(model('hap')) };
}

const plain = render(PLAIN);

describe('client-certificate strings in the configuration', () => {
  it('the plain rendering has the client-certificate settings', () => {
    expect(plain?.nginx).toContain('ssl_crl "/run/secrets/crl";');
    expect(plain?.haproxy).toContain('crl-file "/run/secrets/crl"');
  });

  it.each(Object.keys(FIELDS) as (keyof Values)[])('%s cannot change the structure of nginx.conf or haproxy.cfg, and reaches both intact', (field) => {
    if (plain === undefined) throw new Error('no plain rendering');
    const nginxShape = shape(parseConfig(plain.nginx));
    const haproxyPlainShape = haproxyShape(parseHaproxyConfig(plain.haproxy));
    let accepted = 0;
    fc.assert(
      fc.property(FIELDS[field], (value) => {
        const v = { ...PLAIN, [field]: value };
        // The other values must stay distinct from the generated one (a shared secret is one mount).
        if (field !== 'host' && (Object.entries(v).some(([k, x]) => k !== field && x === value) || value === 'edge.crt' || value === 'edge.key')) return;
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
        if (field === 'host') expect(nginxWords).toContain(value);
        if (field === 'ca' || field === 'crl') {
          expect(nginxWords).toContain(`/run/secrets/${value}`);
          expect(words).toContain(`/run/secrets/${value}`);
        }
      }),
      { numRuns: 150 },
    );
    expect(accepted).toBeGreaterThan(10);
  });
});
