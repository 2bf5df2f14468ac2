/**
 * Conditions, Gateway-API style: the only way swarmgate reports what it did with an object.
 * Reasons are a closed vocabulary so tools can match on them.
 */
/**
 * `CertificateExpiring` is a warning: present (status True) only on a Route whose stored certificate
 * (tls.certificate.name) expires within EXPIRY_WARNING_DAYS or has expired; absent otherwise.
 * `CertificateMismatch` is a warning too: present only when that certificate's DNS names leave one of
 * the route's hosts uncovered (clients reject the certificate there).
 * `Conflicted` is present only on a ServiceCluster with a listener left out because its port clashes
 * with another cluster's published ports (reason PortConflict; the message names both).
 * `CertificateReady` is present only on a Route with `tls.certificate.issuer`: whether its ACME
 * certificate is issued and current (Issued, Renewing) or not yet (Issuing, ChallengeFailed,
 * RateLimited, IssuerNotFound, OrderFailed).
 * `Rollout` is present only on a Route with `spec.canary`: True while the rollout is healthy
 * (Progressing, Paused, Promoted, Succeeded), False once Failed or Aborted; the reason is the phase.
 * `BackendsHealthy` is on every Route in its cluster's model: how its backends answered the proxies
 * lately (src/status/backend-health.ts).
 */
export const CONDITION_TYPES = ['Accepted', 'ResolvedRefs', 'Programmed', 'Ready', 'CertificateExpiring', 'CertificateMismatch', 'Rollout', 'Conflicted', 'BackendsHealthy', 'CertificateReady'] as const;
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
  // ServiceCluster Ready=False: Swarm cannot place proxy tasks (no suitable node), or they fail to start.
  'Unschedulable',
  'TasksFailing',
  // Hitless replicas whose agent has no stream to the core (the core cannot know what they serve).
  'AgentsDisconnected',
  // Programmed=False on a ServiceCluster (and its routes) when a Docker write for it failed this run:
  // Rejected (a 4xx: not retried until an input of the write changes), Conflict (another writer came
  // first: retried on a fresh read), DockerUnavailable (no answer or a 5xx: retried with backoff).
  'Rejected',
  'Conflict',
  'DockerUnavailable',
  // Read-side: no core runs (stopped) or swarmgate was uninstalled, so what proxies serve is not known.
  'CoreNotRunning',
  'CoreUninstalled',
  'CertificateNotFound',
  // A Route or ServiceCluster names a Middleware that does not exist or is invalid.
  'MiddlewareNotFound',
  // A Middleware's errorPages names a Swarm config that does not exist or lacks the error-page label.
  'ConfigNotFound',
  // Layer 4 (TCPRoute/UDPRoute and ServiceCluster listeners). Conflicted=True PortConflict on a cluster
  // one of whose listeners is left out (its port is published by an older cluster on the same nodes).
  'ListenerNotFound',
  'ListenerConflict',
  'PortConflict',
  'ProtocolMismatch',
  'ExpiresSoon',
  'Expired',
  'HostNotCovered',
  // BackendsHealthy: True BackendsAnswer; False BackendErrors (a backend answered only 5xx lately);
  // Unknown NotEnoughTraffic (too few requests to judge) or NoTrafficData (nothing counts them).
  'BackendsAnswer',
  'BackendErrors',
  'NotEnoughTraffic',
  'NoTrafficData',
  // ACME (CertificateReady on Routes, Ready on Issuers; docs/adr/0013-acme-issuers.md).
  'Issuing',
  'Issued',
  'Renewing',
  'ChallengeFailed',
  'RateLimited',
  'IssuerNotFound',
  'OrderFailed',
  'AccountRegistered',
  'AccountFailed',
  // Rollout phases (src/plan/rollout/state.ts PHASES).
  'Progressing',
  'Paused',
  'Promoted',
  'Succeeded',
  'Aborted',
  'Failed',
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
