/** Which generated configs of a cluster go: those no task uses, beyond the newest KEEP_REVISIONS revisions. */
import { LABELS } from '../../domain/labels';
import type { LiveState } from '../../observed/live-state';
import { KEEP_REVISIONS, revisionNumber } from '../revisions';
import type { RemoveStep } from './steps';

/**
 * `current` is the config the cluster's proxy uses after this run; configs mounted by a task of the
 * proxy service that is meant to run stay (during a rolling update old tasks still use theirs).
 */
export function planConfigPrune(cluster: string, current: string, serviceId: string | undefined, live: LiveState): RemoveStep[] {
  const inUse = new Set(
    live.tasks.filter((t) => serviceId !== undefined && t.ServiceID === serviceId && t.DesiredState !== 'shutdown').flatMap((t) => (t.Spec?.ContainerSpec?.Configs ?? []).map((c) => c.ConfigName)),
  );
  const candidates = live.proxyConfigs
    .filter((c) => c.Spec.Labels?.[LABELS.cluster] === cluster && c.Spec.Name !== current && !inUse.has(c.Spec.Name))
    // Newest revision first; configs from before revisions existed (no label) go first, oldest first.
    .sort((a, b) => (revisionNumber(b) ?? 0) - (revisionNumber(a) ?? 0) || ((a.CreatedAt ?? '') < (b.CreatedAt ?? '') ? 1 : -1));
  return candidates.slice(KEEP_REVISIONS - 1).map((c) => ({
    op: 'removeConfig',
    cluster,
    targetId: c.ID,
    name: c.Spec.Name,
    reason: `no task uses it and it is older than the newest ${KEEP_REVISIONS} revisions`,
  }));
}
