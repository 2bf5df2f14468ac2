/**
 * What each component identity may do on the core's API (ADR 0012): a proxy agent of cluster X
 * watches X's config and reports only for replicas of X's proxy service; an extension of X watches
 * X's model and submits only for X; the reader only watches status. Pure: the handlers pass who
 * calls (peer-identity.ts), the call and its target, and what the core knows now.
 */
import { describeIdentity, type Identity } from '../domain/identity';

export type CoreCall = 'WatchUpstreams' | 'SubmitConfig' | 'WatchProxyConfig' | 'ReportProxyState' | 'WatchStatus';

export interface CallTarget {
  readonly cluster?: string;
  readonly replicaId?: string;
}

export interface AuthorityView {
  /** The cluster whose proxy service runs this task, from the core's last snapshot (undefined: none the core knows). */
  replicaCluster(replicaId: string): string | undefined;
  /** The task's IP addresses from the core's last snapshot. */
  replicaAddresses(replicaId: string): readonly string[];
  /** Whether a certificate is one the core issued for a current identity; undefined when the core keeps no list (no CA key). */
  isCurrentIdentity?(fingerprint: string): boolean;
}

const CLUSTER_CALLS: Readonly<Record<Exclude<CoreCall, 'WatchStatus'>, 'agent' | 'extension'>> = {
  WatchUpstreams: 'extension',
  SubmitConfig: 'extension',
  WatchProxyConfig: 'agent',
  ReportProxyState: 'agent',
};

/** Why `who` may not make `call` for `target`; undefined when it may. */
/**
 * `who.address`: the caller's IP address when it came over TCP (undefined over a unix socket).
 * Reports are bound to the replica that sends them by that address: a certificate names a cluster,
 * not a task, so another agent of the same cluster cannot report for this replica either.
 */
export function refusal(who: { identity?: Identity; fingerprint: string; address?: string } | undefined, call: CoreCall, target: CallTarget, view: AuthorityView): string | undefined {
  if (who === undefined) return 'no client certificate';
  const id = who.identity;
  if (id === undefined) return 'the client certificate names no swarmgate identity (spiffe://swarmgate/<role>/<cluster>)';
  if (view.isCurrentIdentity !== undefined && !view.isCurrentIdentity(who.fingerprint)) return `the certificate of ${describeIdentity(id)} is not current (revoked: its cluster was removed or its credentials rotated)`;
  if (call === 'WatchStatus') return id.role === 'reader' ? undefined : `${describeIdentity(id)} may not read status`;
  const role = CLUSTER_CALLS[call];
  if (id.role !== role || !('cluster' in id)) return `${describeIdentity(id)} may not call ${call} (${role}s only)`;
  if (id.cluster !== target.cluster) return `${describeIdentity(id)} may not call ${call} for cluster ${target.cluster ?? '(none)'}`;
  if (call === 'ReportProxyState') {
    const owner = target.replicaId !== undefined ? view.replicaCluster(target.replicaId) : undefined;
    if (owner !== id.cluster) return `replica ${target.replicaId ?? '(none)'} is not a task of cluster ${id.cluster}'s proxy service`;
    if (who.address !== undefined && target.replicaId !== undefined && !view.replicaAddresses(target.replicaId).includes(who.address)) return `the call came from ${who.address}, not from an address of replica ${target.replicaId}`;
  }
  return undefined;
}
