/**
 * The task fast path (ADR 0030) gives exactly what the full pipeline gives: over generated specs
 * (Static and Dynamic NGINX clusters, HAProxy, weights, split: Tasks pools, sticky sessions, passive
 * health checks, host-mode and VIP backends, TLS passthrough) and generated pairs of task sets, the
 * incremental pipeline's output after a task change equals desiredConfig's on the new snapshot —
 * models, conditions and every file byte — whichever path it took. Where it took the fast path, a
 * Dynamic cluster's nginx.conf kept its bytes (no reload, no validation).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RouteObject } from '../../src/domain/object';
import { desiredConfig, incrementalConfig, mainFile, type PipelineInputs } from '../../src/plan/pipeline';
import type { DesiredState } from '../../src/plan/inputs';
import { ENDPOINTS_FILE, type RenderedCluster } from '../../src/render/render-cluster';
import { cluster, route, snapshot } from '../helpers/specs';
import type { Snapshot } from '../../src/domain/snapshot';
import { noteTaskChanges } from '../../src/domain/task-changes';

const SERVICES = ['s0', 's1', 's2', 's3', 'hp', 'vp'] as const;
type Service = (typeof SERVICES)[number];

const CLUSTERS = [
  cluster('dyn', { proxy: { kind: 'nginx', delivery: 'hitless', endpoints: 'Dynamic', publish: { mode: 'host', http: 18080, https: 18443 } } }),
  cluster('stat', { proxy: { kind: 'nginx', delivery: 'hitless', publish: { mode: 'host', http: 19080, https: 19443 } } }),
  cluster('ha', { proxy: { kind: 'haproxy', publish: { mode: 'host', http: 20080, https: 20443 } } }),
];

interface GenBackend {
  readonly service: Service;
  readonly weight: number;
  readonly health: boolean;
}
interface GenRoute {
  readonly cluster: 'dyn' | 'stat' | 'ha' | 'default';
  readonly backends: readonly GenBackend[];
  readonly split: boolean;
  readonly sticky: 'none' | 'cookie' | 'clientIP';
  readonly passthrough: boolean;
  readonly secondPath: Service | undefined;
}

const genRoute: fc.Arbitrary<GenRoute> = fc.record({
  cluster: fc.constantFrom('dyn' as const, 'dyn' as const, 'stat' as const, 'ha' as const, 'default' as const),
  backends: fc.uniqueArray(fc.record({ service: fc.constantFrom(...SERVICES), weight: fc.constantFrom(0, 1, 10, 90), health: fc.boolean() }), { minLength: 1, maxLength: 3, selector: (b) => b.service }),
  split: fc.boolean(),
  sticky: fc.constantFrom('none' as const, 'cookie' as const, 'clientIP' as const),
  passthrough: fc.constantFrom(false, false, false, false, true),
  secondPath: fc.option(fc.constantFrom(...SERVICES), { nil: undefined }),
});

function backend(b: GenBackend): Record<string, unknown> {
  const mode = b.service === 'hp' ? { mode: 'host' } : b.service === 'vp' ? { mode: 'vip' } : {};
  return { service: b.service, port: 8080, weight: b.weight, ...mode, ...(b.health ? { passiveHealthCheck: { maxFails: 3, failTimeout: '5s' } } : {}) };
}

function routeOf(g: GenRoute, i: number): RouteObject {
  const affinity = g.sticky === 'cookie' ? { sessionAffinity: { cookie: { name: 'sg' } } } : g.sticky === 'clientIP' ? { sessionAffinity: { clientIP: true } } : {};
  const cluster = g.cluster === 'default' ? {} : { serviceCluster: g.cluster };
  const host = `r${i}.test`;
  if (g.passthrough) return route(`r${i}`, { hosts: [host], ...cluster, tls: { mode: 'Passthrough' }, rules: [{ backends: g.backends.map(backend) }] });
  // split: Tasks takes weights 0 (left out) or 1.
  const backends = g.backends.map((b) => backend(g.split ? { ...b, weight: Math.min(b.weight, 1) } : b));
  const main = { match: { pathPrefix: '/' }, backends, ...affinity, ...(g.split ? { split: 'Tasks' } : {}) };
  const second = g.secondPath === undefined ? [] : [{ match: { pathPrefix: '/api' }, backends: [backend({ service: g.secondPath, weight: 1, health: false })] }];
  return route(`r${i}`, { hosts: [host], ...cluster, rules: [...second, main] });
}

function desiredOf(routes: readonly GenRoute[]): DesiredState {
  return {
    routes: routes.map((g, i) => ({ object: routeOf(g, i), generation: 1, createdAt: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z` })),
    clusters: CLUSTERS.map((object) => ({ object, generation: 1 })),
    rejected: [],
  };
}

/** Up to four possible tasks per service; a task set picks some of them, running or on their way out. */
// Host-mode and VIP services get fewer tasks: most churn is of task-mode services, as in Swarm.
const taskService = fc.constantFrom<Service>('s0', 's1', 's2', 's3', 's0', 's1', 's2', 's3', 'hp', 'vp');
const genTasks = fc.array(fc.record({ service: taskService, slot: fc.integer({ min: 1, max: 4 }), leaving: fc.boolean(), net2: fc.boolean() }), { maxLength: 16 });

function snapshotOf(tasks: readonly GenTask[]) {
  const unique = [...new Map(tasks.map((t) => [`${t.service}/${t.slot}`, t])).values()];
  return snapshot({
    services: [
      // replicas as Swarm reports them after a scale (the fast path ignores the field: nothing in the pipeline may read it).
      ...(['s0', 's1', 's2', 's3'] as const).map((name) => ({ name, networks: name === 's3' ? ['app', 'app2'] : ['app'], exposedPorts: [8080], replicas: unique.filter((t) => t.service === name).length })),
      { name: 'hp', ports: [{ target: 8080, published: 9000, mode: 'host' }], exposedPorts: [8080] },
      { name: 'vp', networks: ['app'], vips: [{ network: 'app', ip: '10.0.9.9' }], exposedPorts: [8080] },
    ],
    tasks: unique.map((t) => ({
      id: `t${t.service}${t.slot}`,
      service: t.service,
      node: t.slot % 2 === 0 ? 'n1' : 'n2',
      state: 'running',
      desiredState: t.leaving ? 'shutdown' : 'running',
      // Host-mode tasks have no overlay address: only their node and port tell them apart.
      addresses: t.service === 'hp' ? [] : [{ network: t.net2 && t.service === 's3' ? 'app2' : 'app', ip: `10.0.${SERVICES.indexOf(t.service)}.${t.slot + 1}` }],
      ...(t.service === 'hp' ? { ports: [{ target: 8080, published: 9000, mode: 'host' }] } : {}),
    })),
    networks: [{ name: 'app' }, { name: 'app2' }],
    nodes: [
      { id: 'n1', hostname: 'n1', role: 'manager', addr: '10.210.0.11' },
      { id: 'n2', hostname: 'n2', role: 'worker', addr: '10.210.0.12' },
    ],
  });
}

type GenTask = { service: Service; slot: number; leaving: boolean; net2: boolean };
/** Two running tasks of each task-mode service (slots 5 and 6, which the generators never use): churn then rarely empties an upstream. */
const BASE: readonly GenTask[] = (['s0', 's1', 's2', 's3'] as const).flatMap((service) => [5, 6].map((slot) => ({ service, slot, leaving: false, net2: false })));
/** Task churn as Swarm makes it: a few tasks added, stopped or marked for shutdown (else a wholly new set). */
const genChange = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('edit' as const), add: fc.array(fc.record({ service: taskService, slot: fc.integer({ min: 1, max: 4 }), leaving: fc.constant(false), net2: fc.boolean() }), { maxLength: 2 }), drop: fc.array(fc.nat(), { maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('new' as const), tasks: genTasks }) },
);
function changed(before: readonly GenTask[], c: typeof genChange extends fc.Arbitrary<infer T> ? T : never): GenTask[] {
  if (c.kind === 'new') return [...c.tasks];
  const kept = before.filter((_, i) => !c.drop.some((d) => before.length > 0 && d % before.length === i));
  return [...kept, ...c.add];
}

const endpointsOf = (files: RenderedCluster | undefined): string | undefined => files?.files.find((f) => f.path === ENDPOINTS_FILE)?.content;

/** What must be equal between two pipeline outputs: models, conditions, label routes, every file's bytes. */
function comparable(o: ReturnType<typeof desiredConfig>) {
  return {
    result: o.result,
    desired: o.desired,
    weights: o.weights,
    clusters: o.clusters.map((c) => ({ model: c.model, files: c.files?.files, dynamic: c.files?.dynamicUpstreams === undefined ? undefined : [...c.files.dynamicUpstreams].sort() })),
  };
}

describe('task fast path', () => {
  it('gives exactly the full pipeline output after any task change', () => {
    let fast = 0;
    let runs = 0;
    let pushed = 0;
    fc.assert(
      fc.property(fc.array(genRoute, { minLength: 1, maxLength: 6 }), genTasks, genChange, fc.constantFrom(true, true, true, false), fc.boolean(), (routes, before, change, render, base) => {
        const after = changed(before, change);
        const specs = desiredOf(routes);
        const withBase = (ts: readonly GenTask[]) => (base ? [...BASE, ...ts] : ts);
        const inputs1: PipelineInputs = { specs, snapshot: snapshotOf(withBase(before)), render };
        const inputs2: PipelineInputs = { specs, snapshot: snapshotOf(withBase(after)), render };
        const first = incrementalConfig(undefined, inputs1);
        const second = incrementalConfig(first.run, inputs2);
        expect(comparable(second.output)).toEqual(comparable(desiredConfig(inputs2)));
        runs++;
        if (second.path.kind === 'tasks') {
          if (second.path.upstreams > 0) fast++;
          // Dynamic clusters re-rendered by nobody: nginx.conf kept its bytes.
          for (const c of second.output.clusters) {
            const was = first.output.clusters.find((x) => x.model.cluster === c.model.cluster);
            if (c.files?.dynamicUpstreams === undefined || second.path.rendered.includes(c.model.cluster)) continue;
            expect(mainFile(c.files)).toBe(mainFile(was?.files));
            if (endpointsOf(c.files) !== endpointsOf(was?.files)) pushed++;
          }
        }
      }),
      { numRuns: 300 },
    );
    // The generators must exercise the fast path with servers that changed, not only the fallbacks.
    // (About 1 run in 7 and about 10 of 400 on average; test/unit/task-refresh.test.ts covers each path deterministically.)
    expect(fast).toBeGreaterThan(runs / 20);
    // …and among them, endpoint lines rewritten under an unchanged nginx.conf.
    expect(pushed).toBeGreaterThan(0);
  });

  it('chains: a fast-path output is a correct base for the next task change', () => {
    fc.assert(
      fc.property(fc.array(genRoute, { minLength: 1, maxLength: 5 }), genTasks, fc.array(genChange, { minLength: 1, maxLength: 5 }), (routes, start, changes) => {
        const specs = desiredOf(routes);
        let tasks: GenTask[] = [...start];
        let last = incrementalConfig(undefined, { specs, snapshot: snapshotOf(tasks) }).run;
        for (const c of changes) {
          tasks = changed(tasks, c);
          const inputs: PipelineInputs = { specs, snapshot: snapshotOf(tasks) };
          const next = incrementalConfig(last, inputs);
          expect(comparable(next.output)).toEqual(comparable(desiredConfig(inputs)));
          last = next.run;
        }
      }),
      { numRuns: 100 },
    );
  });

  it('with the observer\'s word on which services\' tasks changed (ADR 0047): chains equal the full pipeline', () => {
    let noted = 0;
    fc.assert(
      fc.property(fc.array(genRoute, { minLength: 1, maxLength: 5 }), genTasks, fc.array(genChange, { minLength: 1, maxLength: 6 }), (routes, start, changes) => {
        const specs = desiredOf(routes);
        let tasks: GenTask[] = [...BASE, ...start];
        let snap = snapshotOf(tasks);
        let last = incrementalConfig(undefined, { specs, snapshot: snap }).run;
        for (const c of changes) {
          tasks = changed(tasks, c);
          // As the converter hands it over: unchanged tasks (and an unchanged list) are the last run's objects, the changed services noted.
          const next = reusing(snap, snapshotOf(tasks));
          const inputs: PipelineInputs = { specs, snapshot: next };
          const out = incrementalConfig(last, inputs);
          expect(comparable(out.output)).toEqual(comparable(desiredConfig(inputs)));
          if (out.path.kind === 'tasks') noted++;
          last = out.run;
          snap = next;
        }
      }),
      { numRuns: 100 },
    );
    expect(noted).toBeGreaterThan(50);
  });
});

/** `next` with every task equal to one of `last` replaced by that object, and the changed services noted (what the observer's converter does). */
function reusing(last: Snapshot, next: Snapshot): Snapshot {
  const byId = new Map(last.tasks.map((t) => [t.id, t]));
  const tasks = next.tasks.map((t) => {
    const was = byId.get(t.id);
    return was !== undefined && JSON.stringify(was) === JSON.stringify(t) ? was : t;
  });
  const touched = new Set<string>();
  const kept = new Set(tasks);
  for (const t of tasks) if (!last.tasks.includes(t)) touched.add(t.service);
  for (const t of last.tasks) if (!kept.has(t)) touched.add(t.service);
  const same = touched.size === 0 && tasks.length === last.tasks.length;
  const list = same ? last.tasks : tasks;
  noteTaskChanges(list, last.tasks, new Map([...touched].map((s) => [s, list.filter((t) => t.service === s)])));
  return { ...next, tasks: list };
}
