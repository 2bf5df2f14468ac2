/**
 * The status stored on an object's current spec config (label io.swarmgate.status): observed generation
 * and conditions with the time each last changed, plus what a hitless cluster's proxies run. Written by
 * the core only (src/status/write-status.ts), read by the CLI (get, status, wait, canary) and tests.
 * One codec for both sides.
 */
import type { Condition } from './conditions';
import type { RevisionId } from './revision-id';

export interface StatusCondition extends Condition {
  readonly lastTransitionTime: string;
}

/** What a ServiceCluster's proxies run (hitless delivery: from the agents' reports; hashes shortened). */
export interface ProxyStatus {
  readonly delivery: 'hitless';
  /** The files hash handed to the agents (12 hex digits). */
  readonly config: string;
  /** The same config as users see it (src/domain/revision-id.ts), when the core knows it. */
  readonly revision?: RevisionId;
  /** `applied`: the files hash the replica's agent reported; `revision`: what that is, when the core delivered it. */
  readonly replicas: readonly { readonly task: string; readonly applied: string; readonly revision?: RevisionId }[];
}

/** Requests and 5xx answers of one backend (`service:port`) of a Route over the health window. */
export interface BackendTraffic {
  readonly backend: string;
  readonly requests: number;
  readonly responses5xx: number;
}

/** A Route's backend counts as of `at` (the last status write), over the `windowSeconds` before it. */
export interface BackendsStatus {
  readonly at: string;
  readonly windowSeconds: number;
  readonly items: readonly BackendTraffic[];
}

export interface ObjectStatus {
  readonly observedGeneration: number;
  readonly conditions: readonly StatusCondition[];
  readonly proxy?: ProxyStatus;
  /** Counts only: written along with a status that changed anyway, never on their own (no write per request). */
  readonly backends?: BackendsStatus;
}

/** The label text. Field order is fixed (proxy first), so an unchanged status encodes to the same text. */
export function encodeStatus(s: ObjectStatus): string {
  return JSON.stringify(s);
}

/** The stored status; undefined when there is none or it is unreadable (the core rewrites it on its next run). */
export function decodeStatus(label: string | undefined): ObjectStatus | undefined {
  if (label === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(label);
    if (typeof v !== 'object' || v === null) return undefined;
    const s = v as ObjectStatus;
    return typeof s.observedGeneration === 'number' && Array.isArray(s.conditions) ? s : undefined;
  } catch {
    return undefined;
  }
}
