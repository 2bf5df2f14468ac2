/**
 * A Plan for people (`swarmgate diff`) and for golden files: one line per step with what it writes,
 * what it does to running proxies, and why; or a JSON form with whole service specs and config
 * labels (config contents are given by size and hash: the rendered file is pinned on its own).
 */
import { sha256Hex } from '../../domain/sha256';
import { planSteps, stepTarget, type Plan, type Step, type TaskEffect } from './steps';

const EFFECT: Record<TaskEffect, string> = {
  'starts-tasks': 'starts proxy tasks',
  'restarts-tasks': 'restarts the tasks',
  'keeps-tasks': 'hitless: tasks keep running',
};

/** What the step does to traffic, in a few words. */
export function stepEffect(step: Step): string {
  switch (step.op) {
    case 'createService':
    case 'updateService':
      return step.role === 'proxy' ? EFFECT[step.effect] : EFFECT[step.effect].replace('proxy ', '');
    case 'deliver':
      return 'hitless: agents reload';
    default:
      return 'no restart';
  }
}

export function describeStep(step: Step): string {
  return `${step.op} ${stepTarget(step)} (${stepEffect(step)}): ${step.reason}`;
}

/** Lines grouped by cluster; empty when there is nothing to write. */
export function describePlan(plan: Plan): string[] {
  return plan.groups.filter((g) => g.steps.length > 0).flatMap((g) => [`${g.key}:`, ...g.steps.map((s) => `  ${describeStep(s)}`)]);
}

function dataSummary(base64: string | undefined): { bytes: number; sha256: string } {
  const text = Buffer.from(base64 ?? '', 'base64').toString('utf8');
  return { bytes: Buffer.byteLength(text), sha256: sha256Hex(text) };
}

/** The plan as plain data: what golden files pin (service specs whole, config contents by hash). */
export function planJson(plan: Plan): unknown {
  return plan.groups.map((g) => ({
    group: g.key,
    steps: g.steps.map((s) => {
      switch (s.op) {
        case 'createConfig':
        case 'updateConfigLabels': {
          const { Data, ...spec } = s.spec;
          return { ...s, spec: { ...spec, ...(Data !== undefined ? { Data: dataSummary(Data) } : {}) } };
        }
        case 'deliver':
          return { ...s, files: s.files.map((f) => ({ path: f.path, bytes: f.content.length })) };
        default:
          return s;
      }
    }),
  }));
}

/** Number of steps (diff's exit code: one step or more is a change). */
export function stepCount(plan: Plan): number {
  return planSteps(plan).length;
}
