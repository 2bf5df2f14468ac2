/**
 * One extension service per ServiceCluster (`sg-extension-<cluster>`): `swarmgate extension`
 * rendering that cluster's models for the core over gRPC. Least privilege by construction: no
 * mounts at all (no Docker socket), only the control network, the CA and this cluster's extension identity.
 * Converged like the proxy (src/plan/writes/extension-writes.ts): the whole spec is hashed into a
 * label, so an unchanged cluster costs no write. Pure.
 */
import { TLS_DIR_IN_TASKS } from '../domain/tls-layout';
import { LABELS, OWNER_VALUE } from '../domain/labels';
import type { ServiceSpec } from '../observed/docker-port';
import type { ProxyModel } from './model';
import { componentTlsMounts, type AgentEndpoint } from './proxy-service-spec';

export function extensionServiceName(cluster: string): string {
  return `sg-extension-${cluster}`;
}

export function extensionServiceSpec(model: ProxyModel, image: string, endpoint: AgentEndpoint): ServiceSpec {
  const e = model.spec.extension;
  const labels = { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'extension', [LABELS.cluster]: model.cluster };
  return {
    Name: extensionServiceName(model.cluster),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        Args: ['extension', '--cluster', model.cluster, '--core', endpoint.coreAddress],
        Env: [endpoint.tls !== undefined ? `SWARMGATE_TLS_DIR=${TLS_DIR_IN_TASKS}` : 'SWARMGATE_INSECURE=1'],
        Labels: labels,
        Secrets: componentTlsMounts(endpoint, 'extension', model.cluster),
        StopGracePeriod: 5_000_000_000,
      },
      Placement: { Constraints: [...e.constraints], Preferences: e.placementPreferences.map((p) => ({ Spread: { SpreadDescriptor: p.spread } })) },
      Networks: [{ Target: endpoint.controlNetworkId }],
    },
    Mode: { Replicated: { Replicas: e.replicas } },
    UpdateConfig: { Parallelism: 1, Order: 'start-first', FailureAction: 'rollback' },
  };
}
