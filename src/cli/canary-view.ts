/**
 * `swarmgate canary get`: the text (and JSON) view of one Route's rollout. Pure: it formats what
 * route-rollout.ts read, at a given `now`, so tests can compare the exact lines.
 */
import { durationMs } from '../domain/brands';
import type { CanarySpec, CanaryStep, RolloutBackend } from '../domain/canary';
import type { Phase, RolloutState, StepMeasurement } from '../plan/rollout';
import type { RouteRollout } from './route-rollout';
import { commandText } from './rollout-labels';
import { age, formatTable } from './table';

export type CanaryViewInput = Omit<RouteRollout, 'config'>;

/** Phases after which the rollout only moves again on `retry` or a spec change: `get --watch` and `wait` stop there. */
export const TERMINAL_PHASES: readonly Phase[] = ['Succeeded', 'Failed', 'Aborted'];

export const HISTORY_SHOWN = 10;
const BAR_WIDTH = 20;

const backend = (b: RolloutBackend | undefined): string => (b === undefined ? '?' : `${b.service}:${b.port}`);

/** ISO time to the second, UTC: the history's timestamps, readable and sortable. */
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `stable ██████████████████░░ 90% | canary 10%`: stable's share in full blocks, the new service's in light ones. */
export function weightBar(weight: number, names: readonly [string, string] = ['stable', 'canary']): string {
  const w = Math.min(100, Math.max(0, Math.round(weight)));
  const full = Math.round(((100 - w) * BAR_WIDTH) / 100);
  return `${names[0]} ${'█'.repeat(full)}${'░'.repeat(BAR_WIDTH - full)} ${100 - w}% | ${names[1]} ${w}%`;
}

export function stepText(step: CanaryStep): string {
  if (step.setWeight !== undefined) return `setWeight: ${step.setWeight}`;
  const d = step.pause?.duration;
  return d === undefined ? 'pause: (until promote)' : `pause: ${d}`;
}

function phaseLine(state: RolloutState, name: string): string {
  if (state.phase === 'Failed' || state.phase === 'Aborted') {
    const why = [state.reason, state.message].filter((x) => x !== undefined && x !== '').join(': ');
    return why === '' ? state.phase : `${state.phase} (${why})`;
  }
  if (state.phase === 'Paused') return `Paused (waiting for \`swarmgate canary promote ${name}\`)`;
  if (state.phase === 'Progressing' && !state.gatePassed) return 'Progressing (pre-rollout webhooks not passed yet)';
  return state.phase;
}

/** ✔ done, ► current, ✖ where a Failed or Aborted rollout stopped, blank for steps still ahead. */
function marker(index: number, state: RolloutState | undefined): string {
  if (state === undefined) return ' ';
  if (index < state.step) return '✔';
  if (index > state.step) return ' ';
  if (state.phase === 'Failed' || state.phase === 'Aborted') return '✖';
  return state.phase === 'Succeeded' ? '✔' : '►';
}

/** A timed pause in progress also says how long it has left (it still needs a passing interval once over). */
function remaining(step: CanaryStep, state: RolloutState | undefined, index: number, now: Date): string {
  const d = step.pause?.duration;
  if (d === undefined || state === undefined || state.step !== index || state.phase !== 'Progressing' || !state.gatePassed) return '';
  const left = state.stepStartedAt + durationMs(d) - now.getTime();
  return left > 0 ? `  (${Math.ceil(left / 1000)}s left)` : '  (waiting for a passing analysis)';
}

function canarySteps(spec: CanarySpec, state: RolloutState | undefined, now: Date): string[] {
  const steps = spec.steps ?? [];
  const lines = steps.map((s, i) => `  ${marker(i, state)} ${String(i).padStart(2)}  ${stepText(s)}${remaining(s, state, i, now)}`);
  // After the last step the canary gets 100 %: shown as a final line so "all done" has a marker too.
  lines.push(`  ${marker(steps.length, state)}  -  100% to ${spec.canary?.service ?? 'canary'}`);
  return lines;
}

function blueGreenSteps(spec: CanarySpec, state: RolloutState | undefined): string[] {
  return [
    `  ${marker(0, state)}  0  preview on ${spec.previewHost ?? '?'} (until promote)`,
    `  ${marker(1, state)}  1  switch to ${spec.preview?.service ?? 'preview'}${spec.scaleDownDelay !== undefined ? `, keep ${spec.active?.service ?? 'active'} for ${spec.scaleDownDelay}` : ''}`,
  ];
}

function analysisLines(spec: CanarySpec, measurements: readonly StepMeasurement[], failures: number, now: Date): string[] {
  const a = spec.analysis;
  if (a === undefined && measurements.length === 0) return [];
  const limits = a === undefined ? [] : [`every ${a.interval}`, ...(a.maxErrorRate !== undefined ? [`max error rate ${a.maxErrorRate}`] : []), ...(a.maxP99Latency !== undefined ? [`max p99 ${a.maxP99Latency}`] : []), `min requests ${a.minRequests}`, `failure limit ${a.failureLimit}`];
  const rows = measurements.map((m) => [
    String(m.step),
    m.requests !== undefined ? String(m.requests) : '-',
    m.errorRate !== undefined ? `${Number((m.errorRate * 100).toFixed(3))}%` : '-',
    m.p99Ms !== undefined ? `${Number(m.p99Ms.toFixed(1))}ms` : '-',
    String(m.passed),
    String(m.failed),
    String(m.inconclusive),
    `${age(new Date(m.at).toISOString(), now)} ago`,
  ]);
  return [
    `Analysis:   ${limits.join(', ')}${failures > 0 ? `; ${failures} failed interval(s) in a row` : ''}`.trimEnd(),
    ...(rows.length === 0 ? ['  no interval judged yet'] : indent(formatTable(['STEP', 'REQUESTS', 'ERROR RATE', 'P99', 'PASSED', 'FAILED', 'INCONCLUSIVE', 'JUDGED'], rows))),
  ];
}

function historyLines(state: RolloutState): string[] {
  const shown = state.history.slice(-HISTORY_SHOWN);
  const rows = shown.map((t) => [isoSeconds(t.at), `${t.from ?? '-'} → ${t.to}`, String(t.step), `${t.weight}%`, t.reason, t.message ?? '']);
  const more = state.history.length - shown.length;
  return [`History${more > 0 ? ` (last ${HISTORY_SHOWN} of ${state.history.length})` : ''}:`, ...indent(formatTable(['TIME', 'PHASE', 'STEP', 'WEIGHT', 'REASON', 'MESSAGE'], rows))];
}

function indent(text: string): string[] {
  return text.split('\n').map((l) => `  ${l}`);
}

export function formatCanaryView(v: CanaryViewInput, now: Date): string {
  const spec = v.canary;
  const blueGreen = spec.strategy === 'blueGreen';
  const names: [string, string] = blueGreen ? ['active', 'preview'] : ['stable', 'canary'];
  const services = blueGreen
    ? `${backend(spec.active)} (active) → ${backend(spec.preview)} (preview), preview host ${spec.previewHost ?? '?'}`
    : `${backend(spec.stable)} (stable) → ${backend(spec.canary)} (canary)`;
  const s = v.state;
  const lines = [`Name:       route/${v.name} (generation ${v.generation})`, `Strategy:   ${spec.strategy}`, `Services:   ${services}`];
  // Only worth saying about a state that exists: it may be the one carried over from the previous generation.
  if (s !== undefined && v.observedGeneration !== v.generation)
    lines.push(`Note:       the core has not observed generation ${v.generation} yet${v.observedGeneration !== undefined ? ` (last: ${v.observedGeneration})` : ''}; the rollout below may be the previous generation's`);
  if (s === undefined) {
    lines.push(
      v.stateError !== undefined
        ? `Phase:      unknown (the rollout state label cannot be read: ${v.stateError})`
        : 'Phase:      not started (the core has not written a rollout state for this route yet; is `swarmgate core` running?)',
      `Weight:     ${weightBar(0, names)}`,
    );
  } else {
    lines.push(`Phase:      ${phaseLine(s, v.name)}`, `Step:       ${blueGreen ? (s.step === 0 ? 'before the switch' : 'switched') : `${Math.min(s.step, spec.steps?.length ?? 0)}/${spec.steps?.length ?? 0}`}`, `Weight:     ${weightBar(s.weight, names)}`);
  }
  lines.push('', 'Steps:', ...(blueGreen ? blueGreenSteps(spec, s) : canarySteps(spec, s, now)));
  const analysis = analysisLines(spec, s?.measurements ?? [], s?.failures ?? 0, now);
  if (analysis.length > 0) lines.push('', ...analysis);
  if (s !== undefined && s.history.length > 0) lines.push('', ...historyLines(s));
  lines.push('');
  if (v.pending !== undefined) lines.push(`Pending:    ${commandText(v.pending.command)} (id ${v.pending.id}, sent ${v.pending.at || '?'}), not taken by the core yet`);
  lines.push(v.result === undefined ? 'Last command: none' : `Last command: ${v.result.accepted ? '✔ accepted' : '✖ rejected'}: ${v.result.message} (id ${v.result.id})`);
  return lines.join('\n');
}

/** `-o json`: the same facts for scripts, with the raw state (times in epoch milliseconds). */
export function canaryViewJson(v: CanaryViewInput): unknown {
  return {
    route: v.name,
    generation: v.generation,
    ...(v.observedGeneration !== undefined ? { observedGeneration: v.observedGeneration } : {}),
    canary: v.canary,
    state: v.state ?? null,
    ...(v.stateError !== undefined ? { stateError: v.stateError } : {}),
    pendingCommand: v.pending ?? null,
    lastResult: v.result ?? null,
  };
}

/** Whether `get --watch` (and `wait`) can stop: the rollout rests in Succeeded, Failed or Aborted. */
export function isTerminal(state: RolloutState | undefined): boolean {
  return state !== undefined && TERMINAL_PHASES.includes(state.phase);
}
