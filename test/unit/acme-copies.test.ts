/**
 * The durable copies of ACME certificates (ADR 0024): which secret a proxy service mounts for a
 * route (the newest when the service is created or updated anyway, the mounted one otherwise, so
 * a renewal restarts no task), and how an agent booting without the core makes the files its
 * config names (from the mounted copy, else a self-signed placeholder NGINX accepts).
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { acmeRoutesNamedIn, acmeRoutesOfHaproxyConfig, placeholderPair, restoreAcmeFiles, splitCopy } from '../../src/agent/acme-restore';
import { LABELS } from '../../src/domain/labels';
import type { SecretInfo, ServiceSpec } from '../../src/observed/docker-port';
import type { LiveState } from '../../src/observed/live-state';
import { ACME_COPY_ROLE, acmeCopySecretName, acmeRoutesOf } from '../../src/plan/acme-copies';
import { acmeFileNames } from '../../src/plan/acme-routes';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { planProxy, PROXY_CONFIG_STEP } from '../../src/plan/writes/proxy-writes';
import { labelledServiceSpec, unlabelledServiceSpec } from '../../src/plan/writes/service-labels';
import type { Step } from '../../src/plan/writes/steps';
import { certificateFingerprint, dockerAcmeCopyStore } from '../../src/core/acme/acme-copy-store';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, desired, route, snapshot } from '../helpers/specs';

const agent = { coreAddress: 'swarmgate-core:50051', controlNetworkId: 'id-ctl' };
const RENDERED = 'events {}\nhttp {}\n';

function modelWith(spec: Record<string, unknown>): ProxyModel {
  const snap = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks: [], networks: [{ name: 'app' }] });
  const m = buildModel(desired([route('shop', { hosts: ['shop.test'], rules: [{ backends: [{ service: 'app', port: 80 }] }] })], [cluster('default', spec)]), snap).clusters.find((c) => c.cluster === 'default');
  if (m === undefined) throw new Error('no model');
  // As build-model marks a cluster serving an ACME route (the route itself is irrelevant here).
  return { ...m, acme: { files: [acmeFileNames('shop').cert, acmeFileNames('shop').key] } };
}

function copy(id: string, fingerprint: string): SecretInfo {
  return { ID: id, Spec: { Name: acmeCopySecretName('shop', fingerprint), Labels: { [LABELS.owner]: 'swarmgate', [LABELS.role]: ACME_COPY_ROLE, [LABELS.name]: 'shop', [LABELS.fingerprint]: fingerprint } } };
}

function live(secrets: SecretInfo[], service?: ServiceSpec, configName?: string): LiveState {
  return {
    services: service !== undefined ? [{ ID: 'svc', Version: { Index: 7 }, Spec: service }] : [],
    tasks: [],
    networks: [{ Id: 'id-app', Name: 'app', Driver: 'overlay', Scope: 'swarm' }, { Id: 'id-ctl', Name: 'swarmgate-control', Driver: 'overlay', Scope: 'swarm' }],
    secrets,
    nodes: [],
    proxyConfigs: configName !== undefined ? [{ ID: 'cfg1', Version: { Index: 1 }, Spec: { Name: configName, Labels: { [LABELS.revision]: '1', [LABELS.cluster]: 'default' } } }] : [],
  };
}

const copyMounts = (spec: ServiceSpec | undefined) => (spec?.TaskTemplate.ContainerSpec.Secrets ?? []).filter((s) => s.File?.Name.startsWith('swarmgate-acme/') === true).map((s) => [s.SecretName, s.File?.Name, s.File?.Mode]);
const serviceStep = (steps: readonly Step[]) => steps.find((s): s is Extract<Step, { op: 'createService' | 'updateService' }> => s.op === 'createService' || s.op === 'updateService');

/** The service a createService step made, as Docker lists it (the config reference resolved). */
function created(steps: readonly Step[]): { spec: ServiceSpec; configName: string } {
  const s = serviceStep(steps);
  if (s === undefined) throw new Error('no service step');
  const bare = unlabelledServiceSpec(s.spec);
  const configs = bare.TaskTemplate.ContainerSpec.Configs ?? [];
  const spec = labelledServiceSpec({ ...bare, TaskTemplate: { ...bare.TaskTemplate, ContainerSpec: { ...bare.TaskTemplate.ContainerSpec, Configs: configs.map((c) => (c.ConfigID === `ref:${PROXY_CONFIG_STEP}` ? { ...c, ConfigID: 'cfg1' } : c)) } } });
  return { spec, configName: configs[0]?.ConfigName ?? '' };
}

describe('durable ACME copies in the proxy service spec', () => {
  const model = modelWith({ proxy: { delivery: 'hitless' } });
  const first = planProxy({ model, rendered: RENDERED, live: live([copy('s1', 'a'.repeat(64))]), agent, acmeFingerprints: new Map([['shop', 'a'.repeat(64)]]) });

  it('a new service mounts the copy of the current certificate, root-only, under /run/secrets/swarmgate-acme/', () => {
    expect(acmeRoutesOf(model.acme?.files)).toEqual(['shop']);
    expect(copyMounts(serviceStep(first.steps)?.spec)).toEqual([[acmeCopySecretName('shop', 'a'.repeat(64)), 'swarmgate-acme/shop.pem', 0o400]]);
  });

  it('a renewal (a newer copy) changes nothing on a running service: no update, no task restart', () => {
    const { spec, configName } = created(first.steps);
    const renewed = planProxy({ model, rendered: `${RENDERED}# renewed\n`, live: live([copy('s1', 'a'.repeat(64)), copy('s2', 'b'.repeat(64))], spec, configName), agent, acmeFingerprints: new Map([['shop', 'b'.repeat(64)]]) });
    expect(renewed.steps.filter((s) => s.op === 'updateService' || s.op === 'createService')).toEqual([]);
  });

  it('an update the service needs anyway takes the newest copy along', () => {
    const { spec, configName } = created(first.steps);
    const changed = modelWith({ proxy: { delivery: 'hitless', stopGracePeriod: '20s' } });
    const plan = planProxy({ model: changed, rendered: RENDERED, live: live([copy('s1', 'a'.repeat(64)), copy('s2', 'b'.repeat(64))], spec, configName), agent, acmeFingerprints: new Map([['shop', 'b'.repeat(64)]]) });
    const update = serviceStep(plan.steps);
    expect(update?.op).toBe('updateService');
    expect(copyMounts(update?.spec)).toEqual([[acmeCopySecretName('shop', 'b'.repeat(64)), 'swarmgate-acme/shop.pem', 0o400]]);
  });

  it('while the current certificate\'s copy is not made yet, a new service mounts the previous copy, or none', () => {
    const none = planProxy({ model, rendered: RENDERED, live: live([]), agent, acmeFingerprints: new Map([['shop', 'c'.repeat(64)]]) });
    expect(copyMounts(serviceStep(none.steps)?.spec)).toEqual([]);
    const previous = planProxy({ model, rendered: RENDERED, live: live([copy('s1', 'a'.repeat(64))]), agent, acmeFingerprints: new Map([['shop', 'c'.repeat(64)]]) });
    expect(copyMounts(serviceStep(previous.steps)?.spec)).toEqual([[acmeCopySecretName('shop', 'a'.repeat(64)), 'swarmgate-acme/shop.pem', 0o400]]);
  });
});

describe('restoring ACME files at a boot without the core', () => {
  const log = pino({ level: 'silent' });
  const config = 'server { ssl_certificate /run/swarmgate/acme/acme-shop.crt; ssl_certificate_key /run/swarmgate/acme/acme-shop.key; }\nmap $ssl_server_name $c { new.test /run/swarmgate/acme/acme-new.crt; }\n';

  it('finds the routes a config names', () => {
    expect(acmeRoutesNamedIn(config)).toEqual(['new', 'shop']);
  });

  it('finds the ACME routes of a HAProxy config in its crt-list lines, not its secret-backed PEMs', () => {
    const cfg = [
      '    bind "unix@/run/h/tls-1.sock" accept-proxy ssl crt-list "/c/hosts.crt-list" alpn h2,http/1.1',
      '    #   crt "/c/acme/acme-shop.crt+acme-shop.key.pem" shop.test',
      '    #   crt "/c/acme/acme-b.2.crt+acme-b.2.key.pem" b.test',
      '    #   crt "/c/acme-fake.crt+acme-fake.key.pem" fake.test',
      '    #   crt "/c/acme/acme-x.crt+acme-y.key.pem" odd.test',
    ].join('\n');
    expect(acmeRoutesOfHaproxyConfig(cfg, '/c')).toEqual(['b.2', 'shop']);
    expect(acmeRoutesOfHaproxyConfig(cfg, '/other')).toEqual([]);
  });

  it('writes the mounted copy for a route that has one, the placeholder for one that has none, and leaves existing files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-restore-'));
    const acmeDir = join(dir, 'acme');
    const copiesDir = join(dir, 'copies');
    mkdirSync(copiesDir);
    const real = await placeholderPair();
    writeFileSync(join(copiesDir, 'shop.pem'), `${real.cert}${real.key}`);
    const r = await restoreAcmeFiles(acmeRoutesNamedIn(config), { acmeDir, copiesDir, log });
    expect(r).toEqual({ fromCopies: ['shop'], placeholders: ['new'] });
    expect(readFileSync(join(acmeDir, 'acme-shop.crt'), 'utf8')).toBe(real.cert);
    expect(readFileSync(join(acmeDir, 'acme-shop.key'), 'utf8')).toBe(real.key);
    expect(new X509Certificate(readFileSync(join(acmeDir, 'acme-new.crt'))).subject).toContain('swarmgate placeholder');
    expect(existsSync(join(acmeDir, 'acme-new.key'))).toBe(true);
    // Files already there (delivered to this task) are not replaced.
    expect(await restoreAcmeFiles(acmeRoutesNamedIn(config), { acmeDir, copiesDir, log })).toEqual({ fromCopies: [], placeholders: [] });
  });

  it('splits a copy into chain and key; refuses one without both', () => {
    expect(splitCopy('-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n')).toEqual({ cert: '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n', key: '-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n' });
    expect(splitCopy('-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n')).toBeUndefined();
  });

  it('the placeholder pair is one openssl accepts as a matching certificate and key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-placeholder-'));
    const p = await placeholderPair();
    writeFileSync(join(dir, 'c.pem'), p.cert);
    writeFileSync(join(dir, 'k.pem'), p.key);
    const pub = (args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' }).stdout;
    expect(pub(['x509', '-in', join(dir, 'c.pem'), '-noout', '-pubkey'])).toContain('BEGIN PUBLIC KEY');
    expect(pub(['x509', '-in', join(dir, 'c.pem'), '-noout', '-pubkey'])).toBe(pub(['pkey', '-in', join(dir, 'k.pem'), '-pubout']));
  });
});

describe('the core keeping durable copies (Docker secrets)', () => {
  it('makes one labelled secret per certificate (chain then key, no key in a label), and removes the route\'s older copies unless a service mounts them', async () => {
    const docker = new FakeDocker();
    // Docker never gives a secret's data back: what the core sent is caught on the way.
    const sent: string[] = [];
    const port = new Proxy(docker, {
      get(target, key) {
        if (key === 'createSecret') return (spec: Parameters<FakeDocker['createSecret']>[0]) => (sent.push(spec.Data), target.createSecret(spec));
        const v: unknown = Reflect.get(target, key);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const store = dockerAcmeCopyStore(port, pino({ level: 'silent' }));
    const one = await placeholderPair();
    const two = await placeholderPair();
    const three = await placeholderPair();
    await store.keep('shop', { certPem: one.cert, keyPem: one.key, notAfter: Date.UTC(2027, 0, 1) });
    await store.keep('shop', { certPem: one.cert, keyPem: one.key, notAfter: Date.UTC(2027, 0, 1) });
    const first = await docker.listSecrets();
    expect(first.map((x) => x.Spec.Name)).toEqual([acmeCopySecretName('shop', certificateFingerprint(one.cert))]);
    expect(first[0]?.Spec.Labels).toEqual({ [LABELS.owner]: 'swarmgate', [LABELS.role]: ACME_COPY_ROLE, [LABELS.name]: 'shop', [LABELS.fingerprint]: certificateFingerprint(one.cert), [LABELS.notAfter]: '2027-01-01T00:00:00.000Z' });
    expect(JSON.stringify(first[0]?.Spec.Labels)).not.toContain('PRIVATE');
    expect(sent).toHaveLength(1);
    expect(splitCopy(Buffer.from(sent[0] ?? '', 'base64').toString())).toEqual({ cert: one.cert, key: one.key });
    // A proxy service mounts the first copy: a renewal's copy is added, the mounted one stays.
    await docker.createService({ Name: 'sg-proxy-default', TaskTemplate: { ContainerSpec: { Image: 'x', Secrets: [{ SecretID: first[0]?.ID ?? '', SecretName: first[0]?.Spec.Name ?? '', File: { Name: 'swarmgate-acme/shop.pem', UID: '0', GID: '0', Mode: 0o400 } }] } } });
    await store.keep('shop', { certPem: two.cert, keyPem: two.key, notAfter: Date.UTC(2027, 1, 1) });
    expect((await docker.listSecrets()).map((x) => x.Spec.Labels?.[LABELS.fingerprint]).sort()).toEqual([certificateFingerprint(one.cert), certificateFingerprint(two.cert)].sort());
    // The next one removes the unmounted older copy (two), still not the mounted one.
    await store.keep('shop', { certPem: three.cert, keyPem: three.key, notAfter: Date.UTC(2027, 2, 1) });
    expect((await docker.listSecrets()).map((x) => x.Spec.Labels?.[LABELS.fingerprint]).sort()).toEqual([certificateFingerprint(one.cert), certificateFingerprint(three.cert)].sort());
  });
});
