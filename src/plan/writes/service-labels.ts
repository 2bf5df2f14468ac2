/**
 * A service spec as swarmgate writes it: labelled with the hash of the whole spec (equal hashes ⇒
 * nothing to write, so a converged cluster and a restarted core cost no update) and with the hash
 * of the part whose change makes Swarm replace the tasks (so the plan can tell a restart from a
 * change that keeps the tasks running).
 */
import { LABELS } from '../../domain/labels';
import type { ServiceInfo, ServiceSpec } from '../../observed/docker-port';
import { canonicalJson } from '../hash';
import { sha256Hex } from '../../domain/sha256';
import type { TaskEffect } from './steps';

/** Hash of the spec as built (without the hash labels themselves). */
export function serviceSpecHash(spec: ServiceSpec): string {
  return sha256Hex(canonicalJson(spec));
}

/** Swarm replaces a service's tasks when the task template or the endpoint (published ports) changes. */
export function taskSpecHash(spec: ServiceSpec): string {
  return sha256Hex(canonicalJson({ task: spec.TaskTemplate, endpoint: spec.EndpointSpec ?? null }));
}

export function labelledServiceSpec(spec: ServiceSpec): ServiceSpec {
  return { ...spec, Labels: { ...spec.Labels, [LABELS.specHash]: serviceSpecHash(spec), [LABELS.taskHash]: taskSpecHash(spec) } };
}

/** The spec without the hash labels: what the hashes are computed over. */
export function unlabelledServiceSpec(spec: ServiceSpec): ServiceSpec {
  const { [LABELS.specHash]: _s, [LABELS.taskHash]: _t, ...labels } = spec.Labels ?? {};
  return { ...spec, Labels: labels };
}

/** Whether the live service already has exactly this spec (the labelled hash matches). */
export function isCurrent(existing: ServiceInfo, labelled: ServiceSpec): boolean {
  return existing.Spec.Labels?.[LABELS.specHash] === labelled.Labels?.[LABELS.specHash];
}

/**
 * What updating `existing` to `labelled` does to its tasks. A service written before the task hash
 * label existed has none: its tasks are assumed to restart (the safe answer).
 */
export function updateEffect(existing: ServiceInfo, labelled: ServiceSpec): TaskEffect {
  const before = existing.Spec.Labels?.[LABELS.taskHash];
  return before !== undefined && before === labelled.Labels?.[LABELS.taskHash] ? 'keeps-tasks' : 'restarts-tasks';
}
