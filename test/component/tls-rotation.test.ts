/**
 * Certificate rotation without renaming, over the in-memory Docker fake: a route names a stored
 * certificate; `tls apply` under the same name adds a version; the core run moves the proxy service
 * to the new secrets (and the rendered config to their files); the old version is removed only once
 * neither the service nor any task meant to run mounts it.
 *
 * The core calls pruneCertificateVersions once per run (see the wiring note in
 * src/apply/certificate-secrets.ts); here it is called where a run would call it.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { runTlsApply } from '../../src/cli/commands/tls';
import { CoreRun } from '../../src/core/core-run';
import { pruneCertificateVersions } from '../../src/apply/certificate-secrets';
import { LABELS } from '../../src/domain/labels';
import { applyObject } from '../../src/desired/spec-store';
import { parseStatus } from '../../src/status/object-status';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';
import { selfSigned } from '../helpers/tls-material';

const quiet = pino({ level: 'silent' });
const first = selfSigned('shop.test');
const second = selfSigned('shop.test');
let docker: FakeDocker;
const io = { out: () => undefined, err: () => undefined };

async function conditionsOf(name: string) {
  const [c] = await docker.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions ?? [];
}

function proxySecrets(): string[] {
  return (docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((s) => s.SecretName).sort();
}

/** What Swarm does on a service update: the old tasks are told to stop, new ones start from the new spec. */
function rollProxyTasks(): void {
  for (const id of docker.taskIds('sg-proxy-edge')) docker.setTaskState(id, 'shutdown', 'shutdown');
  docker.addTasks('sg-proxy-edge', 1);
}

async function prune(): Promise<string[]> {
  const [services, tasks, secrets] = await Promise.all([docker.listServices(), docker.listTasks(), docker.listSecrets()]);
  return pruneCertificateVersions(docker, { services, tasks, secrets });
}

async function certificateSecrets(): Promise<string[]> {
  return (await docker.listSecrets()).filter((s) => s.Spec.Labels?.[LABELS.role] === 'certificate').map((s) => s.Spec.Name).sort();
}

async function renderedConfig(): Promise<string> {
  const name = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigID ?? '';
  return Buffer.from((await docker.inspectConfig(name)).Spec.Data ?? '', 'base64').toString('utf8');
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 1);
  await applyObject(docker, cluster('edge', { proxy: { replicas: 1, delivery: 'rolling', publish: { mode: 'host', http: 18080, https: 18443 } } }));
  await applyObject(docker, route('shop', { serviceCluster: 'edge', hosts: ['shop.test'], tls: { mode: 'Terminate', certificate: { name: 'shop' } }, rules: [{ backends: [{ service: 'web', port: 80 }] }] }));
});

describe('certificate rotation through the core run', () => {
  it('waits for the certificate, then serves its newest version, and moves to a new one', async () => {
    const run = new CoreRun(docker, quiet);
    await run.run(1);
    expect((await conditionsOf('shop')).find((c) => c.type === 'ResolvedRefs')?.reason).toBe('CertificateNotFound');
    expect(proxySecrets()).toEqual([]);

    expect(await runTlsApply(docker, { name: 'shop', cert: first.certPath, key: first.keyPath }, io)).toBe(0);
    await run.run(2);
    expect(proxySecrets()).toEqual(['sg-cert-shop-v1.crt', 'sg-cert-shop-v1.key']);
    expect(await renderedConfig()).toContain('/run/secrets/sg-cert-shop-v1.crt');
    rollProxyTasks();
    await run.run(3);
    expect((await conditionsOf('shop')).find((c) => c.type === 'Programmed')?.status).toBe('True');

    expect(await runTlsApply(docker, { name: 'shop', cert: second.certPath, key: second.keyPath }, io)).toBe(0);
    docker.clearActions();
    await run.run(4);
    expect(docker.writes.map((w) => `${w.op} ${w.target}`)).toContain('updateService sg-proxy-edge');
    expect(proxySecrets()).toEqual(['sg-cert-shop-v2.crt', 'sg-cert-shop-v2.key']);
    const config = await renderedConfig();
    expect(config).toContain('/run/secrets/sg-cert-shop-v2.key');
    expect(config).not.toContain('sg-cert-shop-v1');
  });

  it('removes the old version only after the tasks that mount it stopped', async () => {
    const run = new CoreRun(docker, quiet);
    await runTlsApply(docker, { name: 'shop', cert: first.certPath, key: first.keyPath }, io);
    await run.run(1);
    rollProxyTasks();
    await runTlsApply(docker, { name: 'shop', cert: second.certPath, key: second.keyPath }, io);
    // The service still mounts version 1 until the core updates it.
    expect(await prune()).toEqual([]);
    await run.run(2);
    expect(proxySecrets()).toEqual(['sg-cert-shop-v2.crt', 'sg-cert-shop-v2.key']);
    // Updated spec, but the old task is still meant to run (a rolling update in progress).
    expect(await prune()).toEqual([]);
    expect(await certificateSecrets()).toHaveLength(4);
    rollProxyTasks();
    expect((await prune()).sort()).toEqual(['sg-cert-shop-v1.crt', 'sg-cert-shop-v1.key']);
    expect(await certificateSecrets()).toEqual(['sg-cert-shop-v2.crt', 'sg-cert-shop-v2.key']);
    // The current version is never pruned, even with nothing mounting it.
    await docker.removeService(docker.service('sg-proxy-edge')?.ID ?? '');
    expect(await prune()).toEqual([]);
  });
});
