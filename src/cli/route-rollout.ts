/**
 * Everything the canary commands read about one Route: its `spec.canary`, and the rollout labels on
 * its current config (state by the core, pending command by a CLI, the core's last verdict).
 * Always looked up by name, never by config ID: a re-apply makes a new config (generation n+1)
 * that carries the rollout labels over, and the CLI must follow it.
 */
import * as E from 'fp-ts/Either';
import type { CanarySpec } from '../domain/canary';
import { LABELS } from '../domain/labels';
import type { RouteObject } from '../domain/object';
import { decodeStoredObject, listStoredSpecs } from '../desired/spec-store';
import type { ConfigInfo, DockerPort } from '../observed/docker-port';
import { decodeRolloutState, type RolloutState } from '../plan/rollout';
import { decodeStatus } from '../domain/status-label';
import { decodeRolloutCommand, decodeRolloutResult, knownCommand, type RolloutCommandLabel, type RolloutResultLabel } from '../domain/rollout-labels';

export interface RouteRollout {
  readonly name: string;
  readonly generation: number;
  /** The current config as listed: labels and version (what a version-checked label update needs), no data. */
  readonly config: ConfigInfo;
  readonly canary: CanarySpec;
  /** The generation the core last wrote a status for; until it equals `generation`, `state` may describe the previous spec. */
  readonly observedGeneration?: number;
  /** Absent: the core has not started this rollout (or is not running). */
  readonly state?: RolloutState;
  /** The state label exists but cannot be read (a newer core's format, or a hand edit). */
  readonly stateError?: string;
  readonly pending?: RolloutCommandLabel;
  readonly result?: RolloutResultLabel;
}

export type RolloutLookup =
  | { readonly ok: true; readonly rollout: RouteRollout }
  | { readonly ok: false; readonly problem: 'notFound' | 'invalid' | 'noCanary'; readonly message: string };

/**
 * Reads one route's rollout; reuse an instance across polls, since the spec is decoded once per
 * config (a config's content never changes, only its labels).
 */
export class RouteRolloutReader {
  private readonly specs = new Map<string, E.Either<string, RouteObject>>();

  constructor(private readonly port: DockerPort) {}

  async read(name: string): Promise<RolloutLookup> {
    const { current } = await listStoredSpecs(this.port);
    const stored = [...current.values()].find((s) => s.kind === 'Route' && s.name === name);
    if (stored === undefined) return { ok: false, problem: 'notFound', message: `route/${name} not found` };
    const spec = await this.spec(stored.config.ID, name);
    if (E.isLeft(spec)) return { ok: false, problem: 'invalid', message: `route/${name} generation ${stored.generation} is invalid: ${spec.left}` };
    const canary = spec.right.spec.canary;
    if (canary === undefined)
      return { ok: false, problem: 'noCanary', message: `route/${name} has no spec.canary: there is no rollout to show or steer (see docs/reference/canary.md)` };
    const labels = stored.config.Spec.Labels ?? {};
    const observed = decodeStatus(labels[LABELS.status])?.observedGeneration;
    const stateText = labels[LABELS.rollout];
    const decoded = stateText === undefined ? undefined : decodeRolloutState(stateText);
    // A command the core cannot act on is not shown as pending: the core answers it at once.
    const pending = knownCommand(decodeRolloutCommand(labels[LABELS.rolloutCommand]));
    const result = decodeRolloutResult(labels[LABELS.rolloutResult]);
    return {
      ok: true,
      rollout: {
        name,
        generation: stored.generation,
        config: stored.config,
        canary,
        ...(observed !== undefined ? { observedGeneration: observed } : {}),
        ...(decoded !== undefined && E.isRight(decoded) ? { state: decoded.right } : {}),
        ...(decoded !== undefined && E.isLeft(decoded) ? { stateError: decoded.left } : {}),
        ...(pending !== undefined ? { pending } : {}),
        ...(result !== undefined ? { result } : {}),
      },
    };
  }

  private async spec(configId: string, name: string): Promise<E.Either<string, RouteObject>> {
    const hit = this.specs.get(configId);
    if (hit !== undefined) return hit;
    const decoded = await decodeStoredObject(this.port, configId);
    const result: E.Either<string, RouteObject> = E.isLeft(decoded)
      ? E.left(decoded.left.map((i) => i.message).join('; '))
      : decoded.right.kind !== 'Route' || decoded.right.metadata.name !== name
        ? E.left('stored object does not match its labels')
        : E.right(decoded.right);
    // Only this route's current config matters; drop older generations' entries.
    this.specs.clear();
    this.specs.set(configId, result);
    return result;
  }
}
