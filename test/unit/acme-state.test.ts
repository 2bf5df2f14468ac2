/**
 * The core's ACME state across restarts (ADR 0013): stored as ciphertext in a Swarm config that
 * only the core's key opens, one config after each save; a restarted issuer serves what it holds
 * at once and places no new order for a certificate that is still good.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { runTlsList } from '../../src/cli/commands/tls';
import { ACME_FACTS_LABEL, decryptState, encryptState, storageKeyFrom, swarmConfigStore, type AcmeState } from '../../src/core/acme/acme-state-store';
import { IssuerActor } from '../../src/core/acme/issuer-actor';
import { FakeDocker } from '../fakes/fake-docker';

const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
const NOW = Date.parse('2026-12-06T12:00:00Z');
const STATE: AcmeState = {
  accounts: { pebble: { server: 'https://127.0.0.1:1/dir', email: 'ops@example.com', accountKeyPem: KEY_PEM, accountUrl: 'https://127.0.0.1:1/acct/1' } },
  certificates: { shop: { issuer: 'pebble', hosts: ['shop.example.com'], certPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n', keyPem: KEY_PEM, notBefore: NOW - 86_400_000, notAfter: NOW + 89 * 86_400_000, issuedAt: NOW - 86_400_000, orders: 1 } },
};

function key(text = 'server key'): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'sg-acme-key-'));
  writeFileSync(join(dir, 'k'), text);
  const k = storageKeyFrom(join(dir, 'k'));
  if (k === undefined) throw new Error('no key');
  return k;
}

describe('ACME state storage', () => {
  it('round-trips through ciphertext that holds no PEM and that another key cannot open', () => {
    const k = key();
    const text = encryptState(STATE, k);
    expect(text).not.toContain('BEGIN');
    expect(text).not.toContain('shop.example.com');
    expect(decryptState(text, k)).toEqual(STATE);
    expect(decryptState(text, key('rotated server key'))).toBeUndefined();
  });

  it('keeps one Swarm config, the newest save, labelled as the core\'s', async () => {
    const docker = new FakeDocker();
    const store = swarmConfigStore(docker, key());
    await store.save({ accounts: {}, certificates: {} });
    await store.save(STATE);
    const configs = await docker.listConfigs(['io.swarmgate.role=acme-state']);
    expect(configs).toHaveLength(1);
    expect(configs[0]?.Spec.Name).toMatch(/^sg-acme-state-[0-9a-f]{12}$/);
    expect(Buffer.from((await docker.inspectConfig(configs[0]?.ID ?? '')).Spec.Data ?? '', 'base64').toString()).not.toContain('BEGIN');
    expect(await swarmConfigStore(docker, key()).load()).toEqual(STATE);
  });

  it('opens a state saved under the older key (the server key), and saves again under the state key only', async () => {
    const docker = new FakeDocker();
    const serverKey = key('server key');
    const stateKey = key('acme state key');
    await swarmConfigStore(docker, serverKey).save(STATE);
    const store = swarmConfigStore(docker, [stateKey, serverKey]);
    expect(await store.load()).toEqual(STATE);
    await store.save(STATE);
    // After a rotation (a new server key) the state key alone opens it: nothing is ordered again.
    expect(await swarmConfigStore(docker, [stateKey, key('rotated server key')]).load()).toEqual(STATE);
    expect(await swarmConfigStore(docker, serverKey).load()).toEqual({ accounts: {}, certificates: {} });
  });

  it('publishes the certificates\' public facts beside the state, and tls list shows them with issuer, expiry and next renewal', async () => {
    const docker = new FakeDocker();
    const k = key();
    // What the issuer actor saves with its state (the real-Swarm test checks the actor's own facts).
    await swarmConfigStore(docker, k).save(STATE, [{ route: 'shop', issuer: 'pebble', hosts: ['shop.example.com'], notAfter: new Date(NOW + 89 * 86_400_000).toISOString(), renewAt: new Date(NOW + 59 * 86_400_000).toISOString(), orders: 1 }]);
    const label = (await docker.listConfigs(['io.swarmgate.role=acme-state']))[0]?.Spec.Labels?.[ACME_FACTS_LABEL] ?? '';
    expect(label).toContain('"route":"shop"');
    expect(label).not.toContain('BEGIN');
    const out: string[] = [];
    expect(await runTlsList(docker, undefined, { out: (t) => out.push(t), err: (t) => out.push(t) }, new Date(NOW))).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('ACME certificates');
    expect(text).toMatch(/shop\s+pebble\s+shop\.example\.com\s+2027-03-05T12:00:00\.000Z\s+in 89d\s+2027-02-03T12:00:00\.000Z\s+1/);
    const json: string[] = [];
    await runTlsList(docker, 'json', { out: (t) => json.push(t), err: () => undefined }, new Date(NOW));
    expect((JSON.parse(json.join('')) as { acme: unknown[] }).acme).toEqual([expect.objectContaining({ route: 'shop', issuer: 'pebble', orders: 1 })]);
  });

  it('after a restart, serves the held certificate at once and orders nothing', async () => {
    const docker = new FakeDocker();
    const k = key();
    await swarmConfigStore(docker, k).save(STATE);
    const actor = new IssuerActor({ store: swarmConfigStore(docker, k), log: pino({ level: 'silent' }), now: () => NOW });
    await actor.start();
    const spec = { acme: { server: 'https://127.0.0.1:1/dir', email: 'ops@example.com' }, solvers: [{ selector: { hostSuffixes: [] }, http01: {} }], renewal: { percentOfLifetime: 66, jitterPercent: 5 } } as never;
    actor.sync([{ route: 'shop', issuer: 'pebble', hosts: ['shop.example.com'] as never[], cluster: 'default' }], new Map([['pebble', spec]]));
    expect([...actor.certificates().keys()]).toEqual(['shop']);
    expect(actor.filesFor(['acme-shop.crt', 'acme-shop.key']).map((f) => f.path)).toEqual(['acme-shop.crt', 'acme-shop.key']);
    await new Promise((r) => setTimeout(r, 200));
    expect(actor.held()).toEqual([expect.objectContaining({ route: 'shop', orders: 1 })]);
    expect(actor.conditions().routes.get('shop')).toMatchObject({ status: 'True', reason: 'Issued' });
    actor.stop();
  });
});
