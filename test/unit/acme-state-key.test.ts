/**
 * The ACME state key (ADR 0013): `install` makes one Docker secret, mounts it into the core only,
 * and `rotate-certs` replaces the TLS set's mounts but keeps that one (and any other non-TLS mount,
 * such as an Issuer's secret), so the core still opens its ACME state after a rotation and orders
 * nothing again. `uninstall` removes it with the TLS sets.
 */
import { describe, expect, it } from 'vitest';
import { CORE_SERVICE, runInstall, runRotateCerts, runUninstall } from '../../src/cli/commands/install';
import { ACME_STATE_KEY, TLS_FILES } from '../../src/domain/tls-layout';
import { DockerApiError } from '../../src/observed/docker-errors';
import type { DockerPort } from '../../src/observed/docker-port';
import { FakeDocker } from '../fakes/fake-docker';

const io = { out: () => undefined, err: () => undefined };

async function coreMounts(docker: FakeDocker): Promise<{ file: string; id: string }[]> {
  const core = (await docker.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
  return (core?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((m) => ({ file: m.File.Name, id: m.SecretID }));
}

describe('the ACME state key', () => {
  it('is made once by install, mounted into the core, kept by rotate-certs and removed by uninstall', async () => {
    const docker = new FakeDocker();
    expect(await runInstall(docker, { image: 'swarmgate/swarmgate:latest', localImages: false, logLevel: 'info' }, io)).toBe(0);
    const keyMount = (await coreMounts(docker)).find((m) => m.file === ACME_STATE_KEY.file);
    expect(keyMount).toBeDefined();
    expect((await docker.listSecrets()).filter((s) => s.Spec.Labels?.['io.swarmgate.role'] === ACME_STATE_KEY.role)).toHaveLength(1);
    // A second install reuses it.
    expect(await runInstall(docker, { image: 'swarmgate/swarmgate:latest', localImages: false, logLevel: 'debug' }, io)).toBe(0);
    expect((await coreMounts(docker)).find((m) => m.file === ACME_STATE_KEY.file)).toEqual(keyMount);
    const serverBefore = (await coreMounts(docker)).find((m) => m.file === TLS_FILES.serverKey);
    expect(await runRotateCerts(docker, io)).toBe(0);
    const after = await coreMounts(docker);
    expect(after.find((m) => m.file === TLS_FILES.serverKey)?.id).not.toBe(serverBefore?.id);
    expect(after.find((m) => m.file === ACME_STATE_KEY.file)).toEqual(keyMount);
    // The TLS files are the new set's (plus the previous CA the core still trusts, ADR 0019); the key once.
    expect(after.filter((m) => m.file === ACME_STATE_KEY.file)).toHaveLength(1);
    expect(after.map((m) => m.file)).toEqual(expect.arrayContaining([TLS_FILES.ca, TLS_FILES.caKey, TLS_FILES.serverCert, TLS_FILES.serverKey]));
    expect(await runUninstall(docker, false, io)).toBe(0);
    expect((await docker.listSecrets()).filter((s) => s.Spec.Labels?.['io.swarmgate.role'] === ACME_STATE_KEY.role)).toEqual([]);
  });
});

describe('uninstall against services that go while it runs', () => {
  it('takes a proxy service already gone (404 on remove) as removed', async () => {
    const docker = new FakeDocker();
    expect(await runInstall(docker, { image: 'swarmgate/swarmgate:latest', localImages: false, logLevel: 'info' }, io)).toBe(0);
    const proxyId = await docker.createService({ Name: 'sg-proxy-default', Labels: { 'io.swarmgate.owner': 'swarmgate', 'io.swarmgate.role': 'proxy' }, TaskTemplate: { ContainerSpec: { Image: 'x' } }, Mode: { Replicated: { Replicas: 1 } } });
    // Something else removes the proxy between uninstall's list and its remove: the daemon answers 404.
    const racing: DockerPort = Object.assign(Object.create(docker) as DockerPort, {
      removeService: async (id: string) => {
        await docker.removeService(id);
        if (id === proxyId) throw new DockerApiError(404, `service ${id} not found`, 'removeService');
      },
    });
    const out: string[] = [];
    expect(await runUninstall(racing, false, { out: (t) => out.push(t), err: (t) => out.push(t) })).toBe(0);
    expect(out.filter((l) => l.startsWith('service/'))).toEqual([`service/${CORE_SERVICE} removed`, 'service/sg-proxy-default removed']);
    expect(await docker.listServices()).toEqual([]);
  });
});
