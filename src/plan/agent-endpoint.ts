/**
 * How components (hitless proxy agents, extension services) reach the core: its address, the ID of
 * the control network and the TLS set they mount, resolved against the observed inventory. Pure, so
 * the core and `swarmgate diff` plan with the same endpoint.
 */
import type { LiveState } from '../observed/live-state';
import type { AgentEndpoint } from './proxy-service-spec';
import { tlsSets } from './tls-sets';
import { identitySecrets } from './identity-secrets';

export interface CoreAddress {
  readonly coreAddress: string;
  readonly controlNetwork: string;
  readonly tlsSet?: string;
  /** The set rotate-certs rotated away from (ADR 0019). */
  readonly previousTlsSet?: string;
}

/** The endpoint, or why components cannot reach the core (a sentence for status). */
export function agentEndpoint(core: CoreAddress, live: Pick<LiveState, 'networks' | 'secrets'>): AgentEndpoint | string {
  const net = live.networks.find((n) => n.Name === core.controlNetwork && n.Scope === 'swarm');
  if (net === undefined) return `control network ${core.controlNetwork} not found`;
  if (core.tlsSet === undefined) return { coreAddress: core.coreAddress, controlNetworkId: net.Id };
  const tls = tlsSets(live.secrets).find((t) => t.id === core.tlsSet);
  if (tls === undefined) return `TLS set ${core.tlsSet} not found among the secrets; run swarmgate install`;
  return { coreAddress: core.coreAddress, controlNetworkId: net.Id, tls, identities: identitySecrets(live.secrets), ...(core.previousTlsSet !== undefined ? { previousTlsSet: core.previousTlsSet } : {}) };
}
