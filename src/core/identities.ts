/**
 * The core's side of component identities (ADR 0012): before each run plans, every cluster gets a
 * certificate for each component role it runs (its proxy agents, its extension), issued with the
 * CA key only the core mounts and stored as two Docker secrets (identity-secrets.ts names and
 * labels them). Identities of removed clusters and of earlier TLS sets are revoked: dropped from
 * the list of certificates the API accepts at once, and their secrets removed once no service
 * mounts them.
 */
import type { Logger } from 'pino';
import { issueIdentity } from '../api/tls';
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

/** Issue what is missing, list what is current, remove what is revoked and unused. */
export async function ensureIdentities(port: DockerPort, authority: IdentityAuthority, secrets: readonly SecretInfo[], needs: readonly IdentityNeed[], log: Logger): Promise<IdentityRound> {
  const existing = identitySecrets(secrets);
  const created: SecretInfo[] = [];
  const current: string[] = [];
  const wanted = new Set<string>();
  for (const { cluster, roles } of needs) {
    for (const role of roles) {
      const key = identityKey(authority.set, role, cluster);
      wanted.add(key);
      const have = existing.get(key);
      if (have !== undefined) {
        current.push(have.fingerprint);
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
      log.info({ cluster, role, set: authority.set }, 'component identity issued');
    }
  }
  await removeRevoked(port, [...existing.entries()].filter(([k]) => !wanted.has(k)).map(([, v]) => v), log);
  return { created, current };
}

/**
 * One run's identity round: agents of hitless clusters and (with extension services) extensions
 * get their identity; the API then accepts exactly the current ones (removed clusters' and older
 * sets' are revoked). Returns the observed state with the new secrets, as the plan must see them.
 */
export async function withIdentities(port: DockerPort, authority: IdentityAuthority, plane: ControlPlane, observed: Observed, models: readonly ProxyModel[], extensions: boolean, log: Logger): Promise<Observed> {
  const needs = models.map((m) => ({ cluster: m.cluster, roles: [...(m.spec.proxy.delivery === 'hitless' ? (['agent'] as const) : []), ...(extensions ? (['extension'] as const) : [])] }));
  const round = await ensureIdentities(port, authority, observed.live.secrets, needs, log);
  plane.setCurrentIdentities(round.current);
  return round.created.length === 0 ? observed : { ...observed, live: { ...observed.live, secrets: [...observed.live.secrets, ...round.created] } };
}

/** A revoked identity's secrets go once the services mounting them were updated (Docker refuses earlier; the next round retries). */
async function removeRevoked(port: DockerPort, revoked: readonly IdentitySecrets[], log: Logger): Promise<void> {
  for (const r of revoked) {
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
