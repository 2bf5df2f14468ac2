/**
 * The core's side of component identities (ADR 0012): before each run plans, every cluster gets a
 * certificate for each component role it runs (its proxy agents, its extension), issued with the
 * CA key only the core mounts and stored as two Docker secrets (identity-secrets.ts names and
 * labels them). Identities of removed clusters and of earlier TLS sets are revoked: dropped from
 * the list of certificates the API accepts at once, and their secrets removed once no service
 * mounts them.
 */
import type { Logger } from 'pino';
import { issueIdentity, type IssuedIdentity } from '../api/tls';
import type { ControlPlane } from '../api/control-plane';
import type { DockerPort, SecretInfo, TaskInfo } from '../observed/docker-port';
import type { ProxyModel } from '../plan/model';
import type { Observed } from './observe';
import { identityKey, identitySecretLabels, identitySecretName, identitySecrets, type ClusterRole, type IdentitySecrets } from '../plan/identity-secrets';

export interface IdentityAuthority {
  /** The CA of the TLS set the core runs with (PEM). */
  readonly ca: { readonly cert: string; readonly key: string };
  /** That set's id: identities are issued per set, so a rotation issues every cluster a new one. */
  readonly set: string;
  /**
   * The set rotate-certs rotated away from (ADR 0019): its identities stay accepted while a service
   * still mounts them (the bootstrap of tasks that start before their service is next updated),
   * and agents that connect with one are handed their current identity over their stream.
   */
  readonly previousSet?: string;
}

/** What an agent is handed over its stream: its current pair and the CA to trust from then on. */
export interface DeliverableIdentity {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly fingerprint: string;
}

/**
 * The identities this core process can hand out (ADR 0019). Docker secrets cannot be read back, so
 * the core keeps the pairs it issued in memory; for a current identity issued by an earlier core
 * process it issues another pair for the same identity on demand (kept in memory only, accepted
 * until this process ends; the agent then reconnects with its mounted pair and is handed a new one).
 */
export class IdentityDesk {
  /** identityKey → a pair issued by this process (the secret's, or an on-demand one). */
  private readonly held = new Map<string, IssuedIdentity>();
  /** identityKey → fingerprint of the current identity's secrets. */
  private current = new Map<string, string>();

  constructor(private readonly authority: IdentityAuthority, private readonly plane: ControlPlane, private readonly log: Logger) {}

  /** A pair this process issued and stored as the identity's secrets. */
  remember(key: string, issued: IssuedIdentity): void {
    this.held.set(key, issued);
  }

  /** The current identities after a round (identityKey → fingerprint); drops held pairs of identities no longer wanted. */
  setCurrent(current: ReadonlyMap<string, string>): void {
    this.current = new Map(current);
    for (const key of [...this.held.keys()]) if (!current.has(key)) this.held.delete(key);
  }

  /** Fingerprints of the on-demand pairs still held (accepted along with the secrets'). */
  heldFingerprints(): string[] {
    return [...this.held.values()].map((h) => h.fingerprint);
  }

  /**
   * What to hand a peer of `role`/`cluster` that connected with `peerFingerprint`: nothing when it
   * already uses a current pair (or its cluster has no identity yet), else its current pair.
   */
  forPeer(role: ClusterRole, cluster: string, peerFingerprint: string): DeliverableIdentity | undefined {
    const key = identityKey(this.authority.set, role, cluster);
    const current = this.current.get(key);
    if (current === undefined) return undefined;
    let held = this.held.get(key);
    if (peerFingerprint === current || peerFingerprint === held?.fingerprint) return undefined;
    if (held === undefined) {
      held = issueIdentity(this.authority.ca, { role, cluster });
      this.held.set(key, held);
      this.plane.addCurrentIdentity(held.fingerprint);
      this.log.info({ cluster, role, set: this.authority.set }, 'component identity issued for delivery over the stream (held in memory)');
    }
    this.log.info({ cluster, role, set: this.authority.set }, 'handing a component its current identity over its stream');
    return { cert: held.cert, key: held.key, ca: this.authority.ca.cert, fingerprint: held.fingerprint };
  }
}

export interface IdentityNeed {
  readonly cluster: string;
  readonly roles: readonly ClusterRole[];
}

export interface IdentityRound {
  /** Secrets created in this round (the run plans with them as if listed). */
  readonly created: readonly SecretInfo[];
  /** Fingerprints of every current identity: what the API accepts until the next round. */
  readonly current: readonly string[];
}

/**
 * Issue what is missing, list what is current, remove what is revoked and unused. `mounted`: IDs
 * of the secrets services mount (a previous set's identity stays accepted while mounted).
 */
export async function ensureIdentities(port: DockerPort, authority: IdentityAuthority, secrets: readonly SecretInfo[], needs: readonly IdentityNeed[], log: Logger, desk?: IdentityDesk, mounted: ReadonlySet<string> = new Set()): Promise<IdentityRound> {
  const existing = identitySecrets(secrets);
  const created: SecretInfo[] = [];
  const current: string[] = [];
  const currentByKey = new Map<string, string>();
  const wanted = new Set<string>();
  for (const { cluster, roles } of needs) {
    for (const role of roles) {
      const key = identityKey(authority.set, role, cluster);
      wanted.add(key);
      const have = existing.get(key);
      if (have !== undefined) {
        current.push(have.fingerprint);
        currentByKey.set(key, have.fingerprint);
        continue;
      }
      // Half of a pair (a run that died between its two writes) is mounted by nothing: replace it.
      for (const file of ['cert', 'key'] as const) {
        const stale = secrets.find((x) => x.Spec.Name === identitySecretName(authority.set, role, cluster, file));
        if (stale !== undefined) await port.removeSecret(stale.ID);
      }
      const issued = issueIdentity(authority.ca, { role, cluster });
      const meta = { set: authority.set, role, cluster, fingerprint: issued.fingerprint };
      for (const [file, pem] of [['cert', issued.cert], ['key', issued.key]] as const) {
        const name = identitySecretName(authority.set, role, cluster, file);
        const labels = identitySecretLabels(meta, file);
        const id = await port.createSecret({ Name: name, Labels: labels, Data: Buffer.from(pem).toString('base64') });
        created.push({ ID: id, Spec: { Name: name, Labels: labels } });
      }
      current.push(issued.fingerprint);
      currentByKey.set(key, issued.fingerprint);
      desk?.remember(key, issued);
      log.info({ cluster, role, set: authority.set }, 'component identity issued');
    }
  }
  // The previous set's identities of clusters that still exist, while a service mounts them: what a task
  // that starts before its service is next updated connects with (ADR 0019).
  const bootstrap = [...existing.entries()].filter(([, v]) => v.set === authority.previousSet && wanted.has(identityKey(authority.set, v.role, v.cluster)) && (mounted.has(v.cert.id) || mounted.has(v.key.id)));
  current.push(...bootstrap.map(([, v]) => v.fingerprint));
  desk?.setCurrent(currentByKey);
  current.push(...(desk?.heldFingerprints() ?? []));
  const keep = new Set(bootstrap.map(([k]) => k));
  await removeRevoked(port, [...existing.entries()].filter(([k]) => !wanted.has(k) && !keep.has(k)).map(([, v]) => v), mounted, log);
  return { created, current };
}

/**
 * One run's identity round: agents of hitless clusters and (with extension services) extensions
 * get their identity; the API then accepts exactly the current ones (removed clusters' and older
 * sets' are revoked). Returns the observed state with the new secrets, as the plan must see them.
 */
export async function withIdentities(port: DockerPort, authority: IdentityAuthority, plane: ControlPlane, observed: Observed, models: readonly ProxyModel[], extensions: boolean, log: Logger, desk?: IdentityDesk): Promise<Observed> {
  const needs = models.map((m) => ({ cluster: m.cluster, roles: [...(m.spec.proxy.delivery === 'hitless' ? (['agent'] as const) : []), ...(extensions ? (['extension'] as const) : [])] }));
  const mounted = new Set(observed.live.services.flatMap((s) => (s.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => x.SecretID)));
  const round = await ensureIdentities(port, authority, observed.live.secrets, needs, log, desk, mounted);
  plane.setCurrentIdentities(round.current);
  return round.created.length === 0 ? observed : { ...observed, live: { ...observed.live, secrets: [...observed.live.secrets, ...round.created] } };
}

/** A revoked identity's secrets go once the services mounting them were updated (Docker refuses earlier; the next round retries). */
async function removeRevoked(port: DockerPort, revoked: readonly IdentitySecrets[], mounted: ReadonlySet<string>, log: Logger): Promise<void> {
  for (const r of revoked) {
    if (mounted.has(r.cert.id) || mounted.has(r.key.id)) continue;
    try {
      for (const ref of [r.cert, r.key]) await port.removeSecret(ref.id);
      log.info({ cluster: r.cluster, role: r.role, set: r.set }, 'revoked component identity removed');
    } catch {
      // Still mounted by a service being updated: removed by a later run.
    }
  }
}

/** A task's IP addresses on every network it is attached to ("10.0.1.5/24" → "10.0.1.5"): where its agent's calls come from. */
export function taskIps(task: TaskInfo): string[] {
  return (task.NetworksAttachments ?? []).flatMap((a) => (a.Addresses ?? []).map((x) => x.split('/')[0] ?? '')).filter((x) => x !== '');
}
