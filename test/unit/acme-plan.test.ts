/**
 * ACME routes in the pure plan and the NGINX renderer: a route waits (left out, ResolvedRefs=False)
 * until the core holds its certificate, then terminates TLS with files from the agent's ACME
 * directory, never a mounted secret; every HTTP server of the cluster answers HTTP-01 tokens, also
 * through the route's HTTP→HTTPS redirect; clusters that cannot receive certificates refuse the
 * route. Every rendered config passes nginx -t with throw-away certificates at those paths.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { DesiredState } from '../../src/plan/inputs';
import { renderNginx } from '../../src/render/nginx/render';
import { ACME_FILE_PREFIX, validateFiles } from '../../src/validate/validate-files';
import type { IssuerObject } from '../../src/domain/object';
import { cluster, desired, object, route, snapshot, task } from '../helpers/specs';

const SNAP = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: [task('web', '10.0.0.2')], networks: [{ name: 'app' }] });
const ISSUER = object({
  apiVersion: 'swarmgate.io/v1',
  kind: 'Issuer',
  metadata: { name: 'pebble' },
  spec: { acme: { server: 'https://127.0.0.1:14000/dir', email: 'ops@example.com' }, solvers: [{ http01: {} }] },
}) as IssuerObject;
const HITLESS = cluster('edge', { proxy: { delivery: 'hitless' } });

function shop(extra: Record<string, unknown> = {}, clusterName = 'edge') {
  return route('shop', {
    serviceCluster: clusterName,
    hosts: ['shop.example.com'],
    tls: { mode: 'Terminate', redirectHTTP: true, certificate: { issuer: 'pebble' } },
    rules: [{ backends: [{ service: 'web', port: 80 }] }],
    ...extra,
  });
}

function withIssuers(d: DesiredState, issuers = [ISSUER]): DesiredState {
  return { ...d, issuers: issuers.map((object) => ({ object, generation: 1 })) };
}

function nginxOk(conf: string, files: readonly string[]): void {
  const v = validateFiles('nginx', [{ path: 'nginx.conf', content: conf }], { secrets: files.map((f) => `${ACME_FILE_PREFIX}${f}`) });
  expect(v.skipped).toBeUndefined();
  expect(v.output).not.toMatch(/emerg/);
  expect(v.ok).toBe(true);
}

describe('ACME routes in the plan', () => {
  it('waits for the certificate, answering HTTP-01 for its host on the default server meanwhile', () => {
    const r = buildModel(withIssuers(desired([shop()], [HITLESS])), SNAP, {});
    const conds = r.conditions['Route/shop'] ?? [];
    expect(conds.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'CertificateNotFound' });
    const m = r.clusters.find((c) => c.cluster === 'edge');
    expect(m?.virtualHosts).toEqual([]);
    expect(m?.acme).toEqual({ files: [] });
    if (m === undefined) throw new Error('no cluster edge');
    const conf = renderNginx(m);
    expect(conf).toContain('location ^~ "/.well-known/acme-challenge/"');
    expect(conf).toContain('alias "/run/swarmgate/acme/http01/"');
    nginxOk(conf, []);
  });

  it('serves with the delivered files once issued; the redirect spares the challenge path', () => {
    const r = buildModel(withIssuers(desired([shop()], [HITLESS])), SNAP, { acme: new Map([['shop', { dnsNames: ['shop.example.com'] }]]) });
    expect(r.conditions['Route/shop']?.find((c) => c.type === 'ResolvedRefs')?.status).toBe('True');
    const m = r.clusters.find((c) => c.cluster === 'edge');
    if (m === undefined) throw new Error('no cluster edge');
    expect(m.secrets).toEqual([]);
    expect(m.acme).toEqual({ files: ['acme-shop.crt', 'acme-shop.key'] });
    const conf = renderNginx(m);
    // The shared TLS server (ADR 0028) loads them by SNI name.
    expect(conf).toMatch(/map \$ssl_server_name \$sg_tls_cert \{[^}]*"shop\.example\.com" "\/run\/swarmgate\/acme\/acme-shop\.crt";/);
    expect(conf).toMatch(/map \$ssl_server_name \$sg_tls_key \{[^}]*"shop\.example\.com" "\/run\/swarmgate\/acme\/acme-shop\.key";/);
    expect(conf).toContain('if ($sg_https_redirect) {');
    expect(conf).not.toContain('if ($scheme = "http")');
    nginxOk(conf, m.acme?.files ?? []);
  });

  it('waits again when the certificate does not cover a host the route gained', () => {
    const r = buildModel(withIssuers(desired([shop({ hosts: ['shop.example.com', 'www.example.com'] })], [HITLESS])), SNAP, { acme: new Map([['shop', { dnsNames: ['shop.example.com'] }]]) });
    const resolved = r.conditions['Route/shop']?.find((c) => c.type === 'ResolvedRefs');
    expect(resolved).toMatchObject({ status: 'False', reason: 'CertificateNotFound' });
    expect(resolved?.message).toContain('"www.example.com"');
  });

  it('says IssuerNotFound for a missing issuer, and leaves the route out', () => {
    const r = buildModel(withIssuers(desired([shop()], [HITLESS]), []), SNAP, {});
    expect(r.conditions['Route/shop']?.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'IssuerNotFound' });
    expect(r.conditions['Route/shop']?.find((c) => c.type === 'CertificateReady')).toMatchObject({ status: 'False', reason: 'IssuerNotFound' });
  });

  it('refuses a wildcard host without a dns01 solver', () => {
    const r = buildModel(withIssuers(desired([shop({ hosts: ['*.example.com'] })], [HITLESS])), SNAP, {});
    const accepted = r.conditions['Route/shop']?.find((c) => c.type === 'Accepted');
    expect(accepted).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
    expect(accepted?.message).toContain('a wildcard needs a dns01 solver');
  });

  it('accepts an HAProxy cluster with hitless delivery (ADR 0032): pending until the certificate is issued', () => {
    const r = buildModel(withIssuers(desired([shop()], [cluster('edge', { proxy: { kind: 'haproxy', delivery: 'hitless' } })])), SNAP, {});
    expect(r.conditions['Route/shop']?.find((x) => x.type === 'Accepted')).toMatchObject({ status: 'True' });
    expect(r.conditions['Route/shop']?.find((x) => x.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'CertificateNotFound' });
  });

  it.each([
    ['a rolling cluster', cluster('edge', { proxy: { delivery: 'rolling' } }), /needs hitless delivery/],
    ['a rolling HAProxy cluster', cluster('edge', { proxy: { kind: 'haproxy', delivery: 'rolling' } }), /needs hitless delivery/],
  ])('refuses %s with UnsupportedValue', (_n, c, message) => {
    const r = buildModel(withIssuers(desired([shop()], [c])), SNAP, {});
    const accepted = r.conditions['Route/shop']?.find((x) => x.type === 'Accepted');
    expect(accepted).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
    expect(accepted?.message).toMatch(message);
  });

  it('gives the Issuer its Accepted condition', () => {
    const r = buildModel(withIssuers(desired([], [HITLESS])), SNAP, {});
    expect(r.conditions['Issuer/pebble']?.[0]).toMatchObject({ type: 'Accepted', status: 'True' });
  });
});
