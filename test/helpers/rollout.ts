/** Builders for rollout tests: decoded `spec.canary` values and a driver that feeds inputs in order. */
import * as E from 'fp-ts/Either';
import type { CanarySpec } from '../../src/domain/canary';
import { advanceRollout, decodeRolloutState, encodeRolloutState, type RolloutInput, type RolloutResult, type RolloutState } from '../../src/plan/rollout';
import { route } from './specs';

export const T0 = Date.UTC(2026, 0, 1);
/** Epoch milliseconds `seconds` after T0. */
export const at = (seconds: number): number => T0 + seconds * 1000;

/** A decoded, checked `spec.canary`; the route's rule sends to `from` alone. */
export function canarySpec(canary: Record<string, unknown>, hosts: readonly string[] = ['shop.example.com']): CanarySpec {
  const strategy = canary['strategy'] ?? 'canary';
  const from = (strategy === 'canary' ? canary['stable'] : canary['active']) ?? { service: 'shop-v1', port: 8080 };
  const r = route('shop', { hosts, rules: [{ backends: [from] }], canary });
  if (r.spec.canary === undefined) throw new Error('no canary');
  return r.spec.canary;
}

export const STABLE = { service: 'shop-v1', port: 8080 };
export const CANARY = { service: 'shop-v2', port: 8080 };

export function canary(extra: Record<string, unknown> = {}): CanarySpec {
  return canarySpec({
    stable: STABLE,
    canary: CANARY,
    steps: [{ setWeight: 10 }, { pause: { duration: '1m' } }, { setWeight: 50 }, { pause: {} }],
    ...extra,
  });
}

export function blueGreen(extra: Record<string, unknown> = {}): CanarySpec {
  return canarySpec({
    strategy: 'blueGreen',
    active: { service: 'shop-blue', port: 8080 },
    preview: { service: 'shop-green', port: 8080 },
    previewHost: 'preview.shop.example.com',
    scaleDownDelay: '10m',
    ...extra,
  });
}

export const metrics = (requests: number, errors5xx: number, p99Ms = 10): NonNullable<RolloutInput['metrics']> => ({ canary: { requests, errors5xx, p99Ms } });

/** Feed inputs in order; each result's state is the next call's state. */
export function run(spec: CanarySpec, inputs: readonly RolloutInput[], state?: RolloutState): RolloutResult[] {
  const out: RolloutResult[] = [];
  let s = state;
  for (const input of inputs) {
    const r = advanceRollout(spec, s, input);
    out.push(r);
    s = r.state;
  }
  return out;
}

/** Like `run`, but the state goes through encode/decode between every call (a core restart each time). */
export function runWithRestarts(spec: CanarySpec, inputs: readonly RolloutInput[], state?: RolloutState): RolloutResult[] {
  const out: RolloutResult[] = [];
  let s = state;
  for (const input of inputs) {
    const r = advanceRollout(spec, s === undefined ? undefined : roundTrip(s), input);
    out.push(r);
    s = r.state;
  }
  return out;
}

export function roundTrip(state: RolloutState): RolloutState {
  const decoded = decodeRolloutState(encodeRolloutState(state));
  if (E.isLeft(decoded)) throw new Error(decoded.left);
  return decoded.right;
}

export function last<T>(xs: readonly T[]): T {
  const x = xs[xs.length - 1];
  if (x === undefined) throw new Error('empty');
  return x;
}
