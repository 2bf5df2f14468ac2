/** The write that converges a cluster's extension service (when the core runs them): create, update or nothing. */
import type { ServiceInfo } from '../../observed/docker-port';
import { extensionServiceSpec } from '../extension-service-spec';
import type { ProxyModel } from '../model';
import type { AgentEndpoint } from '../proxy-service-spec';
import { isCurrent, labelledServiceSpec, updateEffect } from './service-labels';
import type { Step } from './steps';

export function planExtension(model: ProxyModel, image: string, endpoint: AgentEndpoint, services: readonly ServiceInfo[]): Step[] {
  const spec = labelledServiceSpec(extensionServiceSpec(model, image, endpoint));
  const existing = services.find((s) => s.Spec.Name === spec.Name);
  if (existing === undefined) return [{ op: 'createService', id: 'extension-service', cluster: model.cluster, role: 'extension', spec, effect: 'starts-tasks', reason: 'the cluster has no extension service' }];
  if (isCurrent(existing, spec)) return [];
  return [{ op: 'updateService', cluster: model.cluster, role: 'extension', serviceId: existing.ID, version: existing.Version.Index, spec, effect: updateEffect(existing, spec), reason: 'the extension service spec changed' }];
}
