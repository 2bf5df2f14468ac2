/**
 * The rollout state machine (src/plan/rollout): every transition of both strategies, commands in
 * every phase, analysis at its boundaries, webhooks, spec changes, and restarts in each phase
 * (decode(encode(state)) then continuing gives what never stopping gives).
 */
import * as E from 'fp-ts/Either';
import { describe, expect, it } from 'vitest';
import {
  advanceRollout,
  decodeRolloutState,
  encodeRolloutState,
  judgeInterval,
  MAX_ENCODED_STATE_BYTES,
  rolloutRevision,
  type Phase,
  type RolloutInput,
  type RolloutResult,
} from '../../src/plan/rollout';
import { at, blueGreen, canary, CANARY, last, metrics, run, runWithRestarts, STABLE } from '../helpers/rollout';

const reasons = (r: RolloutResult): string[] => r.transitions.map((t) => `${t.from ?? '-'}>${t.to}:${t.reason}@${t.step}/${t.weight}`);

describe('canary: steps without analysis', () => {
  const spec = canary();

  it('starts at step 0 and applies the first setWeight at once, resting at the timed pause', () => {
    const r = advanceRollout(spec, undefined, { now: at(0) });
    expect(r.weights).toEqual({ stable: 90, canary: 10 });
    expect(r.state).toMatchObject({ phase: 'Progressing', step: 1, weight: 10, gatePassed: true, stepStartedAt: at(0) });
    expect(reasons(r)).toEqual(['->Progressing:RolloutStarted@0/0', 'Progressing>Progressing:StepAdvanced@1/10']);
    expect(r.nextWakeAt).toBe(at(60));
    expect(r.awaiting).toEqual([]);
    expect(r.notify).toEqual([]);
  });

  it('waits until the pause duration has passed (exactly at the end it moves on)', () => {
    const [, before, end] = run(spec, [{ now: at(0) }, { now: at(59.999) }, { now: at(60) }]);
    expect(before?.transitions).toEqual([]);
    expect(before?.state.step).toBe(1);
    expect(end && reasons(end)).toEqual([
      'Progressing>Progressing:StepAdvanced@2/10',
      'Progressing>Progressing:StepAdvanced@3/50',
      'Progressing>Paused:PausedForPromotion@3/50',
    ]);
    expect(end?.weights).toEqual({ stable: 50, canary: 50 });
    expect(end?.nextWakeAt).toBeUndefined();
  });

  it('a late reconcile catches up several steps in one call', () => {
    const [, r] = run(spec, [{ now: at(0) }, { now: at(3600) }]);
    expect(r?.state).toMatchObject({ phase: 'Paused', step: 3, weight: 50 });
  });

  it('Paused stays Paused without a command, whatever the time', () => {
    const rs = run(spec, [{ now: at(0) }, { now: at(60) }, { now: at(86_400) }]);
    expect(last(rs).transitions).toEqual([]);
    expect(last(rs).state.phase).toBe('Paused');
  });

  it('promote in Paused finishes the pause; after the last step the canary has 100 % and the rollout Succeeded', () => {
    const r = last(run(spec, [{ now: at(0) }, { now: at(60) }, { now: at(70), command: 'promote' }]));
    expect(r.command).toEqual({ accepted: true, message: 'steps[3] ended by promote' });
    expect(reasons(r)).toEqual(['Paused>Progressing:Promoted@4/50', 'Progressing>Succeeded:AllStepsCompleted@4/100']);
    expect(r.weights).toEqual({ stable: 0, canary: 100 });
    expect(r.nextWakeAt).toBeUndefined();
  });

  it('promote in a timed pause ends it early', () => {
    const r = last(run(spec, [{ now: at(0) }, { now: at(10), command: 'promote' }]));
    expect(r.command?.accepted).toBe(true);
    expect(r.state).toMatchObject({ phase: 'Paused', step: 3, weight: 50 });
  });

  it('promoteFull jumps to the end from Progressing and from Paused', () => {
    const a = last(run(spec, [{ now: at(0) }, { now: at(10), command: 'promoteFull' }]));
    expect(reasons(a)).toEqual(['Progressing>Succeeded:PromotedFully@4/100']);
    const b = last(run(spec, [{ now: at(0) }, { now: at(60) }, { now: at(61), command: 'promoteFull' }]));
    expect(b.state).toMatchObject({ phase: 'Succeeded', weight: 100, step: 4 });
  });

  it('promote on a fresh state settles first, so it ends the pause the rollout would rest at', () => {
    const r = advanceRollout(spec, undefined, { now: at(0), command: 'promote' });
    expect(r.state).toMatchObject({ phase: 'Paused', step: 3, weight: 50 });
  });

  it('with scaleDownDelay the end is Promoted (old service kept) until the delay has passed, then Succeeded', () => {
    const s = canary({ scaleDownDelay: '5m' });
    const rs = run(s, [{ now: at(0) }, { now: at(10), command: 'promoteFull' }, { now: at(309.999) }, { now: at(310) }]);
    expect(reasons(rs[1] as RolloutResult)).toEqual(['Progressing>Promoted:PromotedFully@4/100']);
    expect(rs[1]?.state.promotedAt).toBe(at(10));
    expect(rs[1]?.nextWakeAt).toBe(at(310));
    expect(rs[2]?.state.phase).toBe('Promoted');
    expect(reasons(last(rs))).toEqual(['Promoted>Succeeded:ScaleDownDelayElapsed@4/100']);
  });

  it('abort in Promoted switches back to 100 % stable', () => {
    const s = canary({ scaleDownDelay: '5m' });
    const r = last(run(s, [{ now: at(0) }, { now: at(10), command: 'promoteFull' }, { now: at(20), command: 'abort' }]));
    expect(r.state).toMatchObject({ phase: 'Aborted', weight: 0, reason: 'Aborted', message: 'aborted by command' });
    expect(r.state.promotedAt).toBeUndefined();
    expect(r.weights).toEqual({ stable: 100, canary: 0 });
  });

  it.each<[string, RolloutInput[]]>([
    ['Progressing', [{ now: at(0) }]],
    ['Paused', [{ now: at(0) }, { now: at(60) }]],
  ])('abort in %s → Aborted with all traffic on stable; retry restarts from step 0 and keeps the history', (_phase, inputs) => {
    const rs = run(spec, [...inputs, { now: at(100), command: 'abort' }, { now: at(200), command: 'retry' }]);
    const aborted = rs[rs.length - 2] as RolloutResult;
    expect(aborted.command?.accepted).toBe(true);
    expect(aborted.state.phase).toBe('Aborted');
    expect(aborted.weights).toEqual({ stable: 100, canary: 0 });
    expect(aborted.nextWakeAt).toBeUndefined();
    const retried = last(rs);
    expect(retried.command).toEqual({ accepted: true, message: 'restarted from step 0' });
    expect(reasons(retried)).toEqual(['Aborted>Progressing:Retried@0/0', 'Progressing>Progressing:StepAdvanced@1/10']);
    expect(retried.state.reason).toBeUndefined();
    expect(retried.state.history.map((t) => t.reason)).toContain('Aborted');
    expect(retried.state.measurements).toEqual([]);
  });

  it.each<[Phase, string, string, RolloutInput[]]>([
    ['Aborted', 'abort', 'the rollout is already Aborted', [{ now: at(0) }, { now: at(1), command: 'abort' }]],
    ['Aborted', 'promote', 'the rollout is Aborted; use retry to start it again', [{ now: at(0) }, { now: at(1), command: 'abort' }]],
    ['Aborted', 'promoteFull', 'the rollout is Aborted; use retry to start it again', [{ now: at(0) }, { now: at(1), command: 'abort' }]],
    ['Progressing', 'retry', 'retry restarts a Failed or Aborted rollout; this one is Progressing', [{ now: at(0) }]],
    ['Paused', 'retry', 'retry restarts a Failed or Aborted rollout; this one is Paused', [{ now: at(0) }, { now: at(60) }]],
    ['Succeeded', 'abort', 'the rollout has succeeded and the old service may be gone; change spec.canary to roll back', [{ now: at(0), command: 'promoteFull' }]],
    ['Succeeded', 'promote', 'nothing to promote: the rollout is Succeeded', [{ now: at(0), command: 'promoteFull' }]],
    ['Succeeded', 'retry', 'retry restarts a Failed or Aborted rollout; this one is Succeeded', [{ now: at(0), command: 'promoteFull' }]],
  ])('in %s, %s is refused without a change (%s)', (phase, command, message, inputs) => {
    const before = last(run(spec, inputs));
    expect(before.state.phase).toBe(phase);
    const r = advanceRollout(spec, before.state, { now: at(5), command: command as RolloutInput['command'] & string });
    expect(r.command).toEqual({ accepted: false, message });
    expect(r.transitions).toEqual([]);
    expect(r.state).toEqual(before.state);
  });

  it('promote in Promoted is refused (the scaleDownDelay is not skipped)', () => {
    const s = canary({ scaleDownDelay: '5m' });
    const r = last(run(s, [{ now: at(0), command: 'promoteFull' }, { now: at(1), command: 'promote' }]));
    expect(r.command).toEqual({ accepted: false, message: 'nothing to promote: the rollout is Promoted' });
  });

  it('a first pause at weight 0 ends on its duration alone (nothing to judge)', () => {
    const s = canary({ steps: [{ pause: { duration: '30s' } }, { setWeight: 20 }, { pause: {} }], analysis: { maxErrorRate: '1%' } });
    const rs = run(s, [{ now: at(0) }, { now: at(30) }]);
    expect(rs[0]?.weights).toEqual({ stable: 100, canary: 0 });
    expect(last(rs).state).toMatchObject({ phase: 'Paused', weight: 20, step: 2 });
  });
});

describe('canary: analysis', () => {
  const spec = canary({
    steps: [{ setWeight: 20 }, { pause: { duration: '2m' } }, { setWeight: 60 }, { pause: { duration: '2m' } }],
    analysis: { interval: '1m', maxErrorRate: '1%', maxP99Latency: '500ms', minRequests: 100, failureLimit: 1 },
  });

  it('judges once per interval; the first tick is one interval after the step started', () => {
    const [first, early, tick] = run(spec, [{ now: at(0) }, { now: at(59), metrics: metrics(1000, 500) }, { now: at(60), metrics: metrics(100, 0) }]);
    expect(first?.nextWakeAt).toBe(at(60));
    expect(early?.state.measurements).toEqual([]);
    expect(tick?.state.measurements).toEqual([{ step: 1, at: at(60), passed: 1, failed: 0, inconclusive: 0, requests: 100, errorRate: 0, p99Ms: 10 }]);
    expect(tick?.state.lastOutcome).toBe('pass');
    expect(tick?.nextWakeAt).toBe(at(120));
  });

  it.each([
    ['error rate exactly at the maximum passes (1 of 100 at 1%)', metrics(100, 1), 'pass'],
    ['one more error fails (2 of 100)', metrics(100, 2), 'fail'],
    ['a rate just above fails (1001 of 100000 at 1%)', metrics(100_000, 1001), 'fail'],
    ['p99 exactly at the maximum passes', metrics(100, 0, 500), 'pass'],
    ['p99 just above fails', metrics(100, 0, 500.1), 'fail'],
    ['minRequests - 1 is not judged, even with every request failing', metrics(99, 99, 9999), 'inconclusive'],
    ['exactly minRequests is judged', metrics(100, 100), 'fail'],
    ['no metrics is not judged', undefined, 'inconclusive'],
    ['invalid counters are not judged', metrics(10.5, 1), 'inconclusive'],
    ['more errors than requests are not valid counters', metrics(100, 101), 'inconclusive'],
  ] as const)('%s', (_name, m, outcome) => {
    const r = last(run(spec, [{ now: at(0) }, { now: at(60), ...(m !== undefined ? { metrics: m } : {}) }]));
    expect(r.state.lastOutcome).toBe(outcome);
    expect(r.state.failures).toBe(outcome === 'fail' ? 1 : 0);
    expect(r.state.phase).toBe('Progressing');
  });

  it('exact comparison where floating point would be off by one ulp ("0.3%": 3 of 1000 passes, 3001 of 1000000 fails)', () => {
    const s = canary({ analysis: { maxErrorRate: '0.3%', minRequests: 1 } });
    const pass = last(run(s, [{ now: at(0) }, { now: at(60), metrics: metrics(1000, 3) }]));
    expect(pass.state.measurements[0]).toMatchObject({ passed: 1, failed: 0 });
    const fail = last(run(s, [{ now: at(0) }, { now: at(60), metrics: metrics(1_000_000, 3001) }]));
    expect(fail.state.measurements[0]).toMatchObject({ passed: 0, failed: 1 });
  });

  it('fails the rollout after failureLimit + 1 failed intervals in a row: 100 % stable, reason recorded', () => {
    const rs = run(spec, [{ now: at(0) }, { now: at(60), metrics: metrics(200, 4) }, { now: at(120), metrics: metrics(400, 10) }]);
    expect(rs[1]?.state.phase).toBe('Progressing');
    const r = last(rs);
    expect(reasons(r)).toEqual(['Progressing>Failed:AnalysisFailed@1/0']);
    expect(r.weights).toEqual({ stable: 100, canary: 0 });
    expect(r.state.reason).toBe('AnalysisFailed');
    expect(r.state.message).toBe('2 failed intervals in a row: error rate 2.5% is above 1% (10 of 400 requests)');
    expect(r.state.measurements).toEqual([{ step: 1, at: at(120), passed: 0, failed: 2, inconclusive: 0, requests: 400, errorRate: 0.025, p99Ms: 10 }]);
    expect(r.nextWakeAt).toBeUndefined();
  });

  it('failures must be consecutive: a passing interval resets the count, an inconclusive one does not', () => {
    const pass = run(spec, [{ now: at(0) }, { now: at(60), metrics: metrics(200, 4) }, { now: at(120), metrics: metrics(300, 3) }, { now: at(180), metrics: metrics(400, 10) }]);
    expect(last(pass).state).toMatchObject({ phase: 'Progressing', failures: 1 });
    const inconclusive = run(spec, [{ now: at(0) }, { now: at(60), metrics: metrics(200, 4) }, { now: at(120) }, { now: at(180), metrics: metrics(400, 10) }]);
    expect(last(inconclusive).state.phase).toBe('Failed');
  });

  it('failureLimit 0 fails on the first failed interval', () => {
    const s = canary({ analysis: { maxP99Latency: '200ms', failureLimit: 0, minRequests: 1 } });
    const r = last(run(s, [{ now: at(0) }, { now: at(60), metrics: metrics(10, 0, 250) }]));
    expect(r.state).toMatchObject({ phase: 'Failed', reason: 'AnalysisFailed', message: '1 failed intervals in a row: p99 latency 250ms is above 200ms' });
  });

  it('a timed pause ends only when its duration has passed and the latest interval passed', () => {
    const rs = run(spec, [
      { now: at(0) },
      { now: at(60), metrics: metrics(50, 0) }, // inconclusive
      { now: at(120), metrics: metrics(90, 0) }, // duration over, still inconclusive: wait
      { now: at(180), metrics: metrics(150, 0) }, // passes: next step
    ]);
    expect(rs[2]?.state).toMatchObject({ step: 1, lastOutcome: 'inconclusive', phase: 'Progressing' });
    expect(rs[2]?.nextWakeAt).toBe(at(180));
    expect(last(rs).state).toMatchObject({ step: 3, weight: 60, stepStartedAt: at(180), failures: 0 });
    expect(last(rs).state.lastOutcome).toBeUndefined();
  });

  it('records measurements per step and keeps them after the step', () => {
    const rs = run(spec, [{ now: at(0) }, { now: at(60), metrics: metrics(100, 0) }, { now: at(120), metrics: metrics(200, 1, 99) }, { now: at(180), metrics: metrics(300, 0, 42) }]);
    expect(last(rs).state.measurements).toEqual([
      { step: 1, at: at(120), passed: 2, failed: 0, inconclusive: 0, requests: 200, errorRate: 0.005, p99Ms: 99 },
      { step: 3, at: at(180), passed: 1, failed: 0, inconclusive: 0, requests: 300, errorRate: 0, p99Ms: 42 },
    ]);
  });

  it('a failed interval fails a Paused rollout too (analysis keeps running while waiting for promote)', () => {
    const s = canary({ analysis: { maxErrorRate: '1%', failureLimit: 0, minRequests: 1 } });
    const rs = run(s, [{ now: at(0) }, { now: at(60), metrics: metrics(10, 0) }, { now: at(120), metrics: metrics(10, 5) }]);
    expect(rs[1]?.state.phase).toBe('Paused');
    expect(last(rs).state.phase).toBe('Failed');
  });

  it('retry after Failed starts over with a clean analysis', () => {
    const rs = run(spec, [{ now: at(0) }, { now: at(60), metrics: metrics(200, 4) }, { now: at(120), metrics: metrics(400, 10) }, { now: at(300), command: 'retry' }]);
    expect(last(rs).state).toMatchObject({ phase: 'Progressing', step: 1, weight: 20, failures: 0, measurements: [], stepStartedAt: at(300) });
  });
});

describe('webhooks', () => {
  const smoke = { name: 'smoke', type: 'preRollout', url: 'http://tester:8080/smoke' };
  const check = { name: 'check', type: 'rollout', url: 'http://tester:8080/check', timeout: '5s' };
  const notify = { name: 'notify', type: 'postRollout', url: 'http://chat.example.com/hook' };

  it('pre-rollout: no traffic moves until the hooks answered 2xx; the machine asks for the calls', () => {
    const spec = canary({ webhooks: [smoke] });
    const first = advanceRollout(spec, undefined, { now: at(0) });
    expect(first.awaiting).toEqual([{ name: 'smoke', type: 'preRollout', url: 'http://tester:8080/smoke', timeoutMs: 10_000 }]);
    expect(first.weights).toEqual({ stable: 100, canary: 0 });
    expect(first.nextWakeAt).toBe(at(0));
    expect(first.state.gatePassed).toBe(false);
    const second = advanceRollout(spec, first.state, { now: at(0), webhookResults: { smoke: 204 } });
    expect(reasons(second)).toEqual(['Progressing>Progressing:PreRolloutPassed@0/0', 'Progressing>Progressing:StepAdvanced@1/10']);
    expect(second.weights).toEqual({ stable: 90, canary: 10 });
  });

  it('pre-rollout: a non-2xx answer is a failed attempt, retried every interval; past failureLimit the rollout Failed', () => {
    const spec = canary({ webhooks: [smoke], analysis: { maxErrorRate: '1%', interval: '30s', failureLimit: 1 } });
    const rs = run(spec, [
      { now: at(0), webhookResults: { smoke: 500 } },
      { now: at(10), webhookResults: { smoke: 200 } }, // not due yet: ignored
      { now: at(30), webhookResults: { smoke: 0 } },
    ]);
    expect(rs[0]?.state).toMatchObject({ failures: 1, nextTickAt: at(30), phase: 'Progressing' });
    expect(rs[1]?.transitions).toEqual([]);
    expect(last(rs).state).toMatchObject({ phase: 'Failed', reason: 'PreRolloutFailed', message: '2 failed attempts in a row: webhook "smoke" gave no answer' });
  });

  it('a hook missing from the given results counts as no answer', () => {
    const spec = canary({ webhooks: [smoke, { ...smoke, name: 'db' }], analysis: { maxErrorRate: '1%', failureLimit: 0 } });
    const r = advanceRollout(spec, undefined, { now: at(0), webhookResults: { smoke: 200 } });
    expect(r.state.message).toBe('1 failed attempts in a row: webhook "db" gave no answer');
  });

  it('commands other than abort wait for the pre-rollout hooks', () => {
    const spec = canary({ webhooks: [smoke] });
    const r = advanceRollout(spec, undefined, { now: at(0), command: 'promote' });
    expect(r.command).toEqual({ accepted: false, message: 'the pre-rollout webhooks have not passed yet' });
    const a = advanceRollout(spec, r.state, { now: at(1), command: 'abort' });
    expect(a.state.phase).toBe('Aborted');
  });

  it('rollout hooks are called at each analysis tick; a non-2xx answer fails the interval whatever the metrics', () => {
    const spec = canary({ webhooks: [check], analysis: { maxErrorRate: '1%', failureLimit: 0 } });
    const start = advanceRollout(spec, undefined, { now: at(0) });
    const asks = advanceRollout(spec, start.state, { now: at(60), metrics: metrics(1000, 0) });
    expect(asks.awaiting.map((c) => c.name)).toEqual(['check']);
    expect(asks.transitions).toEqual([]);
    expect(asks.nextWakeAt).toBe(at(60));
    const judged = advanceRollout(spec, asks.state, { now: at(60), metrics: metrics(1000, 0), webhookResults: { check: 503 } });
    expect(judged.state).toMatchObject({ phase: 'Failed', reason: 'WebhookFailed', message: '1 failed intervals in a row: webhook "check" answered 503' });
  });

  it('rollout hooks alone are an analysis: a 2xx passes the interval', () => {
    const spec = canary({ webhooks: [check], analysis: {} });
    const rs = run(spec, [{ now: at(0) }, { now: at(60), webhookResults: { check: 200 } }]);
    expect(last(rs).state.measurements).toEqual([{ step: 1, at: at(60), passed: 1, failed: 0, inconclusive: 0 }]);
    expect(last(rs).state.step).toBe(3);
  });

  it.each([
    ['Succeeded', [{ now: at(0), command: 'promoteFull' }]],
    ['Aborted', [{ now: at(0) }, { now: at(1), command: 'abort' }]],
  ] as const)('postRollout hooks are notified once on %s', (_phase, inputs) => {
    const spec = canary({ webhooks: [notify] });
    const rs = run(spec, [...inputs, { now: at(100) }]);
    expect(rs[inputs.length - 1]?.notify.map((c) => c.name)).toEqual(['notify']);
    expect(last(rs).notify).toEqual([]);
  });

  it('postRollout hooks are notified on Failed', () => {
    const spec = canary({ webhooks: [notify], analysis: { maxErrorRate: '1%', failureLimit: 0, minRequests: 1 } });
    const r = last(run(spec, [{ now: at(0) }, { now: at(60), metrics: metrics(1, 1) }]));
    expect(r.state.phase).toBe('Failed');
    expect(r.notify.map((c) => c.name)).toEqual(['notify']);
  });
});

describe('blue-green', () => {
  const spec = blueGreen();

  it('starts Paused: all traffic on active, the preview only on its host', () => {
    const r = advanceRollout(spec, undefined, { now: at(0) });
    expect(reasons(r)).toEqual(['->Progressing:RolloutStarted@0/0', 'Progressing>Paused:PausedForPromotion@0/0']);
    expect(r.weights).toEqual({ stable: 100, canary: 0 });
    expect(r.transitions[1]?.message).toBe('preview is served on preview.shop.example.com');
  });

  it('promote switches all traffic at once; the old service is kept for scaleDownDelay, then Succeeded', () => {
    const rs = run(spec, [{ now: at(0) }, { now: at(30), command: 'promote' }, { now: at(629) }, { now: at(630) }]);
    expect(reasons(rs[1] as RolloutResult)).toEqual(['Paused>Promoted:Promoted@1/100']);
    expect(rs[1]?.weights).toEqual({ stable: 0, canary: 100 });
    expect(rs[1]?.nextWakeAt).toBe(at(630));
    expect(rs[2]?.state.phase).toBe('Promoted');
    expect(reasons(last(rs))).toEqual(['Promoted>Succeeded:ScaleDownDelayElapsed@1/100']);
  });

  it('abort before the delay switches back to active; after Succeeded it is refused', () => {
    const aborted = last(run(spec, [{ now: at(0) }, { now: at(30), command: 'promote' }, { now: at(60), command: 'abort' }]));
    expect(aborted.weights).toEqual({ stable: 100, canary: 0 });
    expect(aborted.state.phase).toBe('Aborted');
    const late = last(run(spec, [{ now: at(0) }, { now: at(30), command: 'promote' }, { now: at(700) }, { now: at(701), command: 'abort' }]));
    expect(late.command?.accepted).toBe(false);
    expect(late.weights).toEqual({ stable: 0, canary: 100 });
  });

  it('abort while Paused, then retry: Paused again', () => {
    const r = last(run(spec, [{ now: at(0) }, { now: at(1), command: 'abort' }, { now: at(2), command: 'retry' }]));
    expect(reasons(r)).toEqual(['Aborted>Progressing:Retried@0/0', 'Progressing>Paused:PausedForPromotion@0/0']);
  });

  it('promoteFull is the same switch', () => {
    const r = last(run(spec, [{ now: at(0) }, { now: at(1), command: 'promoteFull' }]));
    expect(reasons(r)).toEqual(['Paused>Promoted:PromotedFully@1/100']);
  });

  it('analysis judges the preview before the switch (a failure keeps all traffic on active: Failed)', () => {
    const s = blueGreen({ analysis: { maxErrorRate: '5%', failureLimit: 0, minRequests: 10 } });
    const r = last(run(s, [{ now: at(0) }, { now: at(60), metrics: metrics(10, 1) }]));
    expect(r.state).toMatchObject({ phase: 'Failed', reason: 'AnalysisFailed' });
    expect(r.weights).toEqual({ stable: 100, canary: 0 });
  });

  it('analysis after the switch: a failure before scaleDownDelay switches back (Failed)', () => {
    const s = blueGreen({ analysis: { maxErrorRate: '5%', failureLimit: 0, minRequests: 10 } });
    const rs = run(s, [{ now: at(0) }, { now: at(10), command: 'promote' }, { now: at(69), metrics: metrics(100, 50) }, { now: at(70), metrics: metrics(100, 50) }]);
    expect(rs[2]?.state.phase).toBe('Promoted');
    expect(last(rs).state).toMatchObject({ phase: 'Failed', weight: 0, step: 1 });
    expect(last(rs).weights).toEqual({ stable: 100, canary: 0 });
  });

  it('scaleDownDelay 0s: Succeeded right after the switch', () => {
    const r = last(run(blueGreen({ scaleDownDelay: '0s' }), [{ now: at(0) }, { now: at(1), command: 'promote' }]));
    expect(reasons(r)).toEqual(['Paused>Promoted:Promoted@1/100', 'Promoted>Succeeded:ScaleDownDelayElapsed@1/100']);
  });
});

describe('spec changes', () => {
  const base = canary();
  const phases: [Phase, RolloutInput[]][] = [
    ['Progressing', [{ now: at(0) }]],
    ['Paused', [{ now: at(0) }, { now: at(60) }]],
    ['Succeeded', [{ now: at(0), command: 'promoteFull' }]],
    ['Aborted', [{ now: at(0) }, { now: at(1), command: 'abort' }]],
  ];

  it.each(phases)('a new canary service restarts the rollout from step 0 (from %s)', (phase, inputs) => {
    const before = last(run(base, inputs));
    expect(before.state.phase).toBe(phase);
    const changed = canary({ canary: { service: 'shop-v3', port: 8080 } });
    const r = advanceRollout(changed, before.state, { now: at(500) });
    expect(reasons(r)).toEqual([`${phase}>Progressing:SpecChanged@0/0`, 'Progressing>Progressing:StepAdvanced@1/10']);
    expect(r.weights).toEqual({ stable: 90, canary: 10 });
    expect(r.state.history.length).toBe(before.state.history.length + 2);
  });

  it('a new revision from the caller (the new image) restarts too; the same one does not', () => {
    const first = advanceRollout(base, undefined, { now: at(0), revision: 'sha256:aaa' });
    expect(advanceRollout(base, first.state, { now: at(1), revision: 'sha256:aaa' }).transitions).toEqual([]);
    expect(advanceRollout(base, first.state, { now: at(1), revision: 'sha256:bbb' }).transitions[0]?.reason).toBe('SpecChanged');
  });

  it('changed steps restart; changed analysis thresholds, webhooks or scaleDownDelay do not', () => {
    expect(rolloutRevision(canary({ steps: [{ setWeight: 5 }, { pause: {} }] }))).not.toBe(rolloutRevision(base));
    expect(rolloutRevision(canary({ analysis: { maxErrorRate: '5%' } }))).toBe(rolloutRevision(base));
    expect(rolloutRevision(canary({ scaleDownDelay: '1h' }))).toBe(rolloutRevision(base));
    expect(rolloutRevision(blueGreen({ previewHost: 'next.shop.example.com' }))).toBe(rolloutRevision(blueGreen()));
    expect(rolloutRevision(base, 'x')).not.toBe(rolloutRevision(base));
    expect(rolloutRevision(canary({ stable: { ...STABLE, port: 9090 } }))).not.toBe(rolloutRevision(base));
    expect(rolloutRevision(canary({ canary: CANARY }))).toBe(rolloutRevision(base));
  });
});

describe('restarts: decode(encode(state)) then continuing equals never stopping', () => {
  const analysed = canary({
    steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }, { setWeight: 40 }, { pause: {} }, { setWeight: 80 }, { pause: { duration: '1m' } }],
    analysis: { maxErrorRate: '2%', maxP99Latency: '300ms', minRequests: 20, failureLimit: 1 },
    scaleDownDelay: '3m',
    webhooks: [
      { name: 'smoke', type: 'preRollout', url: 'http://tester:8080/smoke' },
      { name: 'notify', type: 'postRollout', url: 'http://chat.example.com/hook' },
    ],
  });
  const ok = (s: number, requests = 100): RolloutInput => ({ now: at(s), metrics: metrics(requests, 1, 100) });
  const bad = (s: number): RolloutInput => ({ now: at(s), metrics: metrics(100, 50, 100) });
  const scenarios: [string, Phase, RolloutInput[]][] = [
    ['gate pending', 'Progressing', [{ now: at(0) }, { now: at(0), webhookResults: { smoke: 500 } }, { now: at(60), webhookResults: { smoke: 200 } }, ok(120), ok(180), ok(240)]],
    ['Progressing', 'Progressing', [{ now: at(0), webhookResults: { smoke: 200 } }, ok(60, 5), ok(120), ok(180), bad(240)]],
    ['Paused', 'Paused', [{ now: at(0), webhookResults: { smoke: 200 } }, ok(60), ok(120), ok(180), ok(240), { now: at(250), command: 'promote' }, ok(310)]],
    ['Promoted', 'Promoted', [{ now: at(0), webhookResults: { smoke: 200 } }, { now: at(10), command: 'promoteFull' }, ok(70), ok(130), ok(190), ok(250)]],
    ['Failed', 'Failed', [{ now: at(0), webhookResults: { smoke: 200 } }, bad(60), bad(120), ok(180), { now: at(200), command: 'retry' }, { now: at(200), webhookResults: { smoke: 200 } }, ok(260)]],
    ['Aborted', 'Aborted', [{ now: at(0), webhookResults: { smoke: 200 } }, ok(60), { now: at(70), command: 'abort' }, ok(130), { now: at(140), command: 'retry' }]],
    ['Succeeded', 'Succeeded', [{ now: at(0), webhookResults: { smoke: 200 } }, { now: at(10), command: 'promoteFull' }, ok(70), ok(130), ok(190), { now: at(400) }]],
  ];

  it.each(scenarios)('%s', (_name, phase, inputs) => {
    const straight = run(analysed, inputs);
    // The phase named is reached somewhere in the scenario (so the restart happens in it).
    expect(straight.map((r) => r.state.phase)).toContain(phase);
    const restarted = runWithRestarts(analysed, inputs);
    expect(restarted).toEqual(straight);
    for (const r of straight) expect(decodeRolloutState(encodeRolloutState(r.state))).toEqual(E.right(r.state));
  });

  it.each(['Paused', 'Promoted', 'Succeeded', 'Aborted'] as const)('blue-green %s', (phase) => {
    const s = blueGreen({ analysis: { maxErrorRate: '2%', minRequests: 10, failureLimit: 0 } });
    const inputs: RolloutInput[] = [
      { now: at(0) },
      { now: at(60), metrics: metrics(100, 1) },
      ...(phase === 'Paused' ? [] : [{ now: at(90), command: phase === 'Aborted' ? ('abort' as const) : ('promote' as const) }]),
      { now: at(150), metrics: metrics(100, 1) },
      { now: at(phase === 'Succeeded' ? 1000 : 200) },
    ];
    const straight = run(s, inputs);
    expect(last(straight).state.phase).toBe(phase);
    expect(runWithRestarts(s, inputs)).toEqual(straight);
  });
});

describe('encoded state', () => {
  it('is compact JSON within the bound and rejects anything else', () => {
    const r = last(run(canary(), [{ now: at(0) }, { now: at(60) }]));
    const text = encodeRolloutState(r.state);
    expect(text.length).toBeLessThan(1500);
    expect(JSON.parse(text)).toMatchObject({ v: 1, phase: 'Paused', step: 3, weight: 50 });
    expect(decodeRolloutState('{')).toEqual(E.left('rollout state is not JSON'));
    expect(decodeRolloutState(' '.repeat(MAX_ENCODED_STATE_BYTES + 1))).toEqual(E.left(`rollout state is larger than ${MAX_ENCODED_STATE_BYTES} bytes`));
    expect(decodeRolloutState(JSON.stringify({ ...JSON.parse(text), v: 2 }))).toEqual(E.left('v: expected version 1, got 2'));
    expect(decodeRolloutState(JSON.stringify({ ...JSON.parse(text), weight: 101, extra: 1 }))).toEqual(
      E.left('extra: unknown field; allowed: v, revision, phase, step, weight, gatePassed, stepStartedAt, nextTickAt, failures, measurements, history, lastOutcome, promotedAt, reason, message; weight: expected weight 0..100, got 101'),
    );
  });

  it('stays within the bound at the caps (32 history entries with long messages, 33 measurements)', () => {
    const base = last(run(canary(), [{ now: at(0) }])).state;
    const long = 'x'.repeat(160);
    const state = {
      ...base,
      history: Array.from({ length: 32 }, (_, i) => ({ at: at(i), from: 'Progressing' as const, to: 'Progressing' as const, step: 32, weight: 100, reason: 'StepAdvanced' as const, message: long })),
      measurements: Array.from({ length: 33 }, (_, i) => ({ step: i, at: at(i), passed: 1e9, failed: 1e9, inconclusive: 1e9, requests: 1e12, errorRate: 0.123456789, p99Ms: 1234.56789 })),
      message: long,
    };
    const text = encodeRolloutState(state);
    expect(text.length).toBeLessThanOrEqual(MAX_ENCODED_STATE_BYTES);
    expect(decodeRolloutState(text)).toEqual(E.right(state));
  });
});

describe('judgeInterval', () => {
  it('explains an inconclusive interval', () => {
    const a = { interval: '1m', minRequests: 100, failureLimit: 2, maxErrorRate: '1%' } as Parameters<typeof judgeInterval>[0];
    expect(judgeInterval(a, [], {}, { requests: 12, errors5xx: 0, p99Ms: 1 })).toEqual({
      outcome: 'inconclusive',
      message: '12 of 100 requests needed before judging',
      measured: { requests: 12, errorRate: 0, p99Ms: 1 },
    });
  });
});
