/** `swarmgate version`: client and core versions, and what it says when the core cannot be known. */
import { describe, expect, it } from 'vitest';
import { runVersion } from '../../src/cli/commands/version';
import { EXIT, type Output } from '../../src/cli/output';
import { DockerApiError } from '../../src/observed/docker-errors';
import { addCore } from '../helpers/running-core';
import { FakeDocker } from '../fakes/fake-docker';

function capture(): Output & { readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (t) => lines.push(t), err: (t) => lines.push(`ERR ${t}`) };
}

function installCore(docker: FakeDocker, running: boolean): Promise<void> {
  return addCore(docker, { running, image: 'sha256:0123abcd' });
}

describe('swarmgate version', () => {
  it('prints the client version and the running core image\'s version', async () => {
    const docker = new FakeDocker();
    await installCore(docker, true);
    docker.imageVersions.set('sha256:0123abcd', '0.9.1');
    const io = capture();
    expect(await runVersion(() => docker, '1.2.3', undefined, io)).toBe(EXIT.ok);
    expect(io.lines).toEqual(['client: 1.2.3', 'core:   0.9.1 (swarmgate-core, running, image sha256:0123abcd)']);
  });

  it('says when the core is stopped, not installed, or its image is not on this node', async () => {
    const stopped = new FakeDocker();
    await installCore(stopped, false);
    const a = capture();
    await runVersion(() => stopped, '1.2.3', undefined, a);
    expect(a.lines[1]).toBe('core:   unknown (its image is not on this node) (swarmgate-core, NOT RUNNING, image sha256:0123abcd)');
    const b = capture();
    await runVersion(() => new FakeDocker(), '1.2.3', undefined, b);
    expect(b.lines[1]).toBe('core:   not installed (swarmgate install)');
  });

  it('still prints the client line when Docker cannot be reached, and exits 2', async () => {
    const docker = new FakeDocker().failNext('listServices', new DockerApiError(500, 'daemon unavailable', 'listServices'));
    const io = capture();
    expect(await runVersion(() => docker, '1.2.3', 'json', io)).toBe(EXIT.usage);
    const parsed = JSON.parse(io.lines[0] ?? '{}') as { client: { version: string }; core: { error?: string } };
    expect(parsed.client.version).toBe('1.2.3');
    expect(parsed.core.error).toMatch(/daemon unavailable/);
  });
});
