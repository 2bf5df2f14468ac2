/**
 * `swarmgate rotate-certs` and `install` against the in-memory Docker fake (ADR 0019): the core is
 * moved to a new set and still mounts the previous set's CA and CA key (trusted while components
 * switch), `--revoke-previous` drops it, and a later `install` keeps what rotate-certs set.
 */
import { describe, expect, it } from 'vitest';
import { CORE_SERVICE, runInstall, runRotateCerts } from '../../src/cli/commands/install';
import { ACME_STATE_KEY } from '../../src/domain/tls-layout';
import { tlsSets } from '../../src/plan/tls-sets';
import { FakeDocker } from '../fakes/fake-docker';

const io = { out: () => undefined, err: () => undefined };
const options = { image: 'swarmgate/swarmgate:1', localImages: false, logLevel: 'info' };

function core(docker: FakeDocker): { args: string[]; files: Record<string, string> } {
  const c = docker.service(CORE_SERVICE)?.Spec.TaskTemplate.ContainerSpec;
  return { args: [...(c?.Args ?? [])], files: Object.fromEntries((c?.Secrets ?? []).map((s) => [s.File.Name, s.SecretID])) };
}

function arg(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

describe('rotate-certs', () => {
  it('moves the core to a new set and keeps the previous CA trusted; install keeps it; --revoke-previous drops it', async () => {
    const docker = FakeDocker.singleNode();
    expect(await runInstall(docker, options, io)).toBe(0);
    const first = arg(core(docker).args, '--tls-set') ?? '';
    expect(await runRotateCerts(docker, io)).toBe(0);
    const sets = tlsSets(await docker.listSecrets());
    const second = sets.find((s) => s.id !== first);
    const previous = sets.find((s) => s.id === first);
    // The ACME state key (ADR 0013) is made once by install and kept by every rotation.
    const acmeKey = (await docker.listSecrets()).find((s) => s.Spec.Name === ACME_STATE_KEY.secretName)?.ID;
    expect(acmeKey).toBeDefined();
    let c = core(docker);
    expect(arg(c.args, '--tls-set')).toBe(second?.id);
    expect(arg(c.args, '--tls-previous-set')).toBe(first);
    expect(c.files).toEqual({
      'swarmgate-ca.crt': second?.ca.id,
      'swarmgate-ca.key': second?.caKey.id,
      'swarmgate-server.crt': second?.serverCert.id,
      'swarmgate-server.key': second?.serverKey.id,
      'swarmgate-previous-ca.crt': previous?.ca.id,
      'swarmgate-previous-ca.key': previous?.caKey.id,
      [ACME_STATE_KEY.file]: acmeKey,
    });
    // install again (an upgrade): nothing about the TLS sets changes.
    expect(await runInstall(docker, options, io)).toBe(0);
    expect(core(docker)).toEqual(c);
    // A second rotation: the previous set is the one rotated away from now, and the oldest is no longer mounted.
    expect(await runRotateCerts(docker, io)).toBe(0);
    c = core(docker);
    expect(arg(c.args, '--tls-previous-set')).toBe(second?.id);
    expect(c.args.filter((a) => a === '--tls-previous-set')).toHaveLength(1);
    expect(Object.values(c.files)).not.toContain(previous?.ca.id);
    expect(await runRotateCerts(docker, io, { revokePrevious: true })).toBe(0);
    c = core(docker);
    expect(c.args).not.toContain('--tls-previous-set');
    expect(Object.keys(c.files).sort()).toEqual([ACME_STATE_KEY.file, 'swarmgate-ca.crt', 'swarmgate-ca.key', 'swarmgate-server.crt', 'swarmgate-server.key'].sort());
    expect(c.files[ACME_STATE_KEY.file]).toBe(acmeKey);
  }, 60_000);
});
