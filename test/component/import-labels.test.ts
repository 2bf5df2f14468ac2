/**
 * `swarmgate import-labels` and the label rows of `get routes` over the in-memory Docker fake: the YAML
 * it prints, applied as specs once the labels are removed, gives the proxy configuration the labels gave;
 * service selection, rejects on stderr, exit codes, and no writes.
 */
import { parseAllDocuments } from 'yaml';
import { beforeEach, describe, expect, it } from 'vitest';
import { runDescribe, runGet } from '../../src/cli/commands/get';
import { runImportLabels } from '../../src/cli/commands/import-labels';
import { applyObject, DesiredStateReader } from '../../src/desired/spec-store';
import type { ServiceSpec } from '../../src/observed/docker-port';
import { readSnapshot } from '../../src/observed/read-snapshot';
import { desiredConfig } from '../../src/plan/pipeline';
import { renderNginx } from '../../src/render/nginx/render';
import { FakeDocker } from '../fakes/fake-docker';
import { object, route } from '../helpers/specs';

let docker: FakeDocker;

const LABELS: Record<string, Record<string, string>> = {
  'web-v1': { 'com.docker.lb.hosts': 'web.test', 'com.docker.lb.port': '80' },
  'web-v2': { 'com.docker.lb.hosts': 'web.test', 'com.docker.lb.port': '80' },
  blog: { 'com.docker.lb.hosts': 'web.test', 'com.docker.lb.port': '2368', 'com.docker.lb.context_root': '/blog', 'com.docker.lb.context_root_rewrite': 'true' },
  bad: { 'com.docker.lb.hosts': 'bad.test', 'com.docker.lb.port': 'eighty' },
};

function spec(name: string, labels: Record<string, string> = {}): ServiceSpec {
  return { Name: name, Labels: labels, TaskTemplate: { ContainerSpec: { Image: name }, Networks: [{ Target: 'app' }] } };
}

async function run(names: string[] = []): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runImportLabels(docker, names, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function renderedNow(): Promise<string> {
  const [{ desired }, { snapshot }] = await Promise.all([new DesiredStateReader(docker).read(), readSnapshot(docker)]);
  const model = desiredConfig({ specs: desired, snapshot, render: false }).clusters.find((c) => c.model.cluster === 'default')?.model;
  if (model === undefined) throw new Error('no default cluster');
  return renderNginx(model);
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  for (const [name, labels] of Object.entries(LABELS)) await docker.createService(spec(name, labels));
  await docker.createService(spec('plain'));
  docker.addTasks('web-v1', 3);
  docker.addTasks('web-v2', 1);
  docker.addTasks('blog', 1);
  docker.clearActions();
});

describe('import-labels', () => {
  it('prints the Routes of every labelled service, reports the bad one per label, exits 1, writes nothing', async () => {
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.err).toBe('service/bad labels["com.docker.lb.port"]: expected port 1..65535, got "eighty"');
    const docs = parseAllDocuments(r.out).map((d) => d.toJS() as { metadata: { name: string }; spec: unknown });
    expect(docs.map((d) => d.metadata.name)).toEqual(['svc-blog', 'svc-web-v1']);
    expect(docs[1]?.spec).toEqual({ hosts: ['web.test'], rules: [{ backends: [{ service: 'web-v1', port: 80 }, { service: 'web-v2', port: 80 }], split: 'Tasks' }] });
    expect(docker.actions).toEqual([]);
  });

  it('selects services by name; naming one of a pool prints the pooled Route; exit 0 when all translate', async () => {
    const r = await run(['web-v2']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(parseAllDocuments(r.out).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name)).toEqual(['svc-web-v1']);
  });

  it('exits 1 for an unknown service or one without labels', async () => {
    const r = await run(['nope', 'plain', 'blog']);
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toEqual(['service/nope not found', 'service/plain has no com.docker.lb.* labels']);
    expect(r.out).toContain('name: svc-blog');
  });

  it('applied as specs with the labels removed, gives the same proxy configuration', async () => {
    await docker.updateService(docker.service('bad')?.ID ?? '', docker.service('bad')?.Version.Index ?? 0, spec('bad'));
    const before = await renderedNow();
    expect(before).toMatch(/upstream u_[0-9a-f]{6}_web_v1_web_v2_80 \{/);
    const r = await run();
    expect(r.code).toBe(0);
    let t = 0;
    for (const doc of parseAllDocuments(r.out)) await applyObject(docker, object(doc.toJS()), () => new Date(Date.UTC(2026, 0, 1, 0, 0, t++)));
    for (const name of Object.keys(LABELS)) {
      const svc = docker.service(name);
      if (svc !== undefined) await docker.updateService(svc.ID, svc.Version.Index, spec(name));
    }
    expect((await readSnapshot(docker)).snapshot.services.every((s) => Object.keys(s.labels).length === 0)).toBe(true);
    expect(await renderedNow()).toBe(before);
  });
});

describe('get routes and describe with labelled services', () => {
  async function cli(f: (io: { out: (t: string) => void; err: (t: string) => void }) => Promise<number>): Promise<{ code: number; out: string }> {
    const out: string[] = [];
    const code = await f({ out: (t) => out.push(t), err: (t) => out.push(t) });
    return { code, out: out.join('\n') };
  }

  it('lists label routes with their computed conditions and a SOURCE column, read-only', async () => {
    await applyObject(docker, route('shop', { hosts: ['shop.test'], rules: [{ backends: [{ service: 'plain', port: 80 }] }] }));
    docker.clearActions();
    const r = await cli((io) => runGet(docker, 'routes', undefined, undefined, io));
    expect(r.code).toBe(0);
    const lines = r.out.split('\n').map((l) => l.split(/\s{2,}/));
    expect(lines[0]).toEqual(['NAME', 'HOSTS', 'CLUSTER', 'GENERATION', 'ACCEPTED', 'PROGRAMMED', 'AGE', 'SOURCE']);
    expect(lines.slice(1).map((l) => [l[0], l[4], l.at(-1)])).toEqual([
      ['shop', 'Unknown', 'spec'],
      ['svc-bad', 'False (Invalid)', 'service/bad'],
      ['svc-blog', 'True', 'service/blog'],
      ['svc-web-v1', 'True', 'service/web-v1,service/web-v2'],
    ]);
    expect(docker.actions).toEqual([]);
  });

  it('describes a label route with its source and conditions', async () => {
    const r = await cli((io) => runDescribe(docker, 'route', 'svc-web-v1', io));
    expect(r.code).toBe(0);
    expect(r.out).toContain('Source:       service/web-v1,service/web-v2 (com.docker.lb.* labels; not stored: conditions are computed now)');
    expect(r.out).toContain('  [0] prefix / -> web-v1:80 w=1 (3 running tasks), web-v2:80 w=1 (1 running task)');
    expect(r.out).toMatch(/^ {2}Accepted {8}True {5}Accepted {15}accepted by service cluster "default"$/m);
  });

  it('keeps -o yaml to stored objects', async () => {
    const r = await cli((io) => runGet(docker, 'routes', undefined, 'yaml', io));
    expect(r.out).toBe('');
  });
});
