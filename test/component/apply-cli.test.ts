/**
 * `swarmgate apply` as a user meets it: Ctrl-C between objects reports exactly what was stored and
 * what was not (exit 130), and a warning says when no core runs to act on what was stored.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runApply } from '../../src/cli/commands/apply';
import { EXIT, type Output } from '../../src/cli/output';
import { listStoredSpecs } from '../../src/desired/spec-store';
import { addCore } from '../helpers/running-core';
import { FakeDocker } from '../fakes/fake-docker';

function routesFile(names: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sg-apply-cli-'));
  const file = join(dir, 'routes.yaml');
  const doc = (n: string) => `apiVersion: swarmgate.io/v1\nkind: Route\nmetadata:\n  name: ${n}\nspec:\n  hosts: [${n}.example.com]\n  rules:\n    - backends: [{ service: ${n}, port: 80 }]\n`;
  writeFileSync(file, names.map(doc).join('---\n'));
  return file;
}

/** What apply says before writing (test/component/apply-preview.test.ts checks it): kept apart from the rest of stderr. */
const isPreview = (line: string): boolean => /^(note|warning): cluster "/.test(line) || /^warning: route\/\w+ would not be served/.test(line);

function capture(): Output & { readonly outLines: string[]; readonly errLines: string[]; readonly previewLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  const previewLines: string[] = [];
  return { outLines, errLines, previewLines, out: (t) => outLines.push(t), err: (t) => (isPreview(t) ? previewLines : errLines).push(t) };
}

async function storedRoutes(docker: FakeDocker): Promise<string[]> {
  const { current } = await listStoredSpecs(docker);
  return [...current.values()].filter((s) => s.kind === 'Route').map((s) => s.name).sort();
}

function withCore(docker: FakeDocker, running: boolean): Promise<void> {
  return addCore(docker, { running });
}

describe('swarmgate apply', () => {
  it('stops between objects on Ctrl-C and says what was stored and what was not', async () => {
    const docker = new FakeDocker();
    await withCore(docker, true);
    const io = capture();
    const ctrlC = new AbortController();
    // The user presses Ctrl-C while the first object is being stored.
    const out: Output = { out: (t) => { io.out(t); ctrlC.abort(); }, err: (t) => io.err(t) };
    const code = await runApply(docker, [routesFile(['alpha', 'beta', 'gamma'])], out, ctrlC.signal);
    expect(code).toBe(EXIT.interrupted);
    expect(io.outLines).toEqual(['route/alpha created']);
    expect(io.errLines).toEqual(['interrupted: 1 of 3 objects stored (route/alpha); not stored: route/beta, route/gamma']);
    expect(await storedRoutes(docker)).toEqual(['alpha']);
  });

  it('stores everything without a signal, and says nothing more when a core runs', async () => {
    const docker = new FakeDocker();
    await withCore(docker, true);
    const io = capture();
    expect(await runApply(docker, [routesFile(['alpha', 'beta'])], io)).toBe(EXIT.ok);
    expect(io.outLines).toEqual(['route/alpha created', 'route/beta created']);
    expect(io.errLines).toEqual([]);
    // Before writing: what the core will do (a new proxy service for the default cluster) and what it would not serve.
    expect(io.previewLines).toEqual([
      'warning: route/alpha would not be served: ResolvedRefs False (BackendNotFound): service "alpha" not found',
      'warning: route/beta would not be served: ResolvedRefs False (BackendNotFound): service "beta" not found',
      'note: cluster "default": new proxy service: 2 replicas start, publishing 80 (ingress), 443 (ingress)',
    ]);
    expect(await storedRoutes(docker)).toEqual(['alpha', 'beta']);
  });

  it('warns that nothing acts on the specs when the core is stopped or not installed', async () => {
    const stopped = new FakeDocker();
    await withCore(stopped, false);
    const a = capture();
    expect(await runApply(stopped, [routesFile(['alpha'])], a)).toBe(EXIT.ok);
    expect(a.errLines).toEqual(['warning: the swarmgate core (swarmgate-core) is not running (docker service ps swarmgate-core): nothing acts on these specs until one runs']);

    const none = new FakeDocker();
    const b = capture();
    expect(await runApply(none, [routesFile(['alpha'])], b)).toBe(EXIT.ok);
    expect(b.errLines).toEqual(['warning: no swarmgate core is installed (swarmgate install): nothing acts on these specs until one runs']);
    // The specs are stored all the same: the warning is about who acts on them.
    expect(await storedRoutes(none)).toEqual(['alpha']);
  });

  it('says the core is starting, not that it is not running, while its task is still coming up (right after install)', async () => {
    for (const state of ['pending', 'assigned', 'preparing', 'starting']) {
      const docker = new FakeDocker();
      await addCore(docker, { running: false, starting: state });
      const io = capture();
      expect(await runApply(docker, [routesFile(['alpha'])], io)).toBe(EXIT.ok);
      expect(io.errLines).toEqual([`note: the swarmgate core (swarmgate-core) is starting (its task is ${state}); it acts on these specs once it runs`]);
    }
    // A task that failed and is not replaced yet is a core that does not run.
    const failed = new FakeDocker();
    await addCore(failed, { running: false, starting: 'failed' });
    const io = capture();
    await runApply(failed, [routesFile(['alpha'])], io);
    expect(io.errLines).toEqual(['warning: the swarmgate core (swarmgate-core) is not running (docker service ps swarmgate-core): nothing acts on these specs until one runs']);
  });
});
