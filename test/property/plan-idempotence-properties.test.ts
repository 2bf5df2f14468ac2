/**
 * The Plan is idempotent: after executing a plan against the Docker fake, planning again from what
 * Docker then shows writes nothing — over generated sequences of changes (backend tasks coming and
 * going, replicas, rolling ⇄ hitless delivery, extension services on and off, routes added, a
 * cluster deleted). Also: a plan whose writes all succeeded leaves no failure, and executing the
 * empty plan writes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executePlan } from '../../src/apply/execute-plan';
import { applyObject, deleteObject, DesiredStateReader } from '../../src/desired/spec-store';
import { readLiveState } from '../../src/observed/live-state';
import { toSnapshot } from '../../src/observed/to-snapshot';
import { agentEndpoint } from '../../src/plan/agent-endpoint';
import { desiredConfig } from '../../src/plan/pipeline';
import { configFilesHash } from '../../src/plan/config-files-hash';
import { planRun, type ClusterPlanInput } from '../../src/plan/writes/plan-run';
import { planSteps, type Plan } from '../../src/plan/writes/steps';
import { ENDPOINTS_FILE, renderCluster } from '../../src/render/render-cluster';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

interface World {
  readonly docker: FakeDocker;
  /** What the agents were handed, per cluster (the control plane's memory). */
  readonly delivered: Map<string, string>;
  extensions: boolean;
}

async function plan(world: World): Promise<Plan> {
  const live = await readLiveState(world.docker);
  const { snapshot } = toSnapshot(live);
  const { desired } = await new DesiredStateReader(world.docker).read();
  const endpoint = agentEndpoint({ coreAddress: 'swarmgate-core:50051', controlNetwork: 'swarmgate-control' }, live);
  if (typeof endpoint === 'string') throw new Error(endpoint);
  const inputs: ClusterPlanInput[] = desiredConfig({ specs: desired, snapshot, render: false }).result.clusters.map((model) => {
    const r = renderCluster(model);
    const content = r.files.find((f) => f.path === r.main)?.content ?? '';
    const hitless = model.spec.proxy.delivery === 'hitless';
    // Every rendered file reaches the agents, as the core ships them: with Dynamic endpoints (the
    // default for hitless clusters, ADR 0039) endpoints.txt too, which the service mounts for booting.
    const files = r.files.map((f) => ({ path: f.path, content: Buffer.from(f.content) }));
    const set = hitless ? r.files.find((f) => f.path === ENDPOINTS_FILE)?.content : undefined;
    const deliveredHash = world.delivered.get(model.cluster);
    return {
      model,
      ...(world.extensions ? { extension: { image: 'swarmgate/swarmgate:test', endpoint } } : {}),
      proxy: {
        rendered: content,
        ...(set !== undefined ? { bootEndpoints: set } : {}),
        ...(hitless ? { agent: endpoint, delivery: { proxyKind: model.spec.proxy.kind, files, configHash: configFilesHash(files), immediate: false, ...(deliveredHash !== undefined ? { deliveredHash } : {}) } } : {}),
      },
    };
  });
  return planRun(inputs, live).plan;
}

async function converge(world: World): Promise<void> {
  const outcomes = await executePlan(await plan(world), { docker: world.docker, agents: { deliver: (s) => void world.delivered.set(s.cluster, s.configHash) } });
  expect(outcomes.flatMap((g) => g.outcomes.filter((o) => o.result !== 'ok'))).toEqual([]);
}

type Change =
  | { readonly kind: 'addTask'; readonly service: 'v1' | 'v2' }
  | { readonly kind: 'stopTask'; readonly service: 'v1' | 'v2' }
  | { readonly kind: 'cluster'; readonly name: 'edge' | 'inner'; readonly replicas: number; readonly hitless: boolean; readonly endpoints: 'default' | 'Static' | 'Dynamic' }
  | { readonly kind: 'route'; readonly name: string; readonly cluster: 'edge' | 'inner'; readonly service: 'v1' | 'v2' }
  | { readonly kind: 'deleteCluster'; readonly name: 'inner' }
  | { readonly kind: 'extensions'; readonly on: boolean }
  | { readonly kind: 'proxyTasks' };

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('addTask' as const), service: fc.constantFrom('v1' as const, 'v2' as const) }),
  fc.record({ kind: fc.constant('stopTask' as const), service: fc.constantFrom('v1' as const, 'v2' as const) }),
  fc.record({ kind: fc.constant('cluster' as const), name: fc.constantFrom('edge' as const, 'inner' as const), replicas: fc.integer({ min: 1, max: 3 }), hitless: fc.boolean(), endpoints: fc.constantFrom('default' as const, 'Static' as const, 'Dynamic' as const) }),
  fc.record({ kind: fc.constant('route' as const), name: fc.constantFrom('r1', 'r2', 'r3'), cluster: fc.constantFrom('edge' as const, 'inner' as const), service: fc.constantFrom('v1' as const, 'v2' as const) }),
  fc.record({ kind: fc.constant('deleteCluster' as const), name: fc.constant('inner' as const) }),
  fc.record({ kind: fc.constant('extensions' as const), on: fc.boolean() }),
  fc.constant({ kind: 'proxyTasks' as const }),
);

const ports = { edge: 18080, inner: 19080 } as const;

async function applyChange(world: World, c: Change): Promise<void> {
  const docker = world.docker;
  switch (c.kind) {
    case 'addTask':
      docker.addTasks(c.service, 1);
      return;
    case 'stopTask': {
      const [first] = docker.taskIds(c.service).filter((id) => docker.taskIds(c.service).length > 1 && id !== undefined);
      if (first !== undefined) docker.setTaskState(first, 'shutdown', 'shutdown');
      return;
    }
    case 'cluster':
      await applyObject(docker, cluster(c.name, { proxy: { replicas: c.replicas, delivery: c.hitless ? 'hitless' : 'rolling', ...(c.endpoints !== 'default' ? { endpoints: c.endpoints } : {}), publish: { mode: 'host', http: ports[c.name], https: ports[c.name] + 1 } } }));
      return;
    case 'route':
      await applyObject(docker, route(c.name, { serviceCluster: c.cluster, hosts: [`${c.name}.test`], rules: [{ backends: [{ service: c.service, port: 80 }] }] }));
      return;
    case 'deleteCluster':
      await deleteObject(docker, 'ServiceCluster', c.name);
      return;
    case 'extensions':
      world.extensions = c.on;
      return;
    case 'proxyTasks':
      // Swarm replaces the proxy tasks with ones running the current spec.
      for (const name of ['sg-proxy-edge', 'sg-proxy-inner']) {
        if (docker.service(name) === undefined) continue;
        for (const id of docker.taskIds(name)) docker.setTaskState(id, 'shutdown', 'shutdown');
        docker.addTasks(name, 1);
      }
      return;
  }
}

async function freshWorld(): Promise<World> {
  const docker = FakeDocker.singleNode({ emitWriteEvents: false });
  docker.addNetwork('app');
  docker.addNetwork('swarmgate-control');
  for (const s of ['v1', 'v2']) {
    await docker.createService({ Name: s, TaskTemplate: { ContainerSpec: { Image: s }, Networks: [{ Target: 'app' }] } });
    docker.addTasks(s, 1);
  }
  await applyObject(docker, cluster('edge', { proxy: { replicas: 1, publish: { mode: 'host', http: 18080, https: 18081 } } }));
  await applyObject(docker, route('r1', { serviceCluster: 'edge', hosts: ['r1.test'], rules: [{ backends: [{ service: 'v1', port: 80 }] }] }));
  return { docker, delivered: new Map(), extensions: false };
}

describe('plan idempotence', () => {
  it('plans nothing once its plan was executed, after any sequence of changes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 6 }), async (changes) => {
        const world = await freshWorld();
        await converge(world);
        for (const c of changes) {
          await applyChange(world, c);
          await converge(world);
          world.docker.clearActions();
          const again = await plan(world);
          expect(planSteps(again).map((s) => `${s.op} ${s.reason}`)).toEqual([]);
          expect((await executePlan(again, { docker: world.docker })).flatMap((g) => g.outcomes)).toEqual([]);
          expect(world.docker.writes).toEqual([]);
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('is not vacuous: a change gives a non-empty plan', async () => {
    const world = await freshWorld();
    await converge(world);
    world.docker.addTasks('v1', 1);
    // Hitless (the default delivery) with Dynamic endpoints (its default): the new endpoint set goes to
    // the agents only; the config is the same, so no Swarm config and no service update.
    expect(planSteps(await plan(world)).map((s) => s.op)).toEqual(['deliver']);
    await applyChange(world, { kind: 'cluster', name: 'edge', replicas: 1, hitless: true, endpoints: 'Static' });
    await converge(world);
    world.docker.addTasks('v1', 1);
    // Static endpoints: a new config for history and the agents; the tasks keep running.
    expect(planSteps(await plan(world)).map((s) => s.op)).toEqual(['createConfig', 'deliver']);
    await applyChange(world, { kind: 'cluster', name: 'edge', replicas: 1, hitless: false, endpoints: 'default' });
    // Rolling: the service mounts the new config (its tasks restart), and no longer the boot endpoint
    // set its Dynamic days left mounted (ADR 0035), which goes.
    expect(planSteps(await plan(world)).map((s) => `${s.op}${s.op === 'updateService' ? ` ${s.effect}` : ''}${s.op === 'removeConfig' ? ` ${s.name.replace(/[0-9a-f]{12}$/, 'HASH')}` : ''}`)).toEqual(['createConfig', 'updateService restarts-tasks', 'removeConfig sg-ep-edge-HASH']);
  });
});
