/**
 * The whole core run over the in-memory Docker fake: what it writes on a fresh cluster, that it
 * writes nothing once converged (also after a restart), how it follows task changes, how faults
 * surface, and per-route isolation of a bad spec.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { applyObject } from '../../src/desired/spec-store';
import { DockerApiError } from '../../src/observed/docker-errors';
import { parseStatus } from '../../src/status/object-status';
import { addRunningCore } from '../helpers/running-core';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
let docker: FakeDocker;

const web = route('web', { serviceCluster: 'edge', hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] });
const edge = cluster('edge', { proxy: { replicas: 1, publish: { mode: 'host', http: 18080, https: 18443 } } });

async function statusOf(name: string, kind = 'Route') {
  const configs = await docker.listConfigs([`${LABELS.kind}=${kind}`, `${LABELS.name}=${name}`]);
  const [c] = configs;
  return parseStatus(c?.Spec.Labels?.[LABELS.status]);
}

function condition(st: Awaited<ReturnType<typeof statusOf>>, type: string) {
  return st?.conditions.find((c) => c.type === type);
}

/** Start the proxy tasks Swarm would start for the proxy service's current spec. */
function startProxyTasks(n = 1): void {
  const svc = docker.service('sg-proxy-edge');
  if (svc === undefined) throw new Error('no proxy service');
  for (const id of docker.taskIds('sg-proxy-edge')) docker.setTaskState(id, 'shutdown', 'shutdown');
  docker.addTasks('sg-proxy-edge', n);
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  docker.images.set('swarmgate/proxy:latest', 'sha256:proxyimage');
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 2);
  await applyObject(docker, edge);
  await applyObject(docker, web);
  docker.clearActions();
});

describe('core run', () => {
  it('creates the proxy config and service on a fresh cluster, then reports status', async () => {
    const run = new CoreRun(docker, quiet);
    const r = await run.run(1);
    expect(r.result).toBe('applied');
    const ops = docker.writes.map((a) => `${a.op} ${a.target}`);
    expect(ops).toContain('createService sg-proxy-edge');
    expect(ops.some((o) => /^createConfig sg-nginx-edge-[0-9a-f]{12}$/.test(o))).toBe(true);
    const svc = docker.service('sg-proxy-edge');
    expect(svc?.Spec.EndpointSpec?.Ports).toEqual([
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 18080, PublishMode: 'host' },
      { Protocol: 'tcp', TargetPort: 443, PublishedPort: 18443, PublishMode: 'host' },
    ]);
    expect(svc?.Spec.UpdateConfig?.Order).toBe('stop-first');
    expect(svc?.Spec.TaskTemplate.Networks?.length).toBe(1);
    expect(condition(await statusOf('web'), 'Accepted')?.status).toBe('True');
    expect(condition(await statusOf('web'), 'Programmed')).toMatchObject({ status: 'False', reason: 'Pending' });
  });

  it('marks the route Programmed once a proxy task runs the current config, then writes nothing', async () => {
    const run = new CoreRun(docker, quiet);
    await run.run(1);
    startProxyTasks();
    docker.clearActions();
    expect((await run.run(2)).result).toBe('applied');
    // Status only: the route and its cluster flip to Programmed/Ready.
    expect(docker.writes.map((a) => a.op)).toEqual(['updateConfigLabels', 'updateConfigLabels']);
    expect(condition(await statusOf('web'), 'Programmed')?.status).toBe('True');
    expect(condition(await statusOf('edge', 'ServiceCluster'), 'Ready')?.status).toBe('True');
    docker.clearActions();
    expect((await run.run(3)).result).toBe('unchanged');
    expect(docker.writes).toEqual([]);
  });

  it('causes no proxy update when the core restarts', async () => {
    await new CoreRun(docker, quiet).run(1);
    startProxyTasks();
    await new CoreRun(docker, quiet).run(2);
    docker.clearActions();
    const restarted = new CoreRun(docker, quiet);
    expect((await restarted.run(1)).result).toBe('unchanged');
    expect(docker.writes).toEqual([]);
  });

  it('follows task changes with a new content-addressed config and one service update', async () => {
    const run = new CoreRun(docker, quiet);
    await run.run(1);
    startProxyTasks();
    await run.run(2);
    docker.clearActions();
    const [first] = docker.taskIds('web');
    if (first === undefined) throw new Error('no task');
    docker.setTaskState(first, 'running', 'shutdown'); // drain: leaves the upstream before it stops
    await run.run(3);
    expect(docker.writes.map((a) => a.op)).toEqual(['createConfig', 'updateService', 'updateConfigLabels', 'updateConfigLabels']);
    const cfg = docker.writes[0]?.spec as { Data?: string } | undefined;
    const rendered = Buffer.from(cfg?.Data ?? '', 'base64').toString('utf8');
    expect(rendered.match(/server \S+:8080 /g)?.length).toBe(1);
    // The cluster is on its way to the new config; the route's generation is still served by every replica.
    expect(condition(await statusOf('edge', 'ServiceCluster'), 'Programmed')?.status).toBe('False');
    expect(condition(await statusOf('web'), 'Programmed')).toMatchObject({ status: 'True', reason: 'Programmed' });
    expect(condition(await statusOf('web'), 'Programmed')?.message).toMatch(/newest configuration, for other changes, is not everywhere yet/);
  });

  it('takes a route out of Programmed only when its own generation is not served everywhere', async () => {
    const run = new CoreRun(docker, quiet);
    await run.run(1);
    startProxyTasks();
    await run.run(2);
    expect(condition(await statusOf('web'), 'Programmed')?.status).toBe('True');
    await applyObject(docker, route('web', { serviceCluster: 'edge', hosts: ['web.test', 'www.web.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
    await run.run(3);
    // The running replica still mounts the config with generation 1: generation 2 is not served yet.
    expect(condition(await statusOf('web'), 'Programmed')).toMatchObject({ status: 'False', reason: 'Pending' });
    startProxyTasks();
    await run.run(4);
    expect(condition(await statusOf('web'), 'Programmed')).toMatchObject({ status: 'True', reason: 'Programmed' });
  });

  it('names the proxy image by local ID in local-images mode (no registry pulls)', async () => {
    await new CoreRun(docker, quiet, { localImages: true }).run(1);
    expect(docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Image).toBe('sha256:proxyimage');
  });

  it('surfaces Docker faults to the loop and converges on the next run', async () => {
    // The first proxy service written is the implicit default cluster's; the fault is its alone.
    docker.failNext('createService', new DockerApiError(500, 'daemon busy', 'createService'));
    const run = new CoreRun(docker, quiet);
    await expect(run.run(1)).rejects.toThrow('daemon busy');
    expect(docker.service('sg-proxy-default')).toBeUndefined();
    await run.run(2);
    expect(docker.service('sg-proxy-default')).toBeDefined();
  });

  it('keeps good routes converging next to a conflicting one', async () => {
    await applyObject(docker, route('zzz-dup', { serviceCluster: 'edge', hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
    const run = new CoreRun(docker, quiet);
    await run.run(1);
    expect(condition(await statusOf('zzz-dup'), 'Accepted')).toMatchObject({ status: 'False', reason: 'HostConflict' });
    expect(condition(await statusOf('web'), 'Accepted')?.status).toBe('True');
  });

  it('removes the proxy of a deleted service cluster', async () => {
    const run = new CoreRun(docker, quiet);
    await run.run(1);
    const { deleteObject } = await import('../../src/desired/spec-store');
    await deleteObject(docker, 'ServiceCluster', 'edge');
    await run.run(2);
    expect(docker.service('sg-proxy-edge')).toBeUndefined();
  });
});

describe('status command', () => {
  it('shows each proxy replica\'s config and the route conditions', async () => {
    const { statusText } = await import('../../src/cli/commands/status');
    const run = new CoreRun(docker, quiet);
    await run.run(1);
    startProxyTasks();
    await run.run(2);
    await addRunningCore(docker);
    const text = await statusText(docker);
    const cfg = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName.replace('sg-nginx-edge-', '') ?? 'missing';
    // CONFIG and each replica: `rev N (hash)`, the hash being the end of the mounted config's name; replicas by node hostname.
    expect(text).toMatch(new RegExp(`^edge\\s+sg-proxy-edge\\s+1/1\\s+(rev 1 \\(${cfg}\\))\\s+\\S+: \\1\\s+host:18080,host:18443\\s+True$`, 'm'));
    expect(text).toMatch(/^web\s+1\s+True\s+True\s+True$/m);
  });

  it('reads Programmed as Unknown (CoreNotRunning) in the tables once the core stops, as get does', async () => {
    const { statusText } = await import('../../src/cli/commands/status');
    const run = new CoreRun(docker, quiet);
    await run.run(1);
    startProxyTasks();
    await run.run(2);
    await addRunningCore(docker);
    expect(await statusText(docker)).toMatch(/^web\s+1\s+True\s+True\s+True$/m);
    for (const id of docker.taskIds('swarmgate-core')) docker.setTaskState(id, 'shutdown', 'shutdown');
    const text = await statusText(docker);
    expect(text).toMatch(/^web\s+1\s+True\s+True\s+Unknown \(CoreNotRunning\)$/m);
    expect(text).toMatch(/^edge\s+sg-proxy-edge\s.*\sUnknown \(CoreNotRunning\)$/m);
  });
});

describe('status command: the core itself', () => {
  const line = (text: string) => text.split('\n')[0];
  const record = (seq: number) => `{"level":30,"time":${Date.parse('2026-01-01T00:00:00Z')},"seq":${seq},"result":"applied","reason":"config changed"}`;

  beforeEach(async () => {
    await docker.createService({ Name: 'swarmgate-core', Labels: { [LABELS.owner]: 'swarmgate', [LABELS.role]: 'core' }, TaskTemplate: { ContainerSpec: { Image: 'swarmgate' } } });
  });

  it('reads the last run from the running task only, never a dead one\'s', async () => {
    const [dead] = docker.addTasks('swarmgate-core', 1, { state: 'failed', desiredState: 'shutdown' });
    const [live] = docker.addTasks('swarmgate-core', 1);
    docker.taskLogs.set(dead ?? '', [record(198)]);
    docker.taskLogs.set(live ?? '', [record(13)]);
    const { statusText } = await import('../../src/cli/commands/status');
    expect(line(await statusText(docker, new Date('2026-01-01T00:00:05Z')))).toBe('core: swarmgate-core 1/1 running; last run #13 applied (config changed) 5s ago');
  });

  it('says the core is not running, and that the conditions may be stale, when no task runs', async () => {
    const [dead] = docker.addTasks('swarmgate-core', 1, { state: 'shutdown', desiredState: 'shutdown' });
    docker.taskLogs.set(dead ?? '', [record(30)]);
    const { statusText } = await import('../../src/cli/commands/status');
    expect(line(await statusText(docker))).toBe(
      'core: swarmgate-core is NOT RUNNING (0/1; last task shutdown). Nothing is reconciled; the conditions below were written by a core that is gone and may be out of date.',
    );
  });

  it('gives up on a log that does not answer instead of hanging', async () => {
    const [live] = docker.addTasks('swarmgate-core', 1);
    docker.hangingLogs.add(live ?? '');
    const { statusText, CORE_LOG_TIMEOUT_MS } = await import('../../src/cli/commands/status');
    const started = Date.now();
    expect(line(await statusText(docker))).toBe('core: swarmgate-core 1/1 running; last run unknown (its log did not answer within 3 s)');
    expect(Date.now() - started).toBeLessThan(CORE_LOG_TIMEOUT_MS + 2_000);
  });
});

describe('describe command', () => {
  it('lists backends with running task counts and the proxy replicas with their config', async () => {
    const { runDescribe } = await import('../../src/cli/commands/get');
    const run = new CoreRun(docker, quiet);
    await run.run(1);
    startProxyTasks();
    await run.run(2);
    await addRunningCore(docker);
    const out: string[] = [];
    const code = await runDescribe(docker, 'route', 'web', { out: (t) => out.push(t), err: (t) => out.push(t) });
    const text = out.join('\n');
    expect(code).toBe(0);
    expect(text).toContain('-> web:8080 w=1 (2 running tasks)');
    expect(text).toMatch(/^Proxy replicas \(sg-proxy-edge, current config (rev \d+ \([0-9a-f]{12}\))\):\n {2}sg-proxy-edge\.\d+ on \S+ serves \1$/m);
    expect(text).toMatch(/Programmed +True/);
  });

  it('ends with the events read back from what is stored: generation, condition changes, config revisions', async () => {
    const { runDescribe } = await import('../../src/cli/commands/get');
    const run = new CoreRun(docker, quiet);
    await run.run(1);
    startProxyTasks();
    await run.run(2);
    // A second generation of the route: a new config revision carries it, the first does not.
    await applyObject(docker, route('web', { serviceCluster: 'edge', hosts: ['web.test', 'www.web.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
    await run.run(3);
    await addRunningCore(docker);
    const out: string[] = [];
    await runDescribe(docker, 'route', 'web', { out: (t) => out.push(t), err: (t) => out.push(t) });
    const events = (out.join('\n').split('\nEvents:\n')[1] ?? '').split('\n').map((l) => l.replace(/^\s*\S+ ago {2}/, ''));
    expect(events).toContain('generation 2 stored');
    expect(events).toContain('Accepted became True (Accepted)');
    expect(events.filter((e) => /^proxy config revision 1 \(sg-nginx-edge-[0-9a-f]{12}\), without this generation$/.test(e))).toHaveLength(1);
    expect(events.filter((e) => /^proxy config revision 2 \(sg-nginx-edge-[0-9a-f]{12}\), with generation 2$/.test(e))).toHaveLength(1);
  });
});

describe('proxy placement and config history', () => {
  it('places proxies on workers when one is available, else anywhere; cluster constraints replace the default', async () => {
    const run = new CoreRun(docker, quiet);
    await run.run(1);
    expect(docker.service('sg-proxy-edge')?.Spec.TaskTemplate.Placement?.Constraints).toEqual([]);
    docker.addNode('worker-1', { role: 'worker' });
    await run.run(2);
    expect(docker.service('sg-proxy-edge')?.Spec.TaskTemplate.Placement?.Constraints).toEqual(['node.role==worker']);
    await applyObject(docker, cluster('edge', { proxy: { replicas: 1, constraints: ['node.labels.edge==true'], publish: { mode: 'host', http: 18080, https: 18443 } } }));
    await run.run(3);
    expect(docker.service('sg-proxy-edge')?.Spec.TaskTemplate.Placement?.Constraints).toEqual(['node.labels.edge==true']);
  });

  it('prunes generated configs no task uses, keeping the newest five revisions', async () => {
    const run = new CoreRun(docker, quiet);
    for (let i = 0; i < 7; i++) {
      docker.addTasks('web', 1); // every new task changes the upstream, so the config
      await run.run(i + 1);
    }
    const generated = (await docker.listConfigs([`${LABELS.role}=proxy-config`, `${LABELS.cluster}=edge`])).map((c) => c.Spec.Name);
    const current = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName;
    expect(generated).toContain(current);
    expect(generated).toHaveLength(5);
    expect(docker.writes.filter((a) => a.op === 'removeConfig')).toHaveLength(2);
    const revisions = (await docker.listConfigs([`${LABELS.role}=proxy-config`, `${LABELS.cluster}=edge`])).map((c) => Number(c.Spec.Labels?.[LABELS.revision])).sort();
    expect(revisions).toEqual([3, 4, 5, 6, 7]);
  });

  it('says on the cluster when its config outgrows a Swarm config, and still serves the other clusters', async () => {
    const small = cluster('small', { proxy: { replicas: 1, publish: { mode: 'host', http: 18081, https: 18444 } } });
    await applyObject(docker, small);
    await applyObject(docker, route('tiny', { serviceCluster: 'small', hosts: ['tiny.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
    for (let i = 0; i < 20; i++) await applyObject(docker, route(`web${i}`, { serviceCluster: 'edge', hosts: [`web${i}.test`], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
    // A limit between the two clusters' config sizes (the small one has 1 route, edge 21).
    await new CoreRun(docker, quiet).run(1);
    const sizeOf = async (c: string) => {
      const [cfg] = await docker.listConfigs([`${LABELS.role}=proxy-config`, `${LABELS.cluster}=${c}`]);
      return cfg === undefined ? 0 : Buffer.from((await docker.inspectConfig(cfg.ID)).Spec.Data ?? '', 'base64').length;
    };
    const [smallBytes, edgeBytes] = [await sizeOf('small'), await sizeOf('edge')];
    expect(edgeBytes).toBeGreaterThan(smallBytes + 2_000);
    await applyObject(docker, route('web20', { serviceCluster: 'edge', hosts: ['web20.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
    await applyObject(docker, route('tiny2', { serviceCluster: 'small', hosts: ['tiny2.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
    docker.clearActions();
    const limit = smallBytes + 1_000;
    await new CoreRun(docker, quiet, { maxConfigBytes: limit }).run(2);
    const programmed = condition(await statusOf('web20'), 'Programmed');
    expect(programmed).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(programmed?.message).toContain(`for 22 routes is`);
    expect(programmed?.message).toContain(`must be smaller than ${limit.toLocaleString('en-US')} bytes: use hitless delivery`);
    // Nothing was stored for edge; the small cluster got its new config.
    expect(docker.writes.filter((a) => a.op === 'createConfig').map((a) => a.target)).toEqual([expect.stringMatching(/^sg-nginx-small-/)]);
  });
});
