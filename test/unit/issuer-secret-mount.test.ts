/**
 * Issuer secrets reach the core without a hand step (ADR 0013): when the core needs a secret it does
 * not have mounted (the EAB HMAC key, a caBundle secret), it adds the mount to its own service once;
 * a missing secret is named, not mounted; rotate-certs and a repeated install keep the mount.
 */
import { describe, expect, it } from 'vitest';
import { CORE_SERVICE, runInstall, runRotateCerts } from '../../src/cli/commands/install';
import { mountSecretIntoCore } from '../../src/core/acme/mount-into-core';
import { FakeDocker } from '../fakes/fake-docker';

const io = { out: () => undefined, err: () => undefined };
const install = (docker: FakeDocker) => runInstall(docker, { image: 'swarmgate/swarmgate:latest', localImages: false, logLevel: 'info' }, io);

async function mounted(docker: FakeDocker): Promise<string[]> {
  const core = (await docker.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
  return (core?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((m) => m.File.Name);
}

describe('mounting an Issuer secret into the core', () => {
  it('adds the mount once, names a missing secret, and survives rotate-certs and install', async () => {
    const docker = new FakeDocker();
    expect(await install(docker)).toBe(0);
    expect(await mountSecretIntoCore(docker, 'zerossl-eab')).toMatch(/secret "zerossl-eab" does not exist/);
    expect(await mounted(docker)).not.toContain('zerossl-eab');
    await docker.createSecret({ Name: 'zerossl-eab', Labels: {}, Data: Buffer.from('hmac').toString('base64') });
    expect(await mountSecretIntoCore(docker, 'zerossl-eab')).toMatch(/being mounted into the core/);
    expect(await mountSecretIntoCore(docker, 'zerossl-eab')).toMatch(/being mounted into the core/);
    expect((await mounted(docker)).filter((n) => n === 'zerossl-eab')).toHaveLength(1);
    expect(await runRotateCerts(docker, io)).toBe(0);
    expect(await mounted(docker)).toContain('zerossl-eab');
    expect(await install(docker)).toBe(0);
    expect(await mounted(docker)).toContain('zerossl-eab');
  });
});
