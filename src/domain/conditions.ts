/**
 * Conditions, Gateway-API style: the only way swarmgate reports what it did with an object.
 * Reasons are a closed vocabulary so tools can match on them.
 */
export const CONDITION_TYPES = ['Accepted', 'ResolvedRefs', 'Programmed', 'Ready'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export const REASONS = [
  'Accepted',
  'Invalid',
  'HostConflict',
  'DefaultBackendConflict',
  'ServiceClusterNotFound',
  'ResolvedRefs',
  'BackendNotFound',
  'PortNotExposed',
  'SecretNotFound',
  'NetworkNotAllowed',
  'UnsupportedValue',
  'Programmed',
  'Pending',
  'Ready',
  'RolledBack',
] as const;
export type Reason = (typeof REASONS)[number];

export interface Condition {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  readonly reason: Reason;
  readonly message: string;
  readonly observedGeneration?: number;
}

export function condition(type: ConditionType, status: ConditionStatus, reason: Reason, message: string): Condition {
  return { type, status, reason, message };
}
