/**
 * Stored certificates (tls.certificate.name) in the pure layers: the route codec's two forms, the
 * snapshot mapping of certificate secrets, the plan resolving a name to its newest complete version
 * (a new version changes the rendered config), and the expiry warning at its 14-day boundary.
 */
import * as E from 'fp-ts/Either';
import { describe, expect, it } from 'vitest';
import { SwarmName } from '../../src/domain/brands';
import { decodeObject } from '../../src/domain/object';
import { checkRoute } from '../../src/domain/route-checks';
import { LABELS } from '../../src/domain/labels';
import type { SecretInfo } from '../../src/observed/docker-port';
import { toSnapshot } from '../../src/observed/to-snapshot';
import { buildModel } from '../../src/plan/build-model';
import { certificateSecretName, certificateVersions, EXPIRY_WARNING_DAYS, expiryState, nameCoversHost, uncoveredHosts } from '../../src/plan/certificates';
import { renderNginx } from '../../src/render/nginx/render';
import { desired, route, snapshot, task } from '../helpers/specs';

const NOT_AFTER = '2026-06-30T12:00:00Z';
const DAY = 86_400_000;

/** Snapshot secrets of one stored version (both parts unless `parts` says otherwise). */
/** `notAfter: null`: a version whose expiry is unknown. */
function version(name: string, v: number, notAfter: string | null = NOT_AFTER, parts: readonly ('cert' | 'key')[] = ['cert', 'key']) {
  return parts.map((part) => ({ name: certificateSecretName(name, v, part), certificate: { name, version: v, part, ...(notAfter !== null ? { notAfter } : {}) } }));
}

function snap(secrets: unknown[]) {
  return snapshot({
    services: [{ name: 'web', networks: ['app'] }],
    tasks: [task('web', '10.0.1.5')],
    networks: [{ name: 'app' }],
    secrets,
  });
}

const shop = (extra: Record<string, unknown> = {}, name = 'shop', hosts = ['shop.test']) =>
  route(name, { hosts, tls: { mode: 'Terminate', certificate: { name: 'shop' }, ...extra }, rules: [{ backends: [{ service: 'web', port: 80 }] }] });

const conditionsOf = (r: ReturnType<typeof buildModel>, name = 'shop') => r.conditions[`Route/${name}`] ?? [];

describe('tls.certificate forms', () => {
  const decodeRoute = (certificate: unknown) => {
    const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name: 'r' }, spec: { hosts: ['a.test'], tls: { mode: 'Terminate', certificate }, rules: [{ backends: [{ service: 'web', port: 80 }] }] } });
    if (E.isLeft(r)) return r.left.map((i) => `${i.path.join('.')}: ${i.message}`);
    return r.right.kind === 'Route' ? checkRoute(r.right.spec).map((i) => `${i.path.join('.')}: ${i.message}`) : [];
  };

  it('accepts a name alone and both secrets alone', () => {
    expect(decodeRoute({ name: 'shop' })).toEqual([]);
    expect(decodeRoute({ certSecret: 'a.crt', keySecret: 'a.key' })).toEqual([]);
  });

  it('rejects mixed and incomplete forms at the field at fault', () => {
    expect(decodeRoute({ name: 'shop', keySecret: 'a.key' })).toEqual(['spec.tls.certificate.keySecret: use either name (a certificate stored with swarmgate tls apply) or certSecret and keySecret, not both']);
    expect(decodeRoute({ keySecret: 'a.key' })).toEqual(['spec.tls.certificate.certSecret: required with keySecret (the Docker secret holding the certificate)']);
    expect(decodeRoute({})).toEqual(['spec.tls.certificate: expected name (a certificate stored with swarmgate tls apply), issuer (an Issuer that orders one by ACME) or certSecret and keySecret (Docker secrets)']);
  });

  it('keeps certificate names short enough for their versioned secret names', () => {
    const longest = 'a'.repeat(40);
    expect(decodeRoute({ name: longest })).toEqual([]);
    expect(decodeRoute({ name: `${longest}b` })[0]).toMatch(/^spec\.tls\.certificate\.name: .*longer than 40 characters$/);
    const secret = certificateSecretName(longest, 999_999_999, 'key');
    expect(secret.length).toBeLessThanOrEqual(64);
    expect(SwarmName.is(secret)).toBe(true);
  });
});

describe('snapshot of certificate secrets', () => {
  const owned = (name: string, labels: Record<string, string>): SecretInfo => ({
    ID: `id-${name}`,
    Spec: { Name: name, Labels: { [LABELS.owner]: 'swarmgate', [LABELS.role]: 'certificate', ...labels } },
  });
  const labels = (part: string, v = '2') => ({ [LABELS.certificate]: 'shop', [LABELS.certificateVersion]: v, [LABELS.certificatePart]: part, [LABELS.notAfter]: NOT_AFTER });

  it('reads name, version, part and notAfter from the labels of owned certificate secrets only', () => {
    const { snapshot: s, dropped } = toSnapshot({
      services: [], tasks: [], networks: [], nodes: [],
      secrets: [
        owned('sg-cert-shop-v2.crt', labels('cert')),
        // Same labels, not owned: a user's secret is never taken for a stored certificate.
        { ID: 'x', Spec: { Name: 'mine.crt', Labels: { ...labels('cert'), [LABELS.role]: 'certificate' } } },
      ],
    });
    expect(dropped).toEqual([]);
    expect(s.secrets).toEqual([
      { name: 'mine.crt' },
      { name: 'sg-cert-shop-v2.crt', certificate: { name: 'shop', version: 2, part: 'cert', notAfter: NOT_AFTER } },
    ]);
  });

  it('keeps a secret whose certificate labels are bad by name, and says why', () => {
    const { snapshot: s, dropped } = toSnapshot({ services: [], tasks: [], networks: [], nodes: [], secrets: [owned('sg-cert-shop-v07.crt', labels('cert', '07'))] });
    expect(s.secrets).toEqual([{ name: 'sg-cert-shop-v07.crt' }]);
    expect(dropped).toEqual([expect.stringMatching(/^secret "sg-cert-shop-v07\.crt" certificate labels: version: expected integer/)]);
  });
});

describe('buildModel with stored certificates', () => {
  it('uses the newest complete version and ignores a newer one still missing its key', () => {
    const r = buildModel(desired([shop()]), snap([...version('shop', 1), ...version('shop', 2), ...version('shop', 3, NOT_AFTER, ['cert'])]));
    const vh = r.clusters[0]?.virtualHosts[0];
    expect(vh?.tls).toEqual({ certSecret: 'sg-cert-shop-v2.crt', keySecret: 'sg-cert-shop-v2.key', redirectHTTP: false });
    expect(r.clusters[0]?.secrets).toEqual(['sg-cert-shop-v2.crt', 'sg-cert-shop-v2.key']);
    expect(conditionsOf(r).map((c) => `${c.type}=${c.status}`)).toEqual(['Accepted=True', 'ResolvedRefs=True']);
  });

  it('a new version changes the rendered config to the new secret files', () => {
    const before = renderNginx(buildModel(desired([shop()]), snap(version('shop', 1))).clusters[0] ?? (undefined as never));
    const after = renderNginx(buildModel(desired([shop()]), snap([...version('shop', 1), ...version('shop', 2)])).clusters[0] ?? (undefined as never));
    expect(before).toContain('/run/secrets/sg-cert-shop-v1.crt');
    expect(after).toContain('/run/secrets/sg-cert-shop-v2.crt');
    expect(after).toContain('/run/secrets/sg-cert-shop-v2.key');
    expect(after).not.toContain('sg-cert-shop-v1');
  });

  it('leaves a route whose certificate is not stored out, with CertificateNotFound', () => {
    const r = buildModel(desired([shop(), route('plain', { hosts: ['plain.test'], rules: [{ backends: [{ service: 'web', port: 80 }] }] })]), snap(version('other', 1)));
    expect(r.clusters[0]?.virtualHosts.map((v) => v.host)).toEqual(['plain.test']);
    const resolved = conditionsOf(r).find((c) => c.type === 'ResolvedRefs');
    expect(resolved?.reason).toBe('CertificateNotFound');
    expect(resolved?.message).toContain('swarmgate tls apply shop');
  });

  it('reports a missing certificate as CertificateNotFound, not as a TLS conflict with a route on the same host', () => {
    const explicit = route('first', { hosts: ['shop.test'], tls: { mode: 'Terminate', certificate: { certSecret: 'a.crt', keySecret: 'a.key' } }, rules: [{ backends: [{ service: 'web', port: 80 }] }] });
    const named = route('shop', { hosts: ['shop.test'], tls: { mode: 'Terminate', certificate: { name: 'shop' } }, rules: [{ match: { pathPrefix: '/x' }, backends: [{ service: 'web', port: 80 }] }] });
    const r = buildModel(desired([explicit, named]), snap([{ name: 'a.crt' }, { name: 'a.key' }]));
    expect(conditionsOf(r).map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(['Accepted=True/Accepted', 'ResolvedRefs=False/CertificateNotFound']);
  });

  it('lets two routes share a host with the same stored certificate, as they would with the same secrets', () => {
    const second = route('shop-api', { hosts: ['shop.test'], tls: { mode: 'Terminate', certificate: { name: 'shop' } }, rules: [{ match: { pathPrefix: '/api' }, backends: [{ service: 'web', port: 80 }] }] });
    const r = buildModel(desired([shop(), second]), snap(version('shop', 1)));
    expect(conditionsOf(r, 'shop-api').find((c) => c.type === 'Accepted')?.status).toBe('True');
  });
});

describe('certificate expiry', () => {
  const end = Date.parse(NOT_AFTER);
  const at = (ms: number) => buildModel(desired([shop()]), snap(version('shop', 4)), { now: new Date(ms) });
  const warning = (ms: number) => conditionsOf(at(ms)).find((c) => c.type === 'CertificateExpiring');

  it('warns from exactly 14 days before notAfter, not a millisecond earlier', () => {
    expect(EXPIRY_WARNING_DAYS).toBe(14);
    expect(warning(end - 14 * DAY - 1)).toBeUndefined();
    const w = warning(end - 14 * DAY);
    expect(w).toMatchObject({ status: 'True', reason: 'ExpiresSoon' });
    expect(w?.message).toBe('certificate "shop" (version 4) expires at 2026-06-30T12:00:00Z, within 14 days: store a renewed pair with swarmgate tls apply shop');
  });

  it('is still ExpiresSoon at notAfter itself and Expired just after', () => {
    expect(warning(end)?.reason).toBe('ExpiresSoon');
    expect(warning(end + 1)).toMatchObject({ status: 'True', reason: 'Expired' });
    expect(warning(end + 1)?.message).toMatch(/expired at 2026-06-30T12:00:00Z; clients reject it/);
  });

  it('keeps an expiring route served (the warning changes nothing else)', () => {
    const r = at(end + DAY);
    expect(r.clusters[0]?.virtualHosts.map((v) => v.host)).toEqual(['shop.test']);
    expect(conditionsOf(r).map((c) => c.type)).toEqual(['Accepted', 'ResolvedRefs', 'CertificateExpiring']);
  });

  it('judges nothing without now, nor for versions of unknown expiry or for explicit secrets', () => {
    expect(conditionsOf(buildModel(desired([shop()]), snap(version('shop', 4)))).map((c) => c.type)).toEqual(['Accepted', 'ResolvedRefs']);
    expect(conditionsOf(buildModel(desired([shop()]), snap(version('shop', 4, null)), { now: new Date(end + DAY) })).map((c) => c.type)).toEqual(['Accepted', 'ResolvedRefs']);
    const explicit = route('shop', { hosts: ['shop.test'], tls: { mode: 'Terminate', certificate: { certSecret: 'sg-cert-shop-v4.crt', keySecret: 'sg-cert-shop-v4.key' } }, rules: [{ backends: [{ service: 'web', port: 80 }] }] });
    expect(conditionsOf(buildModel(desired([explicit]), snap(version('shop', 4)), { now: new Date(end + DAY) })).map((c) => c.type)).toEqual(['Accepted', 'ResolvedRefs']);
  });

  it('judges the current version, not an older one that expires sooner', () => {
    const s = snap([...version('shop', 1, '2026-01-01T00:00:00Z'), ...version('shop', 2, NOT_AFTER)]);
    const r = buildModel(desired([shop()]), s, { now: new Date('2026-01-02T00:00:00Z') });
    expect(conditionsOf(r).some((c) => c.type === 'CertificateExpiring')).toBe(false);
    expect(certificateVersions(s.secrets).get('shop')?.map((v) => v.version)).toEqual([2, 1]);
  });

  it('expiryState counts whole days left', () => {
    expect(expiryState(NOT_AFTER, new Date(end - 3 * DAY - 5))).toEqual({ kind: 'expiring', daysLeft: 3 });
    expect(expiryState(NOT_AFTER, new Date(end - 15 * DAY))).toEqual({ kind: 'valid' });
  });
});

describe('certificate names against route hosts', () => {
  it.each([
    ['shop.test', 'shop.test', true],
    ['SHOP.test', 'shop.TEST', true],
    ['*.shop.test', 'a.shop.test', true],
    ['*.shop.test', 'shop.test', false],
    ['*.shop.test', 'a.b.shop.test', false],
    ['*.shop.test', '*.shop.test', true],
    ['a.shop.test', '*.shop.test', false],
    ['*.test', 'shop.test', true],
    ['other.test', 'shop.test', false],
  ])('%s covers %s: %s', (name, host, covers) => {
    expect(nameCoversHost(name, host)).toBe(covers);
    expect(uncoveredHosts([name], [host])).toEqual(covers ? [] : [host]);
  });

  const withNames = (dnsNames: string[] | undefined) =>
    version('shop', 1).map((s) => ({ ...s, certificate: { ...s.certificate, ...(dnsNames !== undefined ? { dnsNames } : {}) } }));

  it('warns with CertificateMismatch on a route the stored certificate does not cover, and keeps it served', () => {
    const r = buildModel(desired([shop({}, 'shop', ['shop.test', 'www.shop.test', 'api.shop.test'])]), snap(withNames(['shop.test', '*.shop.example', 'www.shop.test'])));
    expect(r.clusters[0]?.virtualHosts.map((v) => v.host)).toEqual(['api.shop.test', 'shop.test', 'www.shop.test']);
    const mismatch = conditionsOf(r).find((c) => c.type === 'CertificateMismatch');
    expect(mismatch).toMatchObject({ status: 'True', reason: 'HostNotCovered' });
    expect(mismatch?.message).toBe(
      'certificate "shop" version 1 (DNS names shop.test, *.shop.example, www.shop.test) does not cover "api.shop.test"; clients reject it there: store a certificate whose names cover every host (swarmgate tls apply shop --cert FILE --key FILE)',
    );
  });

  it('says nothing when every host is covered, or when the names are unknown (stored before they were recorded)', () => {
    expect(conditionsOf(buildModel(desired([shop()]), snap(withNames(['*.test'])))).map((c) => c.type)).toEqual(['Accepted', 'ResolvedRefs']);
    expect(conditionsOf(buildModel(desired([shop()]), snap(withNames(undefined)))).map((c) => c.type)).toEqual(['Accepted', 'ResolvedRefs']);
    expect(conditionsOf(buildModel(desired([shop()]), snap(withNames([])))).map((c) => c.type)).toEqual(['Accepted', 'ResolvedRefs', 'CertificateMismatch']);
  });

  it('reads the names from the label, leaving out names no route host can have', () => {
    const { snapshot: s, dropped } = toSnapshot({
      services: [], tasks: [], networks: [], nodes: [],
      secrets: [{ ID: 'c', Spec: { Name: 'sg-cert-shop-v1.crt', Labels: { [LABELS.owner]: 'swarmgate', [LABELS.role]: 'certificate', [LABELS.certificate]: 'shop', [LABELS.certificateVersion]: '1', [LABELS.certificatePart]: 'cert', [LABELS.dnsNames]: 'shop.test,10.0.0.1,a.*.test,*.shop.test' } } }],
    });
    expect(dropped).toEqual([]);
    // A mid-label wildcard can match no route host and is left out; an all-digit name is a valid hostname.
    expect(s.secrets[0]?.certificate?.dnsNames).toEqual(['shop.test', '10.0.0.1', '*.shop.test']);
  });
});
