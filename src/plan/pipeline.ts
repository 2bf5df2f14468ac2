/**
 * The one pure entry point from desired state to what the proxies should run, used by every consumer:
 * the core's run, `swarmgate diff`, `render`, `get`/`describe` (label-route statuses), the golden
 * runner and the tests. Same inputs ⇒ same output, byte for byte.
 *
 *   desiredConfig({ specs, snapshot, now?, rollouts?, rollbacks?, render? })
 *     → { desired, result, clusters: [{ model, files?, rolledBack? }], weights }
 *
 * Desired-state sources run in a fixed order, each a small pure step that adds ordinary objects with
 * their provenance (the way Contour feeds processors into one builder):
 *   1. stored specs (or files), as given;
 *   2. rollout weights: each rolling-out Route at the weights it is served at (src/plan/rollout/);
 *   3. Interlock `com.docker.lb.*` labels: label routes, admitted after every spec (src/plan/sources/interlock/);
 *   4. the implicit `default` cluster (buildModel adds it when no spec names it);
 * then buildModel, then per cluster the files: the model rendered, or — while the cluster is rolled
 * back — the rolled-back revision's files (5. rollbacks; reading that revision's text is I/O the
 * caller does, see src/desired/served-state.ts).
 */
import { MAIN_CONFIG_FILE, renderCluster, type RenderedCluster } from '../render/render-cluster';
import { desiredModel, type ModelInputs } from './desired-model';
import type { DesiredState } from './inputs';
import type { ModelResult, ProxyModel } from './model';
import { clusterRouteGenerations, specsFingerprint, type RollbackRequest, type Revision } from './revisions';
import type { Weights } from './rollout/advance';
import { indexTasks } from './resolve-backends';
import { refreshTasks, type PipelineRun } from './task-refresh';

export type { RolloutInput } from './desired-model';
export type { PipelineRun } from './task-refresh';

/** A cluster served from an old revision: what the caller read from that revision's Swarm config. */
export interface RollbackSource {
  readonly request: RollbackRequest;
  /** Generation of the ServiceCluster spec carrying the request: a new generation ends the rollback. */
  readonly generation: number;
  readonly revision: Revision;
  /** The revision's main config file, as stored. */
  readonly content: string;
}

export interface PipelineInputs extends ModelInputs {
  /** By cluster name. */
  readonly rollbacks?: ReadonlyMap<string, RollbackSource>;
  /** Render each cluster's files (default true); the core skips it when extensions render. */
  readonly render?: boolean;
}

export interface ClusterConfig {
  readonly model: ProxyModel;
  /** What the cluster's proxies should run: the rolled-back revision's files, else the model rendered (absent when render is false). */
  readonly files?: RenderedCluster;
  /** Set while the cluster is served from an old revision. */
  readonly rolledBack?: RollbackSource;
}

export interface DesiredConfig {
  /** The desired state after every source (label routes, blue-green previews): what conditions are reported for. */
  readonly desired: DesiredState;
  readonly result: ModelResult;
  /** One per cluster, in the model's order. */
  readonly clusters: readonly ClusterConfig[];
  /** By route name: the weights each rolling-out route is built with. */
  readonly weights: ReadonlyMap<string, Weights>;
}

/** The rollback still holds: same spec generation, and none of the cluster's routes applied or deleted since. */
function activeRollback(specs: DesiredState, cluster: string, r: RollbackSource | undefined): RollbackSource | undefined {
  if (r === undefined) return undefined;
  const spec = specs.clusters.find((c) => c.object.metadata.name === cluster);
  if (spec?.generation !== r.generation) return undefined;
  return r.request.specs === specsFingerprint(clusterRouteGenerations(specs, cluster)) ? r : undefined;
}

function rolledBackFiles(model: ProxyModel, content: string): RenderedCluster {
  const kind = model.spec.proxy.kind;
  const main = MAIN_CONFIG_FILE[kind];
  return { kind, main, files: [{ path: main, content }] };
}

export function desiredConfig(inputs: PipelineInputs): DesiredConfig {
  const { specs } = inputs;
  const { desired, result, weights } = desiredModel(inputs);
  const clusters = result.clusters.map((model): ClusterConfig => {
    const rolledBack = activeRollback(specs, model.cluster, inputs.rollbacks?.get(model.cluster));
    if (rolledBack !== undefined) return { model, files: rolledBackFiles(model, rolledBack.content), rolledBack };
    return inputs.render === false ? { model } : { model, files: renderCluster(model) };
  });
  return { desired, result, clusters, weights };
}

/** The main file's text of a cluster's files ('' when absent). */
export function mainFile(files: RenderedCluster | undefined): string {
  return files?.files.find((f) => f.path === files.main)?.content ?? '';
}

/** What one incremental pipeline call did: the output, what to keep for the next call, and which path it took. */
export interface IncrementalConfig {
  readonly output: DesiredConfig;
  readonly run: PipelineRun;
  /** 'tasks': only servers were recomputed (the task fast path, ADR 0030); 'full': the whole pipeline ran, `reason` says why. */
  readonly path: { readonly kind: 'tasks'; readonly upstreams: number; readonly rendered: readonly string[] } | { readonly kind: 'full'; readonly reason: string };
}

/**
 * desiredConfig, given the last call's run: when only Swarm tasks changed, the last output with the
 * touched upstreams' servers recomputed (src/plan/task-refresh.ts), byte for byte what desiredConfig
 * would give; else desiredConfig. Either way the next call compares with these inputs and output.
 */
export function incrementalConfig(last: PipelineRun | undefined, inputs: PipelineInputs): IncrementalConfig {
  const r = last === undefined ? ({ kind: 'full', reason: 'first run' } as const) : refreshTasks(last, inputs);
  if (r.kind === 'refreshed' && last !== undefined) {
    return { output: r.output, run: { inputs, index: r.index, output: r.output }, path: { kind: 'tasks', upstreams: r.upstreams, rendered: r.rendered } };
  }
  const output = desiredConfig(inputs);
  return { output, run: { inputs, index: indexTasks(inputs.snapshot.tasks), output }, path: { kind: 'full', reason: r.kind === 'full' ? r.reason : 'first run' } };
}
