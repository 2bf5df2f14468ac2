/**
 * The plan of one core run: per ServiceCluster its extension service (when the core runs them) and,
 * when the cluster has a validated config to ship, its proxy writes; then the services of deleted
 * clusters and the certificate versions nothing uses. Pure: (models, rendered and validated files,
 * observed inventory, options) → Plan.
 */
import { LABELS } from '../../domain/labels';
import type { LiveState } from '../../observed/live-state';
import type { ProxyModel } from '../model';
import type { AgentEndpoint } from '../proxy-service-spec';
import { planCertificatePrune } from './certificate-prune';
import { unusedAcmeCopies } from '../acme-copies';
import { planExtension } from './extension-writes';
import { planOrphanRemovals } from './orphan-writes';
import { planProxy, type ProxyPlan, type ProxyPlanInput } from './proxy-writes';
import { clusterGroupKey, type Plan, type Step, type StepGroup } from './steps';

export interface ClusterPlanInput {
  readonly model: ProxyModel;
  /** The config to ship, when there is a valid one (else the proxy keeps what it runs: no proxy writes). */
  readonly proxy?: Omit<ProxyPlanInput, 'model' | 'live'>;
  /** Run the cluster's extension service with this image, reaching the core at `endpoint`. */
  readonly extension?: { readonly image: string; readonly endpoint: AgentEndpoint };
}

export interface RunPlan {
  readonly plan: Plan;
  /** Per cluster with a config to ship: what its proxy ends up with (service, mounted config). */
  readonly proxies: ReadonlyMap<string, ProxyPlan>;
}

/** The ACME copies' group: superseded durable copies nothing mounts are removed (ADR 0033). */
export const ACME_COPIES_GROUP = 'acme-copies';

/** `acmeFingerprints`: each route's current ACME certificate (the core's issuer); absent: no ACME copy is pruned. */
export function planRun(clusters: readonly ClusterPlanInput[], live: LiveState, acmeFingerprints?: ReadonlyMap<string, string>): RunPlan {
  const groups: StepGroup[] = [];
  const proxies = new Map<string, ProxyPlan>();
  for (const c of clusters) {
    const steps: Step[] = [];
    if (c.extension !== undefined) steps.push(...planExtension(c.model, c.extension.image, c.extension.endpoint, live.services));
    if (c.proxy !== undefined) {
      const p = planProxy({ ...c.proxy, model: c.model, live });
      proxies.set(c.model.cluster, p);
      steps.push(...p.steps);
    }
    if (steps.length > 0) groups.push({ key: clusterGroupKey(c.model.cluster), steps });
  }
  groups.push(...planOrphanRemovals(new Set(clusters.map((c) => c.model.cluster)), live));
  const certificates = planCertificatePrune(live);
  if (certificates.steps.length > 0) groups.push(certificates);
  const copies = acmeFingerprints === undefined ? [] : unusedAcmeCopies(live.secrets, live.services, live.tasks, acmeFingerprints);
  if (copies.length > 0)
    groups.push({ key: ACME_COPIES_GROUP, steps: copies.map((c) => ({ op: 'removeSecret', targetId: c.ID, name: c.Spec.Name, reason: `ACME copy of route ${c.Spec.Labels?.[LABELS.name] ?? ''} superseded by a later one, and no proxy task mounts it` })) });
  return { plan: { groups }, proxies };
}
