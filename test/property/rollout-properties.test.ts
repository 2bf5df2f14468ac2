/**
 * Properties of the rollout state machine over generated valid specs and input sequences
 * (time steps, metrics, commands, webhook answers, revision changes):
 * - weights are integers within 0..100 and sum to 100;
 * - a Failed or Aborted rollout always yields 100 % stable;
 * - a core restart before any call (state through encode/decode) changes nothing;
 * - the encoded state stays within its bound and decodes to itself;
 * - calling again at the same time with nothing new changes nothing (idempotent reconcile).
 */
import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advanceRollout, decodeRolloutState, encodeRolloutState, MAX_ENCODED_STATE_BYTES, ROLLOUT_COMMANDS, type RolloutInput } from '../../src/plan/rollout';
import { at, canarySpec, run, runWithRestarts } from '../helpers/rollout';

const HOOK_NAMES = ['pre', 'check', 'post'] as const;

const analysis = fc.record(
  {
    interval: fc.constantFrom('10s', '30s', '1m'),
    maxErrorRate: fc.constantFrom('0%', '1%', '2.5%', '50%'),
    maxP99Latency: fc.constantFrom('100ms', '500ms'),
    minRequests: fc.integer({ min: 1, max: 50 }),
    failureLimit: fc.integer({ min: 0, max: 3 }),
  },
  { requiredKeys: ['maxErrorRate'] },
);

const pause = fc.oneof(fc.constant({}), fc.integer({ min: 1, max: 300 }).map((s) => ({ duration: `${s}s` })));

const canarySteps = fc
  .tuple(fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }), fc.array(pause, { minLength: 6, maxLength: 6 }), fc.option(pause, { nil: undefined }))
  .map(([weights, pauses, lead]) => [
    ...(lead !== undefined ? [{ pause: lead }] : []),
    ...[...weights].sort((a, b) => a - b).flatMap((w, i) => [{ setWeight: w }, { pause: pauses[i] ?? {} }]),
  ]);

const webhooks = (withAnalysis: boolean) =>
  fc.record({ pre: fc.boolean(), check: fc.boolean(), post: fc.boolean() }).map((w) => [
    ...(w.pre ? [{ name: 'pre', type: 'preRollout', url: 'http://tester:8080/pre' }] : []),
    ...(w.check && withAnalysis ? [{ name: 'check', type: 'rollout', url: 'http://tester:8080/check' }] : []),
    ...(w.post ? [{ name: 'post', type: 'postRollout', url: 'http://tester:8080/post' }] : []),
  ]);

const scaleDownDelay = fc.option(fc.constantFrom('0s', '2m', '10m'), { nil: undefined });

const canaryRollout = fc
  .record({ steps: canarySteps, analysis: fc.option(analysis, { nil: undefined }), scaleDownDelay })
  .chain((c) => webhooks(c.analysis !== undefined).map((hooks) => ({ ...c, webhooks: hooks })))
  .map((c) =>
    canarySpec({
      stable: { service: 'shop-v1', port: 8080 },
      canary: { service: 'shop-v2', port: 8080 },
      steps: c.steps,
      ...(c.analysis !== undefined ? { analysis: c.analysis } : {}),
      ...(c.scaleDownDelay !== undefined ? { scaleDownDelay: c.scaleDownDelay } : {}),
      ...(c.webhooks.length > 0 ? { webhooks: c.webhooks } : {}),
    }),
  );

const blueGreenRollout = fc
  .record({ analysis: fc.option(analysis, { nil: undefined }), scaleDownDelay: fc.constantFrom('0s', '2m', '10m') })
  .chain((c) => webhooks(c.analysis !== undefined).map((hooks) => ({ ...c, webhooks: hooks })))
  .map((c) =>
    canarySpec({
      strategy: 'blueGreen',
      active: { service: 'shop-blue', port: 8080 },
      preview: { service: 'shop-green', port: 8080 },
      previewHost: 'preview.shop.example.com',
      scaleDownDelay: c.scaleDownDelay,
      ...(c.analysis !== undefined ? { analysis: c.analysis } : {}),
      ...(c.webhooks.length > 0 ? { webhooks: c.webhooks } : {}),
    }),
  );

const metric = fc
  .record({ requests: fc.integer({ min: 0, max: 400 }), errorShare: fc.double({ min: 0, max: 1, noNaN: true }), p99Ms: fc.integer({ min: 0, max: 800 }) })
  .map((m) => ({ requests: m.requests, errors5xx: Math.floor(m.requests * m.errorShare * m.errorShare), p99Ms: m.p99Ms }));

const step = fc.record(
  {
    dt: fc.integer({ min: 0, max: 200 }),
    metrics: metric,
    command: fc.constantFrom(...ROLLOUT_COMMANDS),
    results: fc.record({ pre: fc.constantFrom(200, 204, 500, 0), check: fc.constantFrom(200, 503, 0), post: fc.constantFrom(200) }),
    revision: fc.constantFrom('a', 'b'),
  },
  { requiredKeys: ['dt'] },
);

/** A time-ordered input sequence; webhook answers and commands come now and then. */
const inputs = fc.array(step, { minLength: 1, maxLength: 40 }).map((steps) => {
  let t = 0;
  return steps.map((s): RolloutInput => {
    t += s.dt;
    return {
      now: at(t),
      revision: s.revision ?? 'a',
      ...(s.metrics !== undefined ? { metrics: { canary: s.metrics } } : {}),
      ...(s.command !== undefined ? { command: s.command } : {}),
      ...(s.results !== undefined ? { webhookResults: Object.fromEntries(HOOK_NAMES.map((n) => [n, s.results?.[n] ?? 0])) } : {}),
    };
  });
});

const spec = fc.oneof(canaryRollout, blueGreenRollout);

describe('rollout state machine properties', () => {
  it('weights are integers within 0..100 that sum to 100; Failed and Aborted give 100 % stable', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(spec, inputs, (s, ins) => {
        for (const r of run(s, ins)) {
          seen.add(r.state.phase);
          const { stable, canary } = r.weights;
          expect(Number.isInteger(stable) && Number.isInteger(canary)).toBe(true);
          expect(stable).toBeGreaterThanOrEqual(0);
          expect(canary).toBeGreaterThanOrEqual(0);
          expect(stable + canary).toBe(100);
          if (r.state.phase === 'Failed' || r.state.phase === 'Aborted') expect(r.weights).toEqual({ stable: 100, canary: 0 });
          if (r.state.phase === 'Succeeded' || r.state.phase === 'Promoted') expect(r.weights).toEqual({ stable: 0, canary: 100 });
        }
      }),
      { numRuns: 300 },
    );
    // The generators reach every phase, so the property says something about each.
    expect([...seen].sort()).toEqual(['Aborted', 'Failed', 'Paused', 'Progressing', 'Promoted', 'Succeeded']);
  });

  it('a restart before every call (encode, decode, continue) gives the same results as never stopping', () => {
    fc.assert(
      fc.property(spec, inputs, (s, ins) => {
        expect(runWithRestarts(s, ins)).toEqual(run(s, ins));
      }),
      { numRuns: 200 },
    );
  });

  it('the encoded state is within its bound and decodes to the same state', () => {
    fc.assert(
      fc.property(spec, inputs, (s, ins) => {
        for (const r of run(s, ins)) {
          const text = encodeRolloutState(r.state);
          expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_ENCODED_STATE_BYTES);
          expect(decodeRolloutState(text)).toEqual(E.right(r.state));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('calling again at the same time with nothing new makes no transition', () => {
    fc.assert(
      fc.property(spec, inputs, (s, ins) => {
        const results = run(s, ins);
        results.forEach((r, i) => {
          const input = ins[i];
          if (input === undefined) return;
          const again = advanceRollout(s, r.state, { now: input.now, ...(input.revision !== undefined ? { revision: input.revision } : {}) });
          expect(again.transitions).toEqual([]);
          expect(again.weights).toEqual(r.weights);
        });
      }),
      { numRuns: 200 },
    );
  });
});
