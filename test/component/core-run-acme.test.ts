/**
 * The core run with its issuer, over the in-memory Docker fake: an Issuer and a Route with
 * tls.certificate.issuer get their conditions (Issuer Ready, Route CertificateReady), a held
 * certificate is served, and a cluster the core cannot deliver to through agents (no --advertise:
 * rolling) keeps its last good config instead of shipping one that names ACME files no proxy gets.
 * No key material reaches a Swarm config or a status label.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { CoreRun } from '../../src/core/core-run';
import { memoryStore } from '../../src/core/acme/acme-state-store';
import { IssuerActor } from '../../src/core/acme/issuer-actor';
import { LABELS } from '../../src/domain/labels';
import { applyObject } from '../../src/desired/spec-store';
import { parseStatus } from '../../src/status/object-status';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, object, route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
const KEY = '-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----\n';
let docker: FakeDocker;

async function statusOf(name: string, kind: string) {
  const [c] = await docker.listConfigs([`${LABELS.kind}=${kind}`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status]);
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  docker.images.set('swarmgate/proxy:latest', 'sha256:proxyimage');
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 1);
  await applyObject(docker, cluster('edge', { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: 18080, https: 18443 } } }));
  await applyObject(docker, object({ apiVersion: 'swarmgate.io/v1', kind: 'Issuer', metadata: { name: 'pebble' }, spec: { acme: { server: 'https://127.0.0.1:1/dir', email: 'ops@example.com' }, solvers: [{ http01: {} }] } }));
  await applyObject(docker, route('shop', { serviceCluster: 'edge', hosts: ['shop.example.com'], tls: { mode: 'Terminate', certificate: { issuer: 'pebble' } }, rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
});

describe('core run with an issuer', () => {
  it('keeps the last good config of a cluster delivered rolling, and writes no key anywhere', async () => {
    const store = memoryStore();
    const now = Date.now();
    await store.save({
      accounts: { pebble: { server: 'https://127.0.0.1:1/dir', email: 'ops@example.com', accountKeyPem: KEY, accountUrl: 'https://127.0.0.1:1/acct/1' } },
      certificates: { shop: { issuer: 'pebble', hosts: ['shop.example.com'], certPem: '-----BEGIN CERTIFICATE-----\nc\n-----END CERTIFICATE-----\n', keyPem: KEY, notBefore: now - 1000, notAfter: now + 86_400_000, issuedAt: now, orders: 1 } },
    });
    const issuer = new IssuerActor({ store, log: quiet });
    await issuer.start();
    // No agents option: this core cannot deliver hitless, so the cluster falls back to rolling.
    const run = new CoreRun(docker, quiet, { issuer });
    await run.run(1);
    await run.run(2);
    issuer.stop();
    const cluster = await statusOf('edge', 'ServiceCluster');
    const programmed = cluster?.conditions.find((c) => c.type === 'Programmed');
    expect(programmed).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(programmed?.message).toContain('ACME certificates reach the proxies through their agents');
    const shop = await statusOf('shop', 'Route');
    expect(shop?.conditions.find((c) => c.type === 'CertificateReady')).toMatchObject({ status: 'True', reason: 'Issued' });
    expect((await statusOf('pebble', 'Issuer'))?.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'AccountRegistered' });
    for (const c of await docker.listConfigs()) {
      const full = await docker.inspectConfig(c.ID);
      expect(JSON.stringify(full.Spec.Labels ?? {})).not.toContain('BEGIN');
      expect(Buffer.from(full.Spec.Data ?? '', 'base64').toString()).not.toContain('BEGIN');
    }
  });
});
