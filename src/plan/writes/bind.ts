/**
 * References inside a plan: a service that mounts a config created earlier in the same group names
 * it `configRef(stepId)` until the config exists. Binding replaces the reference with the created
 * ID and labels the spec again (its hashes cover the real ID, so the next run's plan, which sees
 * the real ID, finds the service current).
 */
import type { ServiceSpec } from '../../observed/docker-port';
import { labelledServiceSpec, unlabelledServiceSpec } from './service-labels';
import { refTarget, type Step, type StepId } from './steps';

export class UnboundReference extends Error {
  constructor(readonly stepId: StepId) {
    super(`the plan refers to step "${stepId}", which created nothing`);
    this.name = 'UnboundReference';
  }
}

/** The IDs the spec's mounted configs wait for. */
export function specReferences(spec: ServiceSpec): StepId[] {
  return (spec.TaskTemplate.ContainerSpec.Configs ?? []).map((c) => refTarget(c.ConfigID)).filter((id): id is StepId => id !== undefined);
}

function bindSpec(spec: ServiceSpec, created: ReadonlyMap<StepId, string>): ServiceSpec {
  if (specReferences(spec).length === 0) return spec;
  const configs = (spec.TaskTemplate.ContainerSpec.Configs ?? []).map((c) => {
    const target = refTarget(c.ConfigID);
    if (target === undefined) return c;
    const id = created.get(target);
    if (id === undefined) throw new UnboundReference(target);
    return { ...c, ConfigID: id };
  });
  const bound = unlabelledServiceSpec({ ...spec, TaskTemplate: { ...spec.TaskTemplate, ContainerSpec: { ...spec.TaskTemplate.ContainerSpec, Configs: configs } } });
  return labelledServiceSpec(bound);
}

/** The step as it is written: every reference replaced by the ID its step created. */
export function bindStep(step: Step, created: ReadonlyMap<StepId, string>): Step {
  if (step.op === 'createService' || step.op === 'updateService') return { ...step, spec: bindSpec(step.spec, created) };
  return step;
}
