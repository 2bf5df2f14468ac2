/**
 * Hitless delivery in the core run, over the in-memory Docker fake and a ControlPlane: a route
 * change reaches the agents through the plane and costs no proxy service update; Programmed
 * follows what each replica reports; a core without an agent address falls back to rolling and
 * says so.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/api/control-plane';
import { BOOT_CONFIG_PATH } from '../../src/plan/proxy-service-spec';
import { CoreRun } from '../../src/core/core-run';
import { createTlsSet } from '../../src/apply/tls-secrets';
import { generateTlsMaterial } from '../../src/api/tls';
import { LABELS } from '../../src/domain/labels';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { parseStatus } from '../../src/status/object-status';
import { statusText } from '../../src/cli/commands/status';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
let docker: FakeDocker;
let plane: ControlPlane;

const web = (host: string) => route('web', { serviceCluster: 'edge', hosts: [host], rules: [{ backends: [{ service: 'web', port: 8080 }] }] });
const edge = cluster('edge', { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: 18080, https: 18443 } } });
const agents = { coreAddress: 'swarmgate-core:50051', controlNetwork: 'swarmgate-control', insecure: true };

async function conditionOf(name: string, kind: string, type: string) {
  const [c] = await docker.listConfigs([`${LABELS.kind}=${kind}`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions.find((x) => x.type === type);
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  docker.addNetwork('swarmgate-control');
  plane = new ControlPlane();
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 2);
  await applyObject(docker, edge);
  await applyObject(docker, web('web.test'));
  docker.clearActions();
});

describe('core run with hitless delivery', () => {
  it('creates an agent-run proxy on the control network and hands the config to the plane', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents });
    await run.run(1);
    const svc = docker.service('sg-proxy-edge');
    const c = svc?.Spec.TaskTemplate.ContainerSpec;
    expect(c?.Args).toEqual(['swarmgate', 'proxy-agent']);
    expect(c?.Env).toEqual(expect.arrayContaining(['SWARMGATE_CORE_ADDR=swarmgate-core:50051', 'SWARMGATE_CLUSTER=edge', 'SWARMGATE_REPLICA_ID={{.Task.ID}}']));
    expect(c?.Configs?.[0]?.File.Name).toBe(BOOT_CONFIG_PATH);
    expect(svc?.Spec.Labels?.[LABELS.delivery]).toBe('hitless');
    expect(svc?.Spec.TaskTemplate.Networks?.length).toBe(2);
    const delivered = plane.delivered('edge');
    expect(delivered?.files[0]?.content.toString()).toContain('web.test');
    expect(plane.model('edge')?.modelJson).toContain('web.test');
  });

  it('delivers a route change through the plane without updating the proxy service', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents });
    await run.run(1);
    const [task = ''] = docker.addTasks('sg-proxy-edge', 1);
    const first = plane.delivered('edge')?.configHash ?? '';
    plane.report({ cluster: 'edge', replicaId: task, appliedHash: first, lastReceivedHash: first, counters: { requests: 0, responses5xx: 0, activeConnections: 0 } });
    await run.run(2);
    expect((await conditionOf('web', 'Route', 'Programmed'))?.status).toBe('True');

    await applyObject(docker, web('shop.test'));
    docker.clearActions();
    await run.run(3);
    const ops = docker.writes.map((a) => a.op);
    expect(ops).not.toContain('updateService');
    expect(ops).toContain('createConfig'); // kept as history and as the boot config of later tasks
    const second = plane.delivered('edge');
    expect(second?.configHash).not.toBe(first);
    expect(second?.files[0]?.content.toString()).toContain('shop.test');
    // Not Programmed until the replica reports the new hash.
    expect((await conditionOf('web', 'Route', 'Programmed'))?.status).toBe('False');
    plane.report({ cluster: 'edge', replicaId: task, appliedHash: second?.configHash ?? '', lastReceivedHash: second?.configHash ?? '', counters: { requests: 0, responses5xx: 0, activeConnections: 0 } });
    await run.run(4);
    expect((await conditionOf('web', 'Route', 'Programmed'))?.status).toBe('True');
    expect((await conditionOf('edge', 'ServiceCluster', 'Programmed'))?.message).toContain('(hitless)');
  });

  it('delivers dynamic endpoints beside nginx.conf, and a task change as a new endpoint set only', async () => {
    await applyObject(docker, cluster('edge', { proxy: { replicas: 1, delivery: 'hitless', endpoints: 'Dynamic', publish: { mode: 'host', http: 18080, https: 18443 } } }));
    const logged: string[] = [];
    const validated: string[] = [];
    const run = new CoreRun(docker, pino({ level: 'info' }, { write: (line: string) => void logged.push(line) }), {
      plane,
      agents,
      validate: (_kind, files) => (validated.push(files.map((f) => f.path).join(',')), { ok: true, output: '' }),
    });
    await run.run(1);
    // The proxy service the first run created is in the next run's snapshot: a converged run first.
    await run.run(1);
    // Both clusters' configs (edge and the implicit default) were checked once.
    const checks = validated.length;
    const first = plane.delivered('edge');
    const fileOf = (d: typeof first, path: string) => d?.files.find((f) => f.path === path)?.content.toString();
    expect(first?.files.map((f) => f.path)).toEqual(['nginx.conf', 'endpoints.txt']);
    expect(fileOf(first, 'nginx.conf')).toContain('sg_dynamic');
    // The upstream's line (the host's own line is its locations, ADR 0050).
    const peers = (d: typeof first) => ((fileOf(d, 'endpoints.txt') ?? '').split('\n').find((l) => l.startsWith('u_')) ?? '').split(' ').slice(4).length;
    expect(peers(first)).toBe(2);

    docker.addTasks('web', 1);
    docker.clearActions();
    await run.run(2);
    const second = plane.delivered('edge');
    expect(second?.configHash).not.toBe(first?.configHash);
    expect(peers(second)).toBe(3);
    expect(fileOf(second, 'nginx.conf')).toBe(fileOf(first, 'nginx.conf'));
    // The boot config (nginx.conf) did not change: no new Swarm config, no proxy service update.
    expect(docker.writes.map((a) => a.op)).not.toContain('updateService');
    // ADR 0030: the run recomputed the servers from the last one (no model build, no render) and validated nothing.
    expect(logged.filter((l) => l.includes('only tasks changed'))).toHaveLength(1);
    expect(validated).toHaveLength(checks);

    // A route change builds the model again.
    await applyObject(docker, web('shop.test'));
    await run.run(3);
    expect(fileOf(plane.delivered('edge'), 'nginx.conf')).toContain('shop.test');
    expect(logged.filter((l) => l.includes('only tasks changed'))).toHaveLength(1);
    expect(validated).toHaveLength(checks + 1);
  });

  it('stays on a network no route needs any more instead of restarting the proxy', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents });
    await run.run(1);
    const web = docker.service('web');
    await docker.removeService(web?.ID ?? '');
    docker.clearActions();
    await run.run(2);
    expect(docker.writes.map((a) => a.op)).not.toContain('updateService');
    expect(docker.service('sg-proxy-edge')?.Spec.TaskTemplate.Networks?.length).toBe(2);
    // The backend comes back on the same network: still nothing to update, the agent gets the upstreams.
    await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
    docker.addTasks('web', 1);
    docker.clearActions();
    await run.run(3);
    expect(docker.writes.map((a) => a.op)).not.toContain('updateService');
    // Dynamic endpoints, the default with hitless delivery (ADR 0039): the task address is in the endpoint set.
    expect(plane.delivered('edge')?.files.find((f) => f.path === 'endpoints.txt')?.content.toString()).toMatch(/ 10\.\d+\.\d+\.\d+:8080\n/);
  });

  it('joins every allowed network up front, so a route to a backend on another one restarts nothing', async () => {
    docker.addNetwork('other');
    await applyObject(docker, cluster('edge', { networks: ['app', 'other', 'not-created-yet'], proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: 18080, https: 18443 } } }));
    const run = new CoreRun(docker, quiet, { plane, agents });
    await run.run(1);
    const ids = (await docker.listNetworks()).filter((n) => ['app', 'other', 'swarmgate-control'].includes(n.Name)).map((n) => n.Id).sort();
    expect(docker.service('sg-proxy-edge')?.Spec.TaskTemplate.Networks?.map((n) => n.Target).sort()).toEqual(ids);
    await docker.createService({ Name: 'api', TaskTemplate: { ContainerSpec: { Image: 'api' }, Networks: [{ Target: 'other' }] } });
    docker.addTasks('api', 1);
    await applyObject(docker, route('api', { serviceCluster: 'edge', hosts: ['api.test'], rules: [{ backends: [{ service: 'api', port: 8080 }] }] }));
    docker.clearActions();
    await run.run(2);
    expect(docker.writes.map((a) => a.op)).not.toContain('updateService');
    expect(plane.delivered('edge')?.files[0]?.content.toString()).toContain('api.test');
  });

  it('joins a network allowed later at the next update the service needs anyway, not by restarting it now', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents });
    await run.run(1);
    docker.addNetwork('other');
    await applyObject(docker, cluster('edge', { networks: ['app', 'other'], proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: 18080, https: 18443 } } }));
    docker.clearActions();
    await run.run(2);
    expect(docker.writes.map((a) => a.op)).not.toContain('updateService');
    await applyObject(docker, cluster('edge', { networks: ['app', 'other'], proxy: { replicas: 2, delivery: 'hitless', publish: { mode: 'host', http: 18080, https: 18443 } } }));
    await run.run(3);
    expect(docker.service('sg-proxy-edge')?.Spec.TaskTemplate.Networks?.length).toBe(3);
  });

  it('records what each replica runs in the cluster status, and status shows it', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents });
    await run.run(1);
    const [task = ''] = docker.addTasks('sg-proxy-edge', 1);
    const hash = plane.delivered('edge')?.configHash ?? '';
    plane.report({ cluster: 'edge', replicaId: task, appliedHash: hash, lastReceivedHash: hash, counters: { requests: 0, responses5xx: 0, activeConnections: 0 } });
    await run.run(2);
    const [c] = await docker.listConfigs([`${LABELS.kind}=ServiceCluster`, `${LABELS.name}=edge`]);
    // The agents' files hash is named as users see the config: rev N and the hash of its bytes (the end of its Swarm config's name).
    const [generated] = await docker.listConfigs([`${LABELS.role}=proxy-config`, `${LABELS.cluster}=edge`]);
    const revision = { revision: 1, content: generated?.Spec.Name.slice(-12) ?? 'missing' };
    expect(parseStatus(c?.Spec.Labels?.[LABELS.status])?.proxy).toEqual({ delivery: 'hitless', config: hash.slice(0, 12), revision, replicas: [{ task: task.slice(0, 12), applied: hash.slice(0, 12), revision }] });
    const text = await statusText(docker);
    const id = `rev 1 (${revision.content})`;
    expect(text).toMatch(new RegExp(`^edge\\s+sg-proxy-edge\\s+1/\\d+\\s+${id.replace(/[()]/g, '\\$&')} hitless\\s+\\S+: ${id.replace(/[()]/g, '\\$&')}\\s`, 'm'));
    expect((await conditionOf('edge', 'ServiceCluster', 'Programmed'))?.message).toContain(`serve ${id} (hitless)`);
  });

  it('sends nothing to another cluster\'s agents when a route of this cluster changes', async () => {
    await applyObject(docker, cluster('other', { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: 19080, https: 19443 } } }));
    await applyObject(docker, route('api', { serviceCluster: 'other', hosts: ['api.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
    const run = new CoreRun(docker, quiet, { plane, agents });
    await run.run(1);
    const received: string[] = [];
    const sub = plane.watchConfig('other').subscribe((c) => received.push(c.configHash));
    expect(received.length).toBe(1); // the current config, on subscription
    await applyObject(docker, web('changed.test'));
    docker.clearActions();
    await run.run(2);
    sub.unsubscribe();
    expect(plane.delivered('edge')?.files[0]?.content.toString()).toContain('changed.test');
    expect(received.length).toBe(1);
    expect(docker.writes.filter((a) => a.target.includes('other'))).toEqual([]);
  });

  it('runs one extension service per cluster, with no mounts, and waits for its submission', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents, extensionImage: 'sha256:app' });
    await run.run(1);
    const ext = docker.service('sg-extension-edge');
    expect(ext?.Spec.TaskTemplate.ContainerSpec.Args).toEqual(['extension', '--cluster', 'edge', '--core', 'swarmgate-core:50051']);
    expect(ext?.Spec.TaskTemplate.ContainerSpec.Mounts ?? []).toEqual([]);
    expect(ext?.Spec.TaskTemplate.ContainerSpec.Image).toBe('sha256:app');
    // Nothing rendered by the core itself: the proxy waits for the extension.
    expect(docker.service('sg-proxy-edge')).toBeUndefined();
    docker.clearActions();
    await run.run(2);
    expect(docker.writes.filter((a) => a.target === 'sg-extension-edge')).toEqual([]);
    await deleteObject(docker, 'ServiceCluster', 'edge');
    await run.run(3);
    expect(docker.service('sg-extension-edge')).toBeUndefined();
  });

  it('runs an HAProxy cluster under the agent, hitless and rolling', async () => {
    await applyObject(docker, cluster('edge', { proxy: { kind: 'haproxy', replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: 18080, https: 18443 } } }));
    await new CoreRun(docker, quiet, { plane, agents }).run(1);
    let c = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec;
    expect(c?.Args).toEqual(['swarmgate', 'proxy-agent', '--kind', 'haproxy']);
    expect(c?.Configs?.[0]?.File.Name).toBe('/etc/swarmgate/boot/haproxy.cfg');
    const d = plane.delivered('edge');
    expect(d?.proxyKind).toBe('haproxy');
    // Static by default on HAProxy (ADR 0039: its slots need file descriptors): no endpoint set, no slots.
    expect(d?.files.map((f) => f.path)).toEqual(['haproxy.cfg']);
    expect(d?.files[0]?.content.toString()).toMatch(/^frontend /m);
    expect(d?.files[0]?.content.toString()).not.toMatch(/sg-slot\.invalid/);
    // Opted in: server slots in haproxy.cfg, the members beside it.
    await applyObject(docker, cluster('edge', { proxy: { kind: 'haproxy', replicas: 1, delivery: 'hitless', endpoints: 'Dynamic', publish: { mode: 'host', http: 18080, https: 18443 } } }));
    await new CoreRun(docker, quiet, { plane, agents }).run(2);
    const dyn = plane.delivered('edge');
    expect(dyn?.files.map((f) => f.path)).toEqual(['haproxy.cfg', 'endpoints.txt']);
    expect(dyn?.files[0]?.content.toString()).toMatch(/^\s+server s1 sg-slot\.invalid:1/m);
    await applyObject(docker, cluster('edge', { proxy: { kind: 'haproxy', replicas: 1, delivery: 'rolling', publish: { mode: 'host', http: 18080, https: 18443 } } }));
    await new CoreRun(docker, quiet, { plane, agents }).run(3);
    c = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec;
    expect(c?.Args).toEqual(['swarmgate', 'proxy-agent', '--kind', 'haproxy', '--standalone']);
    expect(c?.Configs?.[0]?.File.Name).toBe('/etc/haproxy/haproxy.cfg');
    // Named after the proxy that reads it, not sg-nginx-….
    expect(c?.Configs?.[0]?.ConfigName).toMatch(/^sg-haproxy-edge-[0-9a-f]{12}$/);
  });

  it('shows a replica that rejected the config as Programmed=False Invalid', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents });
    await run.run(1);
    const [task = ''] = docker.addTasks('sg-proxy-edge', 1);
    const hash = plane.delivered('edge')?.configHash ?? '';
    plane.report({ cluster: 'edge', replicaId: task, appliedHash: '', lastReceivedHash: hash, lastValidation: { ok: false, output: 'nginx: [emerg] no such file' }, counters: { requests: 0, responses5xx: 0, activeConnections: 0 } });
    await run.run(2);
    const c = await conditionOf('edge', 'ServiceCluster', 'Programmed');
    expect(c).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(c?.message).toContain('no such file');
  });

  it('mounts the CA and the cluster\'s own agent identity into proxies when the core runs with mutual TLS', async () => {
    const material = generateTlsMaterial();
    const set = await createTlsSet(docker, material);
    const run = new CoreRun(docker, quiet, { plane, agents: { ...agents, insecure: false, tlsSet: set.id }, identities: { ca: { cert: material.ca, key: material.caKey }, set: set.id } });
    await run.run(1);
    const c = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec;
    expect(c?.Env).toContain('SWARMGATE_TLS_DIR=/run/secrets');
    expect(c?.Env).not.toContain('SWARMGATE_INSECURE=1');
    expect((c?.Secrets ?? []).map((x) => x.File.Name).sort()).toEqual(['swarmgate-ca.crt', 'swarmgate-client.crt', 'swarmgate-client.key']);
    // The core's own key and the CA key never go to a proxy.
    expect((c?.Secrets ?? []).map((x) => x.SecretID)).not.toContain(set.serverKey.id);
    expect((c?.Secrets ?? []).map((x) => x.SecretID)).not.toContain(set.caKey.id);
  });

  it('falls back to rolling delivery, and says so, when agents cannot reach the core', async () => {
    const run = new CoreRun(docker, quiet, { plane });
    await run.run(1);
    const svc = docker.service('sg-proxy-edge');
    expect(svc?.Spec.TaskTemplate.ContainerSpec.Args).toBeUndefined();
    expect(svc?.Spec.Labels?.[LABELS.delivery]).toBe('rolling');
    expect((await conditionOf('edge', 'ServiceCluster', 'Programmed'))?.message).toContain('hitless delivery unavailable');
    expect((await conditionOf('edge', 'ServiceCluster', 'Programmed'))?.message).toContain('with Static endpoints');
    // No agent pushes an endpoint set, so the default is Static here (ADR 0039): the mounted config
    // names the tasks itself, where a Dynamic one would answer 503 for every backend.
    const id = svc?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigID ?? '';
    const mounted = Buffer.from((await docker.inspectConfig(id)).Spec.Data ?? '', 'base64').toString();
    expect(mounted).toMatch(/^\s+upstream u_\w+ \{\n\s+server 10\.\d+\.\d+\.\d+:8080 /m);
    expect(mounted).not.toContain('sg_dynamic');
  });

  it('says the agents are disconnected, not Pending, while running replicas have no stream to the core', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents });
    await run.run(1);
    const [task = ''] = docker.addTasks('sg-proxy-edge', 1);
    const changes: string[] = [];
    const sub = plane.changes$.subscribe((c) => changes.push(c));
    // A core that just started: the proxy task runs, its agent has not reached this core yet.
    await run.run(2);
    const cluster = await conditionOf('edge', 'ServiceCluster', 'Programmed');
    expect(cluster).toMatchObject({ status: 'Unknown', reason: 'AgentsDisconnected' });
    expect(cluster?.message).toContain(`the agents of replica ${task.slice(0, 12)} are not connected to the core`);
    expect(await conditionOf('web', 'Route', 'Programmed')).toMatchObject({ status: 'Unknown', reason: 'AgentsDisconnected' });

    // The agent connects (its stream opens): a change for the next run, and Pending until it reports.
    const ended = plane.agentStreamOpened('edge', task);
    expect(changes).toContain(`agent-connected:${task}`);
    await run.run(3);
    expect(await conditionOf('edge', 'ServiceCluster', 'Programmed')).toMatchObject({ status: 'False', reason: 'Pending' });
    const hash = plane.delivered('edge')?.configHash ?? '';
    plane.report({ cluster: 'edge', replicaId: task, appliedHash: hash, lastReceivedHash: hash, counters: { requests: 0, responses5xx: 0, activeConnections: 0 } });
    await run.run(4);
    expect(await conditionOf('web', 'Route', 'Programmed')).toMatchObject({ status: 'True', reason: 'Programmed' });

    // Cut off: it still serves what it reported, so that stays Programmed...
    ended();
    expect(changes).toContain(`agent-disconnected:${task}`);
    await run.run(5);
    expect(await conditionOf('web', 'Route', 'Programmed')).toMatchObject({ status: 'True' });
    // ...but a change it cannot have received is not Pending forever: the agent is not connected.
    await applyObject(docker, web('shop.test'));
    await run.run(6);
    expect(await conditionOf('edge', 'ServiceCluster', 'Programmed')).toMatchObject({ status: 'Unknown', reason: 'AgentsDisconnected' });
    expect(await conditionOf('web', 'Route', 'Programmed')).toMatchObject({ status: 'Unknown', reason: 'AgentsDisconnected' });
    sub.unsubscribe();
  });

  it('forgets replicas whose tasks are gone', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents });
    await run.run(1);
    plane.report({ cluster: 'edge', replicaId: 'gone-task', appliedHash: 'x', lastReceivedHash: 'x', counters: { requests: 0, responses5xx: 0, activeConnections: 0 } });
    await run.run(2);
    expect(plane.reportsOf('edge')).toEqual([]);
  });
});
