/** `swarmgate diff` over the in-memory Docker fake: exit codes, spec and config diffs, and no writes. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runDiff } from '../../src/cli/commands/diff';
import { applyObject } from '../../src/desired/spec-store';
import { FakeDocker } from '../fakes/fake-docker';
import { route } from '../helpers/specs';

let docker: FakeDocker;
const dir = mkdtempSync(join(tmpdir(), 'sg-diff-'));

function specFile(name: string, weights: [number, number]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `apiVersion: swarmgate.io/v1\nkind: Route\nmetadata: {name: web}\nspec:\n  hosts: [web.test]\n  rules:\n    - backends:\n        - {service: v1, port: 80, weight: ${weights[0]}}\n        - {service: v2, port: 80, weight: ${weights[1]}}\n`,
  );
  return file;
}

async function diff(file: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDiff(docker, [file], { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  for (const s of ['v1', 'v2']) {
    await docker.createService({ Name: s, TaskTemplate: { ContainerSpec: { Image: s }, Networks: [{ Target: 'app' }] } });
    docker.addTasks(s, 1);
  }
  await applyObject(docker, route('web', { hosts: ['web.test'], rules: [{ backends: [{ service: 'v1', port: 80, weight: 90 }, { service: 'v2', port: 80, weight: 10 }] }] }));
  docker.clearActions();
});

describe('diff', () => {
  it('exits 0 and says so when applying would change nothing', async () => {
    const r = await diff(specFile('same.yaml', [90, 10]));
    expect(r).toMatchObject({ code: 0, out: 'no changes' });
    expect(docker.writes).toEqual([]);
  });

  it('shows the spec change, the nginx.conf change and the proxy to update, and exits 1', async () => {
    const r = await diff(specFile('shift.yaml', [50, 50]));
    expect(r.code).toBe(1);
    expect(r.out).toContain('route/web would be configured');
    expect(r.out).toMatch(/^-\s+weight: 90$/m);
    expect(r.out).toMatch(/^\+\s+weight: 50$/m);
    expect(r.out).toMatch(/^-\s+90\.00% u_\w+;$/m);
    expect(r.out).toMatch(/^\+\s+50\.00% u_\w+;$/m);
    expect(r.out).toContain('proxy services that would be updated: sg-proxy-default');
    expect(docker.writes).toEqual([]);
  });

  it('exits 2 on invalid input, with the usual located errors', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: swarmgate.io/v1\nkind: Route\nmetadata: {name: web}\nspec: {hosts: ["bad host"], rules: [{backends: [{service: v1, port: 80}]}]}\n');
    const r = await diff(file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.yaml:4:\d+ Route\/web spec\.hosts\[0\]: expected hostname/);
  });
});

describe('diff of a new object', () => {
  it('shows the whole spec as added and the new virtual host in the config', async () => {
    const file = join(dir, 'new.yaml');
    writeFileSync(file, 'apiVersion: swarmgate.io/v1\nkind: Route\nmetadata: {name: fresh}\nspec: {hosts: [fresh.test], rules: [{backends: [{service: v1, port: 80}]}]}\n');
    const r = await diff(file);
    expect(r.code).toBe(1);
    expect(r.out).toContain('route/fresh would be created');
    expect(r.out).toMatch(/^--- route\/fresh \(stored\)$/m);
    expect(r.out).toMatch(/^\+ {8}server_name "fresh\.test";$/m);
  });
});

describe('diff prints the Plan', () => {
  it('lists the proxy service update and the config the core would write, and whether the update restarts the tasks', async () => {
    const { CoreRun } = await import('../../src/core/core-run');
    const pino = (await import('pino')).default;
    await new CoreRun(docker, pino({ level: 'silent' })).run(1);
    const mounted = docker.service('sg-proxy-default')?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName ?? 'none';
    docker.clearActions();
    const r = await diff(specFile('shift-plan.yaml', [50, 50]));
    expect(r.code).toBe(1);
    expect(r.out).toContain('what the core would write:\ncluster/default:');
    // The new config is named as every command names a revision: rev N and the end of its Swarm config's name.
    expect(r.out).toMatch(/^ {2}createConfig sg-nginx-default-([0-9a-f]{12}) \(no restart\): the rendered nginx config changed: new config rev 2 \(\1\)$/m);
    expect(r.out).toMatch(new RegExp(`^ {2}updateService sg-proxy-default \\(restarts the tasks\\): mount config rev 2 \\([0-9a-f]{12}\\) \\(was ${mounted}\\)$`, 'm'));
    expect(docker.writes).toEqual([]);
  });

});
