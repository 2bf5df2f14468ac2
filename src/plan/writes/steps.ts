/**
 * The Plan: the Docker writes (and agent deliveries) that take the observed Swarm to the model, as
 * data. Computed purely (plan-run.ts); src/apply only executes it, step by step; `swarmgate diff`
 * prints it. Every step says why it is there (`reason`), so "what will this run write, and why" is
 * answered without running anything.
 *
 * Steps come in groups, one per ServiceCluster (plus one per deleted cluster and one for
 * certificate housekeeping): a group's steps run in order and a failed step ends its group only.
 */
import type { ConfigSpec, ServiceSpec } from '../../observed/docker-port';
import { canonicalJson } from '../hash';
import type { ProxyKind } from '../proxy-capabilities';
import { sha256Hex } from '../../domain/sha256';

/** Names a step whose result (the ID Docker gives a created object) a later step of the group uses. */
export type StepId = string;

/** What a service write does to the service's running tasks. */
export type TaskEffect =
  /** A new service: its tasks start. */
  | 'starts-tasks'
  /** The task template (or published ports) changes: Swarm replaces every task, as UpdateConfig says. */
  | 'restarts-tasks'
  /** Only service-level fields change (labels, replicas, update policy): running tasks stay. */
  | 'keeps-tasks';

export interface CreateConfigStep {
  readonly op: 'createConfig';
  /** Later steps refer to the created config's ID by this. */
  readonly id: StepId;
  readonly cluster: string;
  readonly spec: ConfigSpec;
  readonly reason: string;
}

export interface UpdateConfigLabelsStep {
  readonly op: 'updateConfigLabels';
  readonly cluster: string;
  readonly configId: string;
  readonly name: string;
  /** The observed Version.Index: Docker refuses the write if another writer came first. */
  readonly version: number;
  readonly spec: ConfigSpec;
  readonly reason: string;
}

export interface ServiceWrite {
  readonly cluster: string;
  /** node-cleanup: a deleted cluster's volume clean-up job (node-cleanup-spec.ts). */
  readonly role: 'proxy' | 'extension' | 'node-cleanup';
  /** The whole spec, labelled with its hash. Mounted configs may name a ConfigID `configRef(step)`. */
  readonly spec: ServiceSpec;
  readonly effect: TaskEffect;
  readonly reason: string;
}

export interface CreateServiceStep extends ServiceWrite {
  readonly op: 'createService';
  readonly id: StepId;
}

export interface UpdateServiceStep extends ServiceWrite {
  readonly op: 'updateService';
  readonly serviceId: string;
  /** The observed Version.Index (optimistic concurrency, as for configs). */
  readonly version: number;
}

/** Hand a validated config to the cluster's proxy agents (hitless delivery: reload, no task restart). */
export interface DeliverStep {
  readonly op: 'deliver';
  readonly cluster: string;
  readonly proxyKind: ProxyKind;
  readonly files: readonly { readonly path: string; readonly content: Uint8Array }[];
  /** configFilesHash of `files`: what the agents report once they run it. */
  readonly configHash: string;
  /** Skip the agents' reload pacing (a rollout rolling back away from a failing backend). */
  readonly immediate: boolean;
  readonly reason: string;
}

/** Removals: a 404 means already gone (done), "in use" means not yet (the next run decides again). */
export interface RemoveStep {
  readonly op: 'removeConfig' | 'removeService' | 'removeSecret';
  readonly cluster?: string;
  readonly targetId: string;
  readonly name: string;
  readonly reason: string;
}

export type Step = CreateConfigStep | UpdateConfigLabelsStep | CreateServiceStep | UpdateServiceStep | DeliverStep | RemoveStep;

export interface StepGroup {
  /** `cluster/<name>` for a ServiceCluster (current or deleted), `certificates` for certificate versions. */
  readonly key: string;
  readonly steps: readonly Step[];
}

export interface Plan {
  readonly groups: readonly StepGroup[];
}

export const EMPTY_PLAN: Plan = { groups: [] };

export function clusterGroupKey(cluster: string): string {
  return `cluster/${cluster}`;
}

/** All steps of a plan, in execution order. */
export function planSteps(plan: Plan): Step[] {
  return plan.groups.flatMap((g) => [...g.steps]);
}

const REF_PREFIX = 'ref:';

/** A ConfigID that stands for the ID the step `id` creates (bound by bindStep before the write). */
export function configRef(id: StepId): string {
  return `${REF_PREFIX}${id}`;
}

/** The step whose created ID `value` stands for, if it is a reference. */
export function refTarget(value: string): StepId | undefined {
  return value.startsWith(REF_PREFIX) ? value.slice(REF_PREFIX.length) : undefined;
}

/** What the step writes to, for logs and `diff`. */
export function stepTarget(step: Step): string {
  switch (step.op) {
    case 'createConfig':
    case 'updateConfigLabels':
    case 'createService':
    case 'updateService':
      return step.spec.Name;
    case 'deliver':
      return `agents of ${step.cluster}`;
    default:
      return step.name;
  }
}

/** Everything that makes the write what it is, without the explanation: equal keys ⇒ the same request. */
export function stepIdentity(step: Step): unknown {
  const { reason: _r, ...rest } = step;
  return rest.op === 'deliver' ? { ...rest, files: undefined } : rest;
}

/** A digest of stepIdentity: how a failure is remembered for exactly this write. */
export function stepKey(step: Step): string {
  return sha256Hex(canonicalJson(stepIdentity(step)));
}
