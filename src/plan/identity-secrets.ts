/**
 * Component identities as Docker secrets (ADR 0012): for each TLS set, cluster and per-cluster role
 * (proxy agent, extension), a certificate and a key the core issued with the set's CA, labelled with
 * set, role, cluster, file and the certificate's fingerprint. Pure: which identities exist among
 * listed secrets, their collision-free names, and how a service mounts one. Issuing and storing is
 * I/O: src/apply/identity-secrets.ts.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { LABELS, OWNER_VALUE } from '../domain/labels';
import { TLS_FILES, decodeTlsSecretLabels } from '../domain/tls-layout';
import type { SecretInfo, ServiceSpec } from '../observed/docker-port';
import type { SecretRef } from './tls-sets';

export type ClusterRole = 'agent' | 'extension';

export interface IdentitySecrets {
  readonly set: string;
  readonly role: ClusterRole;
  readonly cluster: string;
  readonly fingerprint: string;
  readonly cert: SecretRef;
  readonly key: SecretRef;
}

type IdentityFile = 'cert' | 'key';

export function identityKey(set: string, role: ClusterRole, cluster: string): string {
  return `${set}/${role}/${cluster}`;
}

/**
 * The secret's name: Docker allows 64 characters and a cluster name alone may have 63, so the name
 * carries the SHA-256 of the cluster (160 bits: no two clusters share one) and the set; what the
 * secret holds is read from its labels, never from the name.
 */
export function identitySecretName(set: string, role: ClusterRole, cluster: string, file: IdentityFile): string {
  return `sgid-${set}-${role === 'agent' ? 'a' : 'e'}${file === 'cert' ? 'c' : 'k'}-${bytesToHex(sha256(utf8ToBytes(cluster))).slice(0, 40)}`;
}

export function identitySecretLabels(i: Omit<IdentitySecrets, 'cert' | 'key'>, file: IdentityFile): Record<string, string> {
  return { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'identity', [LABELS.tlsSet]: i.set, [LABELS.identityRole]: i.role, [LABELS.cluster]: i.cluster, [LABELS.tlsFile]: file, [LABELS.identityFingerprint]: i.fingerprint };
}

/** Complete identities (certificate and key of the same fingerprint) among the listed secrets, by identityKey. */
export function identitySecrets(secrets: readonly SecretInfo[]): Map<string, IdentitySecrets> {
  const parts = new Map<string, { meta: Omit<IdentitySecrets, 'cert' | 'key'>; cert?: SecretRef; key?: SecretRef }>();
  for (const s of secrets) {
    const l = s.Spec.Labels ?? {};
    const [set, role, cluster, file, fingerprint] = [l[LABELS.tlsSet], l[LABELS.identityRole], l[LABELS.cluster], l[LABELS.tlsFile], l[LABELS.identityFingerprint]];
    if (l[LABELS.owner] !== OWNER_VALUE || l[LABELS.role] !== 'identity' || set === undefined || cluster === undefined || fingerprint === undefined) continue;
    if ((role !== 'agent' && role !== 'extension') || (file !== 'cert' && file !== 'key')) continue;
    const k = `${identityKey(set, role, cluster)}#${fingerprint}`;
    const entry = parts.get(k) ?? { meta: { set, role, cluster, fingerprint } };
    entry[file] = { id: s.ID, name: s.Spec.Name };
    parts.set(k, entry);
  }
  const out = new Map<string, IdentitySecrets>();
  for (const { meta, cert, key } of parts.values()) if (cert !== undefined && key !== undefined) out.set(identityKey(meta.set, meta.role, meta.cluster), { ...meta, cert, key });
  return out;
}

/** The identity's pair under the components' fixed client file names in /run/secrets. */
export function identityMounts(i: IdentitySecrets): NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Secrets']> {
  return [
    { SecretID: i.cert.id, SecretName: i.cert.name, File: { Name: TLS_FILES.clientCert, UID: '0', GID: '0', Mode: 0o400 } },
    { SecretID: i.key.id, SecretName: i.key.name, File: { Name: TLS_FILES.clientKey, UID: '0', GID: '0', Mode: 0o400 } },
  ];
}

type SecretMounts = NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Secrets']>;

/**
 * The CA and identity pair a live component service mounts, as the spec builder writes them, when
 * they are a complete identity of `role` for `cluster` from one of `sets` (the current set or the
 * one rotate-certs rotated away from, ADR 0019); else undefined. The plan keeps them rather than
 * updating the service to the current set's, which would replace its tasks: the core hands the
 * running agents their current identity over their streams instead.
 */
export function keptComponentMounts(mounted: SecretMounts, secrets: readonly SecretInfo[], sets: readonly string[], role: ClusterRole, cluster: string): SecretMounts | undefined {
  const names = [TLS_FILES.ca, TLS_FILES.clientCert, TLS_FILES.clientKey];
  const kept: SecretMounts[number][] = [];
  for (const name of names) {
    const m = mounted.find((x) => x.File?.Name === name);
    const secret = secrets.find((x) => x.ID === m?.SecretID);
    if (m === undefined || secret === undefined) return undefined;
    const l = secret.Spec.Labels ?? {};
    const set = name === TLS_FILES.ca ? decodeTlsSecretLabels(l)?.set : l[LABELS.role] === 'identity' && l[LABELS.identityRole] === role && l[LABELS.cluster] === cluster ? l[LABELS.tlsSet] : undefined;
    if (set === undefined || !sets.includes(set)) return undefined;
    kept.push({ SecretID: secret.ID, SecretName: secret.Spec.Name, File: { Name: name, UID: '0', GID: '0', Mode: 0o400 } });
  }
  return kept;
}
