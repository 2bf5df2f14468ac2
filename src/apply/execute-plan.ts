/**
 * Executes a Plan (src/plan/writes) against the Docker port and the agents, step by step, and
 * reports each step's outcome. Nothing here decides what to write: a step is written as planned
 * (with references to IDs created earlier in its group bound first), and its failure classified.
 *
 * Groups (one per cluster) are independent: a failed create/update/delivery ends its own group
 * only; the other groups run. A failed removal ends nothing (nothing after it depends on it); a
 * removal answered 404 is done (already gone), one answered "in use" is deferred to the next run.
 */
import { classifyDockerError, isInUse, isNotFound, type DockerErrorClass } from '../observed/docker-errors';
import type { DockerPort } from '../observed/docker-port';
import { bindStep } from '../plan/writes/bind';
import type { DeliverStep, Plan, Step, StepGroup, StepId } from '../plan/writes/steps';

/** Hands configs to a cluster's proxy agents (the core's control plane). */
export interface AgentSink {
  deliver(step: DeliverStep): void;
}

export interface ExecutionPorts {
  readonly docker: DockerPort;
  readonly agents?: AgentSink;
}

export interface StepFailure {
  readonly error: unknown;
  readonly errorClass: DockerErrorClass;
  /** The failure is remembered from an earlier run: the write was not attempted again. */
  readonly remembered?: boolean;
}

export type StepOutcome =
  | { readonly step: Step; readonly result: 'ok'; readonly createdId?: string }
  /** A removal refused because something still uses the object (the next run decides again). */
  | { readonly step: Step; readonly result: 'deferred'; readonly why: string }
  | ({ readonly step: Step; readonly result: 'failed' } & StepFailure)
  /** Not attempted: an earlier step of its group failed. */
  | { readonly step: Step; readonly result: 'skipped' };

export interface GroupOutcome {
  readonly key: string;
  readonly outcomes: readonly StepOutcome[];
  /** IDs created by the group's steps, by step id. */
  readonly created: ReadonlyMap<StepId, string>;
  /** The failure that ended the group (a create, update or delivery), if any. */
  readonly failed?: { readonly step: Step } & StepFailure;
}

/** A failure known from an earlier run for exactly this step (a terminal error, until an input changes). */
export type Blocked = (group: string, step: Step) => StepFailure | undefined;

async function write(step: Step, ports: ExecutionPorts): Promise<string | undefined> {
  const docker = ports.docker;
  switch (step.op) {
    case 'createConfig':
      return docker.createConfig(step.spec);
    case 'updateConfigLabels':
      await docker.updateConfigLabels(step.configId, step.version, step.spec);
      return undefined;
    case 'createService':
      return docker.createService(step.spec);
    case 'updateService':
      await docker.updateService(step.serviceId, step.version, step.spec);
      return undefined;
    case 'deliver':
      if (ports.agents === undefined) throw new Error(`no agents to deliver to for cluster ${step.cluster}`);
      ports.agents.deliver(step);
      return undefined;
    case 'removeConfig':
      await docker.removeConfig(step.targetId);
      return undefined;
    case 'removeService':
      await docker.removeService(step.targetId);
      return undefined;
    case 'removeSecret':
      await docker.removeSecret(step.targetId);
      return undefined;
  }
}

const isRemoval = (step: Step): boolean => step.op === 'removeConfig' || step.op === 'removeService' || step.op === 'removeSecret';

export async function executeGroup(group: StepGroup, ports: ExecutionPorts, blocked?: Blocked): Promise<GroupOutcome> {
  const outcomes: StepOutcome[] = [];
  const created = new Map<StepId, string>();
  let failed: GroupOutcome['failed'];
  for (const planned of group.steps) {
    if (failed !== undefined) {
      outcomes.push({ step: planned, result: 'skipped' });
      continue;
    }
    const known = blocked?.(group.key, planned);
    if (known !== undefined) {
      outcomes.push({ step: planned, result: 'failed', ...known, remembered: true });
      if (!isRemoval(planned)) failed = { step: planned, ...known, remembered: true };
      continue;
    }
    try {
      const step = bindStep(planned, created);
      const id = await write(step, ports);
      if (id !== undefined && (step.op === 'createConfig' || step.op === 'createService')) created.set(step.id, id);
      outcomes.push({ step, result: 'ok', ...(id !== undefined ? { createdId: id } : {}) });
    } catch (error) {
      if (isRemoval(planned) && isNotFound(error)) outcomes.push({ step: planned, result: 'ok' });
      else if (isRemoval(planned) && isInUse(error)) outcomes.push({ step: planned, result: 'deferred', why: 'still in use' });
      else {
        const failure = { error, errorClass: classifyDockerError(error) };
        outcomes.push({ step: planned, result: 'failed', ...failure });
        if (!isRemoval(planned)) failed = { step: planned, ...failure };
      }
    }
  }
  return { key: group.key, outcomes, created, ...(failed !== undefined ? { failed } : {}) };
}

/** Every group, in plan order; a group's failure never stops another group. */
export async function executePlan(plan: Plan, ports: ExecutionPorts, blocked?: Blocked): Promise<GroupOutcome[]> {
  const results: GroupOutcome[] = [];
  for (const g of plan.groups) results.push(await executeGroup(g, ports, blocked));
  return results;
}
