/**
 * Every label format has one codec in src/domain/, used by its writer and its readers; these
 * properties pin that what one side writes the other reads back unchanged, and that a label anybody
 * may have edited by hand never makes a reader throw. (The rollout state label's round trip is in
 * rollout-properties.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reason } from '../../src/domain/conditions';
import { LABELS, OWNER_VALUE } from '../../src/domain/labels';
import { decodeRevisionLabels, decodeRollback, encodeRevisionLabel, encodeRollback, encodeRouteLabels, routeEntries, ROUTES_LABEL_MAX } from '../../src/domain/revision-labels';
import {
  decodeRolloutCommand,
  decodeRolloutResult,
  encodeRolloutResult,
  knownCommand,
  ROLLOUT_COMMANDS,
  withCommand,
  withoutCommand,
} from '../../src/domain/rollout-labels';
import { sha256Hex } from '../../src/domain/sha256';
import { decodeStatus, encodeStatus, type ObjectStatus } from '../../src/domain/status-label';
import { decodeTlsSecretLabels, encodeTlsSecretLabels, TLS_SET_FILES } from '../../src/domain/tls-layout';
import { identityUri, parseIdentityUri } from '../../src/domain/identity';
import { identitySecretName } from '../../src/plan/identity-secrets';

const text = fc.string({ maxLength: 40 });
const otherLabels = fc.dictionary(fc.stringMatching(/^[a-z][a-z.-]{0,20}$/), text, { maxKeys: 4 });

describe('status label', () => {
  const cond = fc.record({
    type: fc.constantFrom('Accepted', 'ResolvedRefs', 'Programmed', 'Ready', 'Rollout'),
    status: fc.constantFrom('True' as const, 'False' as const, 'Unknown' as const),
    reason: fc.constantFrom<Reason>('Accepted', 'HostConflict', 'BackendNotFound', 'RolledBack', 'Pending'),
    message: text,
    lastTransitionTime: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  });
  const proxy = fc.record({ delivery: fc.constant('hitless' as const), config: fc.stringMatching(/^[0-9a-f]{12}$/), replicas: fc.array(fc.record({ task: fc.stringMatching(/^[0-9a-z]{12}$/), applied: text }), { maxLength: 3 }) });
  const status: fc.Arbitrary<ObjectStatus> = fc.record({ proxy, observedGeneration: fc.nat(), conditions: fc.array(cond, { maxLength: 5 }) }, { requiredKeys: ['observedGeneration', 'conditions'] });

  it('reads back what the core writes, and encodes an equal status to the same text', () => {
    fc.assert(
      fc.property(status, (s) => {
        const back = decodeStatus(encodeStatus(s));
        expect(back).toEqual(s);
        expect(encodeStatus(back as ObjectStatus)).toBe(encodeStatus(s));
      }),
    );
  });

  it('reads anything else as no status, without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.json()), (t) => {
        expect(() => decodeStatus(t)).not.toThrow();
      }),
    );
    for (const t of ['null', '[]', '5', '{"conditions":[]}', '{"observedGeneration":"1","conditions":[]}', 'not json']) expect(decodeStatus(t)).toBeUndefined();
  });
});

describe('rollout command and result labels', () => {
  const command = fc.record({ id: fc.stringMatching(/^[0-9a-f]{16}$/), command: fc.constantFrom(...ROLLOUT_COMMANDS), at: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) });

  it('the core reads every command a CLI writes as that command', () => {
    fc.assert(
      fc.property(command, otherLabels, (c, labels) => {
        const written = withCommand(labels, c);
        const pending = decodeRolloutCommand(written[LABELS.rolloutCommand]);
        expect(pending).toEqual({ id: c.id, at: c.at, raw: c.command, command: c.command });
        expect(knownCommand(pending)).toEqual(c);
        expect(decodeRolloutCommand(withoutCommand(written)[LABELS.rolloutCommand])).toBeUndefined();
      }),
    );
  });

  it('any label text reads as a pending command the core can answer, never as an error', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.json()), (t) => {
        const p = decodeRolloutCommand(t);
        expect(p).toBeDefined();
        expect(p?.id.length).toBeLessThanOrEqual(64);
        // Only one of the known commands is ever acted on.
        if (p?.command !== undefined) expect(ROLLOUT_COMMANDS).toContain(p.command);
      }),
    );
    expect(decodeRolloutCommand('{"id":"x","command":"launch"}')).toEqual({ id: 'x', at: '', raw: 'launch' });
    expect(knownCommand(decodeRolloutCommand('{"id":"x","command":"launch"}'))).toBeUndefined();
    expect(decodeRolloutCommand('}{')).toEqual({ id: '', at: '', raw: 'unreadable' });
  });

  it('a CLI reads back every verdict the core writes', () => {
    fc.assert(
      fc.property(fc.record({ id: text, accepted: fc.boolean(), message: text }), (r) => {
        expect(decodeRolloutResult(encodeRolloutResult(r))).toEqual(r);
      }),
    );
    expect(decodeRolloutResult('{"id":1,"accepted":true}')).toBeUndefined();
    expect(decodeRolloutResult(undefined)).toBeUndefined();
  });
});

describe('revision and rollback labels', () => {
  const routeName = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/);
  const routes = fc.array(fc.record({ name: routeName, generation: fc.integer({ min: 1, max: 10_000 }) }), { maxLength: 40 });

  it('a proxy config\'s labels give back its revision and the exact route list (or its hash when long)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), routes, (revision, rs) => {
        const read = decodeRevisionLabels({ ...encodeRevisionLabel(revision), ...encodeRouteLabels(rs) });
        const entries = routeEntries(rs);
        expect(read.revision).toBe(revision);
        expect(read.routeCount).toBe(entries.length);
        expect(read.routes).toEqual(new Set(entries));
        expect(read.routesHash).toBe(sha256Hex(entries.join(',')));
      }),
    );
  });

  it('a route list too long for a label is stored as its hash, and read back as that hash', () => {
    const many = Array.from({ length: 600 }, (_, i) => ({ name: `route-number-${i}`, generation: i + 1 }));
    expect(routeEntries(many).join(',').length).toBeGreaterThan(ROUTES_LABEL_MAX);
    const read = decodeRevisionLabels({ ...encodeRevisionLabel(7), ...encodeRouteLabels(many) });
    expect(read).toEqual({ revision: 7, routesHash: sha256Hex(routeEntries(many).join(',')), routeCount: 600 });
  });

  it('a rollback request round-trips and clearing it leaves every other label alone', () => {
    fc.assert(
      fc.property(otherLabels, fc.integer({ min: 1, max: 2 ** 40 }), fc.stringMatching(/^[0-9a-f]{8}$/), (labels, revision, specs) => {
        const set = encodeRollback(labels, { revision, specs });
        expect(decodeRollback(set)).toEqual({ revision, specs });
        const cleared = encodeRollback(set, undefined);
        expect(decodeRollback(cleared)).toBeUndefined();
        const { [LABELS.rollback]: _r, [LABELS.rollbackSpecs]: _s, ...rest } = labels;
        expect(cleared).toEqual(rest);
      }),
    );
    for (const bad of ['0', '-1', '1.5', 'x', '', ' 3']) expect(decodeRollback({ [LABELS.rollback]: bad })).toBeUndefined();
  });
});

describe('component identities', () => {
  const cluster = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
  it('an identity URI reads back as its identity; other roles and malformed clusters read as none', () => {
    fc.assert(
      fc.property(fc.constantFrom('agent', 'extension') as fc.Arbitrary<'agent' | 'extension'>, cluster, (role, c) => {
        expect(parseIdentityUri(identityUri({ role, cluster: c }))).toEqual({ role, cluster: c });
      }),
    );
    expect(parseIdentityUri(identityUri({ role: 'reader' }))).toEqual({ role: 'reader' });
    for (const bad of ['spiffe://swarmgate/agent', 'spiffe://swarmgate/agent/Edge', 'spiffe://swarmgate/agent/a/b', 'spiffe://swarmgate/admin/edge', 'spiffe://other/agent/edge', 'spiffe://swarmgate/reader/edge']) expect(parseIdentityUri(bad)).toBeUndefined();
  });
  it('identity secret names fit Docker\'s 64 characters and differ for every cluster, role and file', () => {
    fc.assert(
      fc.property(cluster, cluster, (a, b) => {
        const names = (c: string) => (['agent', 'extension'] as const).flatMap((r) => (['cert', 'key'] as const).map((f) => identitySecretName('mxc29jjoyii', r, c, f)));
        for (const n of names(a)) expect(n.length).toBeLessThanOrEqual(64);
        expect(new Set(names(a)).size).toBe(4);
        if (a !== b) expect(names(a).some((n) => names(b).includes(n))).toBe(false);
      }),
    );
  });
});

describe('TLS secret labels', () => {
  it('every secret of a set reads back as its set and file; foreign secrets read as none', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-z]{1,12}$/), fc.constantFrom(...TLS_SET_FILES), (set, file) => {
        expect(decodeTlsSecretLabels(encodeTlsSecretLabels({ set, file }))).toEqual({ set, file });
      }),
    );
    expect(decodeTlsSecretLabels({ [LABELS.tlsSet]: 'a', [LABELS.tlsFile]: 'ca' })).toBeUndefined();
    // A component's identity pair is not a file of a set (identity-secrets.ts reads those).
    expect(decodeTlsSecretLabels({ [LABELS.owner]: OWNER_VALUE, [LABELS.tlsSet]: 'a', [LABELS.tlsFile]: 'clientKey' })).toBeUndefined();
    expect(decodeTlsSecretLabels({ [LABELS.owner]: OWNER_VALUE, [LABELS.tlsSet]: 'a', [LABELS.tlsFile]: 'nope' })).toBeUndefined();
  });
});
