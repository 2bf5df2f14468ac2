/**
 * ACME routes on an HAProxy cluster (ADR 0032), pure plan + renderer + the shipped-bytes check: the
 * HTTP-01 rule answers from the token map before any redirect (also while the route waits for its
 * certificate), the issued certificate is a combined PEM under the certificate directory's `acme/`
 * built from the agent's ACME files (never a mounted secret) and listed in the crt-list; every
 * config passes haproxy -c in the validator's private root with throw-away files at those paths.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IssuerObject } from '../../src/domain/object';
import { buildModel } from '../../src/plan/build-model';
import type { DesiredState } from '../../src/plan/inputs';
import { crtListOfConfig } from '../../src/render/haproxy/crt-list';
import { pemFilesOfConfig } from '../../src/render/haproxy/pem-files';
import { renderHaproxy } from '../../src/render/haproxy/render';
import { buildPemFiles } from '../../src/validate/haproxy-pems';
import { ACME_FILE_PREFIX, validateFiles } from '../../src/validate/validate-files';
import { haproxyAvailable } from '../helpers/haproxy-check';
import { cluster, desired, object, route, snapshot, task } from '../helpers/specs';

const SNAP = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: [task('web', '10.0.0.2')], networks: [{ name: 'app' }] });
const ISSUER = object({
  apiVersion: 'swarmgate.io/v1',
  kind: 'Issuer',
  metadata: { name: 'pebble' },
  spec: { acme: { server: 'https://127.0.0.1:14000/dir', email: 'ops@example.com' }, solvers: [{ http01: {} }] },
}) as IssuerObject;
const EDGE = cluster('edge', { proxy: { kind: 'haproxy', delivery: 'hitless' } });
const shop = route('shop', { serviceCluster: 'edge', hosts: ['shop.example.com'], tls: { mode: 'Terminate', redirectHTTP: true, certificate: { issuer: 'pebble' } }, rules: [{ backends: [{ service: 'web', port: 80 }] }] });
const withIssuer = (d: DesiredState): DesiredState => ({ ...d, issuers: [{ object: ISSUER, generation: 1 }] });

function model(issued: boolean) {
  const r = buildModel(withIssuer(desired([shop], [EDGE])), SNAP, issued ? { acme: new Map([['shop', { dnsNames: ['shop.example.com'] }]]) } : {});
  const m = r.clusters.find((c) => c.cluster === 'edge');
  if (m === undefined) throw new Error('no cluster edge');
  return { m, conditions: r.conditions['Route/shop'] ?? [] };
}

function haproxyOk(config: string, files: readonly string[]): void {
  const v = validateFiles('haproxy', [{ path: 'haproxy.cfg', content: config }], { secrets: files.map((f) => `${ACME_FILE_PREFIX}${f}`) });
  expect(v.skipped).toBeUndefined();
  expect(v.output).not.toMatch(/ALERT/);
  expect(v.ok).toBe(true);
}

const TOKEN_RULE = 'http-request return status 200 content-type text/plain lf-string "%[path,map(/run/swarmgate/haproxy/acme-http01.map)]" if { path_beg /.well-known/acme-challenge/ } { path,map(/run/swarmgate/haproxy/acme-http01.map) -m found }';

describe.runIf(haproxyAvailable())('ACME routes on HAProxy', () => {
  it('waits for the certificate, answering HTTP-01 from the token map meanwhile', () => {
    const { m, conditions } = model(false);
    expect(conditions.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'True' });
    expect(conditions.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'CertificateNotFound' });
    const config = renderHaproxy(m);
    expect(config).toContain(TOKEN_RULE);
    haproxyOk(config, []);
  });

  it('serves the issued certificate from the crt-list as a PEM built from the ACME files; the token rule comes before the redirect', () => {
    const { m } = model(true);
    expect(m.secrets).toEqual([]);
    const config = renderHaproxy(m);
    const lines = config.split('\n').map((l) => l.trim());
    const tokenAt = lines.indexOf(TOKEN_RULE);
    const redirectAt = lines.findIndex((l) => l.startsWith('http-request redirect location "https://'));
    expect(tokenAt).toBeGreaterThan(0);
    expect(redirectAt).toBeGreaterThan(tokenAt);
    // Any other challenge path: 404 (NGINX's answer), right after the token rule, before the redirect.
    expect(lines[tokenAt + 2]).toBe('http-request return status 404 content-type text/plain string "not a pending ACME challenge token" if { path_beg /.well-known/acme-challenge/ }');
    expect(config).toContain('#   crt "/run/swarmgate/haproxy/certs/acme/acme-shop.crt+acme-shop.key.pem" shop.example.com');
    expect(pemFilesOfConfig(config)).toEqual([{ path: '/run/swarmgate/haproxy/certs/acme/acme-shop.crt+acme-shop.key.pem', certSecret: 'acme-shop.crt', keySecret: 'acme-shop.key', acme: true }]);
    haproxyOk(config, m.acme?.files ?? []);
  });

  it("builds the combined PEM from the agent's ACME directory, not from the secrets", () => {
    const { m } = model(true);
    const dir = mkdtempSync(join(tmpdir(), 'sg-haproxy-acme-'));
    const [certDir, secrets, acme] = [join(dir, 'certs'), join(dir, 'secrets'), join(dir, 'acme')];
    mkdirSync(acme);
    writeFileSync(join(acme, 'acme-shop.crt'), 'CERT\n');
    writeFileSync(join(acme, 'acme-shop.key'), 'KEY\n');
    const config = renderHaproxy(m, { certDir });
    expect(buildPemFiles(config, certDir, secrets, '', acme)).toEqual({ ok: true, output: '' });
    expect(readFileSync(join(certDir, 'acme', 'acme-shop.crt+acme-shop.key.pem'), 'utf8')).toBe('CERT\nKEY\n');
    expect(crtListOfConfig(config, certDir)?.content).toBe(`${certDir}/acme/acme-shop.crt+acme-shop.key.pem shop.example.com\n`);
    // Not yet delivered: a clear message, no secret name confusion.
    const other = join(dir, 'other-certs');
    const r = buildPemFiles(renderHaproxy(m, { certDir: other }), other, secrets, '', join(dir, 'empty'));
    expect(r.ok).toBe(false);
    expect(r.output).toContain('ACME file "acme-shop.crt"');
  });
});
