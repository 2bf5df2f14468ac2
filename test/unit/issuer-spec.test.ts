/**
 * Issuer objects and a Route's `tls.certificate.issuer`: what decodeObject accepts and refuses, and
 * the solver choice per host (the selector, and that a wildcard needs dns01).
 */
import * as E from 'fp-ts/Either';
import { describe, expect, it } from 'vitest';
import { formatPath } from '../../src/domain/issue';
import { solverFor, type IssuerSpec } from '../../src/domain/issuer';
import { decodeObject } from '../../src/domain/object';

const issuer = (spec: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: 'swarmgate.io/v1', kind: 'Issuer', metadata: { name: 'pebble' }, spec });
const ACME = { server: 'https://127.0.0.1:14000/dir', email: 'ops@example.com' };

function problems(u: unknown): string[] {
  const r = decodeObject(u);
  return E.isLeft(r) ? r.left.map((i) => `${formatPath(i.path)}: ${i.message}`) : [];
}

describe('Issuer', () => {
  it('decodes a minimal issuer and fills in the renewal window and selectors', () => {
    const r = decodeObject(issuer({ acme: ACME, solvers: [{ http01: {} }] }));
    expect(E.isRight(r)).toBe(true);
    if (E.isLeft(r) || r.right.kind !== 'Issuer') return;
    expect(r.right.spec.renewal).toEqual({ percentOfLifetime: 66, jitterPercent: 5 });
    expect(r.right.spec.solvers[0]?.selector).toEqual({ hostSuffixes: [] });
  });

  it.each([
    ['plain http server', { acme: { ...ACME, server: 'http://127.0.0.1:14000/dir' }, solvers: [{ http01: {} }] }, 'spec.acme.server'],
    ['server with a query', { acme: { ...ACME, server: 'https://ca.example.com/dir?x=1' }, solvers: [{ http01: {} }] }, 'spec.acme.server'],
    ['port out of range', { acme: { ...ACME, server: 'https://ca.example.com:70000/dir' }, solvers: [{ http01: {} }] }, 'spec.acme.server'],
    ['bad email', { acme: { ...ACME, email: 'ops' }, solvers: [{ http01: {} }] }, 'spec.acme.email'],
    ['no solver', { acme: ACME, solvers: [] }, 'spec.solvers'],
    ['solver with both kinds', { acme: ACME, solvers: [{ http01: {}, dns01: { webhook: { url: 'http://hook:8080/' } } }] }, 'spec.solvers[0]'],
    ['solver with neither kind', { acme: ACME, solvers: [{}] }, 'spec.solvers[0]'],
    ['caBundle with both sources', { acme: { ...ACME, caBundle: { secret: 'a', config: 'b' } }, solvers: [{ http01: {} }] }, 'spec.acme.caBundle'],
    ['renewal too late', { acme: ACME, solvers: [{ http01: {} }], renewal: { percentOfLifetime: 99 } }, 'spec.renewal.percentOfLifetime'],
  ])('refuses %s', (_name, spec, path) => {
    const p = problems(issuer(spec));
    expect(p.length).toBeGreaterThan(0);
    expect(p.some((line) => line.startsWith(path))).toBe(true);
  });

  it('picks the first solver whose selector matches, and only dns01 for a wildcard', () => {
    const spec = {
      acme: ACME,
      solvers: [
        { selector: { hostSuffixes: ['internal.example.com'] }, dns01: { webhook: { url: 'http://hook:8080/' } } },
        { selector: { hostSuffixes: [] }, http01: {} },
      ],
      renewal: { percentOfLifetime: 66, jitterPercent: 5 },
    } as unknown as IssuerSpec;
    expect(solverFor(spec, 'a.internal.example.com')?.dns01).toBeDefined();
    expect(solverFor(spec, 'internal.example.com')?.dns01).toBeDefined();
    expect(solverFor(spec, 'shop.example.com')?.http01).toBeDefined();
    expect(solverFor(spec, 'notinternal.example.com')?.http01).toBeDefined();
    expect(solverFor(spec, '*.internal.example.com')?.dns01).toBeDefined();
    expect(solverFor(spec, '*.example.com')).toBeUndefined();
  });
});

describe('Route tls.certificate.issuer', () => {
  const route = (certificate: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: 'swarmgate.io/v1',
    kind: 'Route',
    metadata: { name: 'shop' },
    spec: { hosts: ['shop.example.com'], tls: { mode: 'Terminate', certificate }, rules: [{ backends: [{ service: 'shop', port: 8080 }] }] },
  });

  it('accepts an issuer alone', () => {
    expect(problems(route({ issuer: 'pebble' }))).toEqual([]);
  });

  it.each([
    [{ issuer: 'pebble', name: 'shop' }],
    [{ issuer: 'pebble', certSecret: 'c', keySecret: 'k' }],
  ])('refuses an issuer together with another form: %j', (cert) => {
    expect(problems(route(cert))).toEqual([expect.stringMatching(/^spec\.tls\.certificate\.issuer: use one of name .*issuer .*not several/)]);
  });
});
