/**
 * `swarmgate canary get` text view (src/cli/canary-view.ts), on states made by the real state
 * machine: the key lines of each phase, markers, the weight bar, analysis, history, commands.
 */
import { describe, expect, it } from 'vitest';
import { canaryViewJson, formatCanaryView, stepText, weightBar, type CanaryViewInput } from '../../src/cli/canary-view';
import type { Duration } from '../../src/domain/brands';
import type { RolloutState } from '../../src/plan/rollout';
import { at, blueGreen, canary, last, metrics, run } from '../helpers/rollout';

const analysed = canary({ analysis: { interval: '1m', maxErrorRate: '1%', maxP99Latency: '500ms', minRequests: 100 } });

const view = (extra: Partial<CanaryViewInput> & { state?: RolloutState }, spec = analysed): CanaryViewInput => ({ name: 'shop', generation: 2, observedGeneration: 2, canary: spec, ...extra });
const lines = (v: CanaryViewInput, nowSeconds: number): string[] => formatCanaryView(v, new Date(at(nowSeconds))).split('\n');

/** Paused at the manual pause (step 3, 50 %) after one passing interval at step 1. */
const paused = last(run(analysed, [{ now: at(0) }, { now: at(60), metrics: metrics(1200, 3, 120) }])).state;

describe('weightBar', () => {
  it('draws the stable share in full blocks and the new one in light blocks, 20 wide', () => {
    expect(weightBar(10)).toBe('stable ██████████████████░░ 90% | canary 10%');
    expect(weightBar(0)).toBe(`stable ${'█'.repeat(20)} 100% | canary 0%`);
    expect(weightBar(100)).toBe(`stable ${'░'.repeat(20)} 0% | canary 100%`);
    expect(weightBar(50, ['active', 'preview'])).toBe('active ██████████░░░░░░░░░░ 50% | preview 50%');
  });
});

describe('stepText', () => {
  it('names each kind of step the way the spec writes it', () => {
    expect(stepText({ setWeight: 10 })).toBe('setWeight: 10');
    expect(stepText({ pause: { duration: '30s' as Duration } })).toBe('pause: 30s');
    expect(stepText({ pause: {} })).toBe('pause: (until promote)');
  });
});

describe('formatCanaryView', () => {
  it('a paused canary: services, phase with the promote hint, done steps ✔, current ►, bar, analysis, history, last result', () => {
    const out = lines(view({ state: paused, result: { id: '0123456789abcdef', accepted: true, message: 'steps[1] ended by promote' } }), 90);
    expect(out.slice(0, 6)).toEqual([
      'Name:       route/shop (generation 2)',
      'Strategy:   canary',
      'Services:   shop-v1:8080 (stable) → shop-v2:8080 (canary)',
      'Phase:      Paused (waiting for `swarmgate canary promote shop`)',
      'Step:       3/4',
      'Weight:     stable ██████████░░░░░░░░░░ 50% | canary 50%',
    ]);
    const steps = out.slice(out.indexOf('Steps:') + 1, out.indexOf('Steps:') + 6);
    expect(steps).toEqual(['  ✔  0  setWeight: 10', '  ✔  1  pause: 1m', '  ✔  2  setWeight: 50', '  ►  3  pause: (until promote)', '     -  100% to shop-v2']);
    expect(out).toContain('Analysis:   every 1m, max error rate 1%, max p99 500ms, min requests 100, failure limit 2');
    // One judged interval at step 1: 3 errors in 1200 requests is 0.25 %.
    const row = out.find((l) => /^ {2}1 +1200 /.test(l));
    expect(row?.split(/\s{2,}/).filter((c) => c !== '')).toEqual(['1', '1200', '0.25%', '120ms', '1', '0', '0', '30s ago']);
    expect(out.some((l) => /^ {2}2026-01-01T00:01:00Z +Progressing → Paused +3 +50% +PausedForPromotion +steps\[3\] waits for a promote$/.test(l))).toBe(true);
    expect(out[out.length - 1]).toBe('Last command: ✔ accepted: steps[1] ended by promote (id 0123456789abcdef)');
    expect(out.some((l) => l.startsWith('Note:'))).toBe(false);
  });

  it('a running timed pause says how long it has left', () => {
    const state = last(run(analysed, [{ now: at(0) }])).state;
    const out = lines(view({ state }), 10);
    expect(out).toContain('  ►  1  pause: 1m  (50s left)');
    expect(out).toContain('Weight:     stable ██████████████████░░ 90% | canary 10%');
    expect(out).toContain('  no interval judged yet');
  });

  it('a failed canary: phase with reason and message, ✖ where it stopped, 100 % stable, failed counts', () => {
    const bad = metrics(1200, 300, 120);
    const state = last(run(analysed, [{ now: at(0) }, { now: at(60), metrics: bad }, { now: at(120), metrics: bad }, { now: at(180), metrics: bad }])).state;
    const out = lines(view({ state }), 190);
    expect(out).toContain('Phase:      Failed (AnalysisFailed: 3 failed intervals in a row: error rate 25% is above 1% (300 of 1200 requests))');
    expect(out).toContain('  ✖  1  pause: 1m');
    expect(out).toContain('     2  setWeight: 50');
    expect(out).toContain(`Weight:     stable ${'█'.repeat(20)} 100% | canary 0%`);
    const row = out.find((l) => /^ {2}1 +1200 /.test(l))?.split(/\s{2,}/).filter((c) => c !== '');
    expect(row?.slice(2, 7)).toEqual(['25%', '120ms', '0', '3', '0']);
  });

  it('an aborted canary names the command as the reason', () => {
    const state = last(run(analysed, [{ now: at(0) }, { now: at(5), command: 'abort' }])).state;
    expect(lines(view({ state }), 6)).toContain('Phase:      Aborted (Aborted: aborted by command)');
  });

  it('a succeeded canary marks every step and the final 100 % done', () => {
    const state = last(run(analysed, [{ now: at(0) }, { now: at(1), command: 'promoteFull' }])).state;
    const out = lines(view({ state }), 2);
    expect(out).toContain('Phase:      Succeeded');
    expect(out).toContain('  ✔  3  pause: (until promote)');
    expect(out).toContain('  ✔  -  100% to shop-v2');
    expect(out).toContain(`Weight:     stable ${'░'.repeat(20)} 0% | canary 100%`);
  });

  it('blue-green: active → preview with the preview host, the switch as the step, a pending command', () => {
    const spec = blueGreen();
    const state = last(run(spec, [{ now: at(0) }])).state;
    const out = lines(view({ state, pending: { id: 'fedcba9876543210', command: 'promoteFull', at: '2026-01-01T00:00:05Z' } }, spec), 10);
    expect(out).toContain('Services:   shop-blue:8080 (active) → shop-green:8080 (preview), preview host preview.shop.example.com');
    expect(out).toContain('Step:       before the switch');
    expect(out).toContain(`Weight:     active ${'█'.repeat(20)} 100% | preview 0%`);
    expect(out).toContain('  ►  0  preview on preview.shop.example.com (until promote)');
    expect(out).toContain('     1  switch to shop-green, keep shop-blue for 10m');
    expect(out).toContain('Pending:    promote --full (id fedcba9876543210, sent 2026-01-01T00:00:05Z), not taken by the core yet');
    expect(out).toContain('Last command: none');
  });

  it('without a state: not started, nothing marked, the stable service has everything', () => {
    const out = lines({ name: 'shop', generation: 1, canary: analysed }, 0);
    expect(out).toContain('Phase:      not started (the core has not written a rollout state for this route yet; is `swarmgate core` running?)');
    expect(out).toContain('     0  setWeight: 10');
    expect(out.some((l) => /[✔►✖]/.test(l))).toBe(false);
  });

  it('warns when the state may belong to the previous generation', () => {
    expect(lines(view({ state: paused, observedGeneration: 1 }), 90)).toContain(
      "Note:       the core has not observed generation 2 yet (last: 1); the rollout below may be the previous generation's",
    );
  });

  it('a rejected last command is marked as such', () => {
    const out = lines(view({ state: paused, result: { id: 'aa', accepted: false, message: 'retry restarts a Failed or Aborted rollout; this one is Paused' } }), 90);
    expect(out[out.length - 1]).toBe('Last command: ✖ rejected: retry restarts a Failed or Aborted rollout; this one is Paused (id aa)');
  });

  it('shows only the last 10 history entries, oldest first, and says how many there are', () => {
    // Abort and retry repeatedly: each pair adds transitions.
    const inputs = [{ now: at(0) }, ...Array.from({ length: 6 }, (_, i) => [{ now: at(10 + 2 * i), command: 'abort' as const }, { now: at(11 + 2 * i), command: 'retry' as const }]).flat()];
    const state = last(run(analysed, inputs)).state;
    expect(state.history.length).toBeGreaterThan(10);
    const out = lines(view({ state }), 100);
    const header = out.findIndex((l) => l.startsWith('History'));
    expect(out[header]).toBe(`History (last 10 of ${state.history.length}):`);
    const rows = out.slice(header + 2).filter((l) => /^ {2}2026-/.test(l));
    expect(rows).toHaveLength(10);
    const newest = state.history[state.history.length - 1];
    expect(rows[9]).toContain(`${newest?.reason ?? '?'}`);
    expect(rows[9]?.startsWith(`  ${new Date(newest?.at ?? 0).toISOString().replace('.000', '')}`)).toBe(true);
  });
});

describe('canaryViewJson', () => {
  it('carries the raw state, the pending command and the last result', () => {
    const j = canaryViewJson(view({ state: paused, result: { id: 'aa', accepted: true, message: 'ok' } })) as Record<string, unknown>;
    expect(j).toMatchObject({ route: 'shop', generation: 2, observedGeneration: 2, state: { phase: 'Paused', step: 3, weight: 50 }, pendingCommand: null, lastResult: { id: 'aa', accepted: true } });
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });
});
