/**
 * Revisioned rollback over the in-memory Docker fake (ADR 0007): revisions on generated configs,
 * `history cluster`, `rollback cluster` delivering an old revision (rolling and hitless), the
 * RolledBack condition, and the next apply ending the rollback.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/api/control-plane';
import { runDescribe, runGet } from '../../src/cli/commands/get';
import { statusText } from '../../src/cli/commands/status';
import { runHistory, runRollback } from '../../src/cli/commands/history';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { parseStatus } from '../../src/status/object-status';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
let docker: FakeDocker;

const web = (host: string) => route('web', { serviceCluster: 'edge', hosts: [host], rules: [{ backends: [{ service: 'web', port: 8080 }] }] });
const api = route('api', { serviceCluster: 'edge', hosts: ['api.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] });
const edge = (replicas = 1, delivery: 'rolling' | 'hitless' = 'rolling') => cluster('edge', { proxy: { replicas, delivery, publish: { mode: 'host', http: 18080, https: 18443 } } });

async function programmed(name: string, kind = 'Route') {
  const [c] = await docker.listConfigs([`${LABELS.kind}=${kind}`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions.find((x) => x.type === 'Programmed');
}

async function clusterLabels() {
  const [c] = await docker.listConfigs([`${LABELS.kind}=ServiceCluster`, `${LABELS.name}=edge`]);
  return c?.Spec.Labels ?? {};
}

async function cli(f: (io: { out: (t: string) => void; err: (t: string) => void }) => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await f({ out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A string as a literal part of a regular expression. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const mounted = () => docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName;

async function configNameOf(revision: number): Promise<string | undefined> {
  const [c] = await docker.listConfigs([`${LABELS.role}=proxy-config`, `${LABELS.cluster}=edge`, `${LABELS.revision}=${revision}`]);
  return c?.Spec.Name;
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  docker.addNetwork('swarmgate-control');
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 2);
});

/** Revision 1 serves web.test, revision 2 shop.test; api (generation 1) is in both. */
async function twoRevisions(run: CoreRun, delivery: 'rolling' | 'hitless' = 'rolling'): Promise<void> {
  await applyObject(docker, edge(1, delivery));
  await applyObject(docker, web('web.test'));
  await applyObject(docker, api);
  await run.run(1);
  await applyObject(docker, web('shop.test'));
  await run.run(2);
}

describe('revisions', () => {
  it('numbers generated configs per cluster and records their route generations', async () => {
    const run = new CoreRun(docker, quiet);
    await twoRevisions(run);
    const configs = await docker.listConfigs([`${LABELS.role}=proxy-config`, `${LABELS.cluster}=edge`]);
    const byRevision = Object.fromEntries(configs.map((c) => [c.Spec.Labels?.[LABELS.revision], c.Spec.Labels?.[LABELS.routes]]));
    expect(byRevision).toEqual({ '1': 'api@1,web@1', '2': 'api@1,web@2' });
    expect(mounted()).toBe(await configNameOf(2));
  });

  it('renumbers a known config that becomes current again, so the current one is the newest', async () => {
    const run = new CoreRun(docker, quiet);
    await twoRevisions(run);
    await deleteObject(docker, 'Route', 'api');
    await run.run(3);
    await applyObject(docker, api);
    await run.run(4); // same content as revision 2, but api is a new generation 1 again
    const revisions = (await docker.listConfigs([`${LABELS.role}=proxy-config`, `${LABELS.cluster}=edge`])).map((c) => Number(c.Spec.Labels?.[LABELS.revision])).sort();
    expect(revisions).toEqual([1, 3, 4]);
    expect(mounted()).toBe(await configNameOf(4));
    docker.clearActions();
    await run.run(5);
    expect(docker.writes).toEqual([]); // renumbered once, then converged
  });

  it('lists revisions with history cluster (table and JSON)', async () => {
    const run = new CoreRun(docker, quiet);
    await twoRevisions(run);
    const table = await cli((io) => runHistory(docker, 'cluster', 'edge', undefined, io));
    expect(table.code).toBe(0);
    const lines = table.out.split('\n');
    expect(lines[0]).toMatch(/^REVISION\s+CREATED\s+ROUTES\s+CURRENT$/);
    // ROUTES names the route generations each revision serves (revision 2: web's second generation).
    expect(lines[1]).toMatch(/^rev 1 \([0-9a-f]{12}\)\s+\d+s ago\s+api@1, web@1$/);
    expect(lines[2]).toMatch(/^rev 2 \([0-9a-f]{12}\)\s+\d+s ago\s+api@1, web@2\s+\*$/);
    // The hash is the end of the revision's Swarm config name.
    expect(lines[2]).toContain(`rev 2 (${(await configNameOf(2))?.slice(-12) ?? 'missing'})`);
    const json = await cli((io) => runHistory(docker, 'cluster', 'edge', 'json', io));
    const parsed = JSON.parse(json.out) as { current: number; revisions: { revision: number; config: string; routes: number; current: boolean }[] };
    expect(parsed.current).toBe(2);
    expect(parsed.revisions.map((r) => [r.revision, r.routes, r.current])).toEqual([
      [1, 2, false],
      [2, 2, true],
    ]);
    expect((await cli((io) => runHistory(docker, 'route', 'web', undefined, io))).code).toBe(2);
  });
});

describe('rollback', () => {
  it('mounts the previous revision on a rolling proxy and marks routes not in it RolledBack', async () => {
    const run = new CoreRun(docker, quiet);
    await twoRevisions(run);
    const r = await cli((io) => runRollback(docker, 'cluster', 'edge', undefined, io));
    // One identifier for the revision everywhere (ADR 0025): rev N (the first 12 hex digits ending its config's name).
    const rev1 = `rev 1 (${(await configNameOf(1))?.slice(-12) ?? 'missing'})`;
    expect(r).toMatchObject({ code: 0, out: `servicecluster/edge rolled back to ${rev1}` });
    expect((await clusterLabels())[LABELS.rollback]).toBe('1');
    docker.clearActions();
    await run.run(3);
    expect(docker.writes.map((a) => a.op)).not.toContain('createConfig');
    expect(mounted()).toBe(await configNameOf(1));
    expect(await programmed('web')).toMatchObject({ status: 'False', reason: 'RolledBack' });
    expect((await programmed('web'))?.message).toContain(`rolled back to ${rev1}, which does not contain generation`);
    expect((await programmed('api'))?.reason).not.toBe('RolledBack');
    expect((await programmed('edge', 'ServiceCluster'))?.message).toContain(`rolled back to ${rev1} until the next apply`);
    const history = await cli((io) => runHistory(docker, 'cluster', 'edge', undefined, io));
    expect(history.out).toMatch(/^rev 1 \(.*\*$/m);
    expect(history.out).toContain(`cluster "edge" is rolled back to ${rev1} until`);
    // get sc and status say so next to PROGRAMMED, with the same identifier.
    const sc = await cli((io) => runGet(docker, 'sc', undefined, undefined, io));
    expect(sc.out).toMatch(new RegExp(`^edge\\s.*\\(rolled back to ${escape(rev1)}\\)`, 'm'));
    expect(await statusText(docker)).toMatch(new RegExp(`^edge\\s.*\\(rolled back to ${escape(rev1)}\\)$`, 'm'));
    expect(await statusText(docker)).not.toContain('revision 1');
    // Converged while rolled back: nothing more to write.
    docker.clearActions();
    await run.run(4);
    expect(docker.writes).toEqual([]);
    // One identifier for the served revision, the same in history, status, get sc -o wide and describe.
    const id = `rev 1 (${(await configNameOf(1))?.slice(-12) ?? 'missing'})`;
    expect(history.out).toMatch(new RegExp(`^${escape(id)}\\s.*\\*$`, 'm'));
    for (const id of docker.taskIds('sg-proxy-edge')) docker.setTaskState(id, 'shutdown', 'shutdown');
    docker.addTasks('sg-proxy-edge', 1);
    expect(await statusText(docker)).toMatch(new RegExp(`^edge\\s+sg-proxy-edge\\s+1/1\\s+${escape(id)}\\s+\\S+: ${escape(id)}\\s`, 'm'));
    const wide = await cli((io) => runGet(docker, 'sc', 'edge', 'wide', io));
    expect(wide.out).toContain(`${id}  `);
    expect(wide.out).toMatch(new RegExp(`\\S+: ${escape(id)}$`, 'm'));
    const described = await cli((io) => runDescribe(docker, 'sc', 'edge', io));
    expect(described.out).toContain(`current config ${id}`);
    expect(described.out).toMatch(new RegExp(`^  sg-proxy-edge\\.1 on \\S+ serves ${escape(id)}$`, 'm'));
  });

  it('hands the old revision to hitless agents through the plane', async () => {
    const plane = new ControlPlane();
    const run = new CoreRun(docker, quiet, { plane, agents: { coreAddress: 'swarmgate-core:50051', controlNetwork: 'swarmgate-control', insecure: true } });
    await twoRevisions(run, 'hitless');
    expect(plane.delivered('edge')?.files[0]?.content.toString()).toContain('shop.test');
    await cli((io) => runRollback(docker, 'cluster', 'edge', '1', io));
    docker.clearActions();
    await run.run(3);
    const content = plane.delivered('edge')?.files[0]?.content.toString() ?? '';
    expect(content).toContain('web.test');
    expect(content).not.toContain('shop.test');
    expect(docker.writes.map((a) => a.op)).not.toContain('createConfig');
    expect(await programmed('web')).toMatchObject({ status: 'False', reason: 'RolledBack' });
  });

  it('ends at the next apply of one of the cluster\'s routes', async () => {
    const run = new CoreRun(docker, quiet);
    await twoRevisions(run);
    await cli((io) => runRollback(docker, 'cluster', 'edge', undefined, io));
    await run.run(3);
    await applyObject(docker, web('new.test'));
    await run.run(4);
    expect((await clusterLabels())[LABELS.rollback]).toBeUndefined();
    expect(mounted()).toBe(await configNameOf(3));
    expect((await programmed('web'))?.reason).toBe('Pending');
    expect((await cli((io) => runHistory(docker, 'cluster', 'edge', undefined, io))).out).toMatch(/^rev 3 \(.*\*$/m);
  });

  it('ends at the next apply of the cluster itself', async () => {
    const run = new CoreRun(docker, quiet);
    await twoRevisions(run);
    await cli((io) => runRollback(docker, 'cluster', 'edge', undefined, io));
    await run.run(3);
    await applyObject(docker, edge(2));
    await run.run(4);
    expect((await clusterLabels())[LABELS.rollback]).toBeUndefined();
    expect(mounted()).toBe(await configNameOf(2));
    expect((await programmed('web'))?.reason).not.toBe('RolledBack');
  });

  it('rolling back to the newest revision clears the rollback', async () => {
    const run = new CoreRun(docker, quiet);
    await twoRevisions(run);
    await cli((io) => runRollback(docker, 'cluster', 'edge', '1', io));
    const r = await cli((io) => runRollback(docker, 'cluster', 'edge', '2', io));
    expect(r.out).toContain('rollback cleared');
    expect((await clusterLabels())[LABELS.rollback]).toBeUndefined();
  });

  it('refuses unknown revisions, clusters without history, and the implicit default cluster', async () => {
    const run = new CoreRun(docker, quiet);
    await twoRevisions(run);
    const unknown = await cli((io) => runRollback(docker, 'cluster', 'edge', '9', io));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe('revision 9 of cluster "edge" not found; known revisions: 1, 2 (swarmgate history cluster edge)');
    expect((await cli((io) => runRollback(docker, 'cluster', 'edge', 'x', io))).code).toBe(2);
    expect((await cli((io) => runRollback(docker, 'cluster', 'nope', undefined, io))).err).toBe('servicecluster "nope" not found');
    expect((await cli((io) => runRollback(docker, 'cluster', 'default', undefined, io))).err).toContain('implicit "default" cluster has no stored spec');
    await cli((io) => runRollback(docker, 'cluster', 'edge', undefined, io));
    const again = await cli((io) => runRollback(docker, 'cluster', 'edge', undefined, io));
    expect(again).toMatchObject({ code: 1, err: 'cluster "edge" has no revision before 1 to roll back to (swarmgate history cluster edge)' });
  });
});
