/**
 * Two `install`s, two `rotate-certs`, and an install racing a rotation, interleaved call by call over the
 * in-memory fake (FakeDocker.beforeNext runs the second writer at an exact point of the first). In every
 * interleaving: the winner's spec is the one stored, the loser prints one conflict line and exits 3 (or,
 * when the winner stored exactly what it asked for, `unchanged` and 0), nothing is reported that was not
 * stored, and the TLS set a loser created is removed again. The same races on the real Swarm:
 * test/integration/concurrent-install.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CORE_SERVICE, runInstall, runRotateCerts } from '../../src/cli/commands/install';
import { EXIT, type Output } from '../../src/cli/output';
import { tlsSets } from '../../src/apply/tls-secrets';
import type { InstallOptions } from '../../src/plan/core-service-spec';
import { FakeDocker } from '../fakes/fake-docker';

function capture(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (t) => lines.push(t.trimEnd()), err: (t) => lines.push(`ERR ${t.trimEnd()}`) };
}

const opts = (logLevel: string): InstallOptions => ({ image: 'swarmgate/swarmgate:latest', localImages: false, logLevel });
const CONFLICT = /^ERR service\/swarmgate-core: conflict: .*nothing of this (install|rotation) was stored — run (install|rotate-certs) again$/;

async function core(docker: FakeDocker): Promise<{ env: readonly string[]; secrets: string[] }> {
  const s = (await docker.listServices()).find((x) => x.Spec.Name === CORE_SERVICE);
  return { env: s?.Spec.TaskTemplate.ContainerSpec.Env ?? [], secrets: (s?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => x.SecretID) };
}

describe('concurrent install and rotate-certs', () => {
  it('two first installs: one creates the core, the other gets a conflict and leaves no TLS set behind', async () => {
    const docker = FakeDocker.singleNode();
    const b = capture();
    let bCode: number | undefined;
    docker.beforeNext('createService', async () => {
      bCode = await runInstall(docker, opts('debug'), b);
    });
    const a = capture();
    const aCode = await runInstall(docker, opts('info'), a);
    // B ran entirely inside A's create: B won, A lost.
    expect(bCode).toBe(EXIT.ok);
    expect(b.lines.at(-1)).toBe(`service/${CORE_SERVICE} created (image swarmgate/swarmgate:latest)`);
    expect(aCode).toBe(EXIT.conflict);
    // The network and the ACME state key are shared: A may have created them, and B uses them.
    expect(a.lines.filter((l) => !l.startsWith('network/') && !l.startsWith('secret/'))).toHaveLength(1);
    expect(a.lines.at(-1)).toMatch(CONFLICT);
    // A printed no "tls/… created": its set is gone; the one set left is the one the core mounts.
    expect(a.lines.some((l) => l.startsWith('tls/'))).toBe(false);
    const sets = tlsSets(await docker.listSecrets());
    expect(sets).toHaveLength(1);
    const c = await core(docker);
    expect(c.secrets).toContain(sets[0]?.ca.id);
    expect(c.env).toContain('LOG_LEVEL=debug');
    // One control network.
    expect((await docker.listNetworks()).filter((n) => n.Name === 'swarmgate-control')).toHaveLength(1);
  });

  it('two installs of the same options on an existing core: the second finds its spec stored and says unchanged', async () => {
    const docker = FakeDocker.singleNode();
    expect(await runInstall(docker, opts('info'), capture())).toBe(EXIT.ok);
    const b = capture();
    docker.beforeNext('updateService', async () => {
      expect(await runInstall(docker, opts('debug'), b)).toBe(EXIT.ok);
    });
    const a = capture();
    expect(await runInstall(docker, opts('debug'), a)).toBe(EXIT.ok);
    expect(b.lines.at(-1)).toBe(`service/${CORE_SERVICE} configured (image swarmgate/swarmgate:latest)`);
    expect(a.lines.at(-1)).toBe(`service/${CORE_SERVICE} unchanged (another install stored the same spec at the same time)`);
  });

  it('two installs of different options on an existing core: the first to write wins, the other gets a conflict', async () => {
    const docker = FakeDocker.singleNode();
    expect(await runInstall(docker, opts('info'), capture())).toBe(EXIT.ok);
    const b = capture();
    docker.beforeNext('updateService', async () => {
      expect(await runInstall(docker, opts('warn'), b)).toBe(EXIT.ok);
    });
    const a = capture();
    expect(await runInstall(docker, opts('debug'), a)).toBe(EXIT.conflict);
    expect(a.lines).toHaveLength(1);
    expect(a.lines[0]).toMatch(CONFLICT);
    expect((await core(docker)).env).toContain('LOG_LEVEL=warn');
    expect(tlsSets(await docker.listSecrets())).toHaveLength(1);
  });

  it('two rotations: one is stored, the loser removes its new set and exits 3; the old set goes', async () => {
    const docker = FakeDocker.singleNode();
    expect(await runInstall(docker, opts('info'), capture())).toBe(EXIT.ok);
    const [first] = tlsSets(await docker.listSecrets());
    const b = capture();
    docker.beforeNext('updateService', async () => {
      expect(await runRotateCerts(docker, b)).toBe(EXIT.ok);
    });
    const a = capture();
    expect(await runRotateCerts(docker, a)).toBe(EXIT.conflict);
    expect(a.lines).toHaveLength(1);
    expect(a.lines[0]).toMatch(CONFLICT);
    const sets = tlsSets(await docker.listSecrets());
    // B's new set (mounted) and the original (still trusted as the previous set, ADR 0019); A's is removed by A.
    const fresh = sets.filter((x) => x.id !== first?.id);
    expect(sets.map((x) => x.id)).toContain(first?.id);
    expect(fresh).toHaveLength(1);
    expect((await core(docker)).secrets).toContain(fresh[0]?.ca.id);
    expect(b.lines[0]).toMatch(new RegExp(`^tls/${fresh[0]?.id ?? ''} created; service/${CORE_SERVICE} configured`));
  });

  it('a rotation whose new set the winner removed before its update: conflict, not a Docker error', async () => {
    const docker = FakeDocker.singleNode();
    expect(await runInstall(docker, opts('info'), capture())).toBe(EXIT.ok);
    const b = capture();
    // B runs after A created its set but before A reads nothing more: B's clean-up removes A's unused set.
    let secretsCreated = 0;
    const hook = async (): Promise<void> => {
      secretsCreated++;
      if (secretsCreated < 4) {
        docker.afterNext('createSecret', hook);
        return;
      }
      expect(await runRotateCerts(docker, b)).toBe(EXIT.ok);
    };
    docker.afterNext('createSecret', hook);
    const a = capture();
    expect(await runRotateCerts(docker, a)).toBe(EXIT.conflict);
    expect(a.lines[0]).toMatch(CONFLICT);
    // B's new set and the previous one it still trusts; nothing of A's.
    const sets = tlsSets(await docker.listSecrets());
    expect(sets).toHaveLength(2);
    expect((await core(docker)).secrets).toEqual(expect.arrayContaining(sets.map((x) => x.ca.id)));
  });
});
