/**
 * Certificates stored with `swarmgate tls apply` as Docker secrets: one version = two secrets
 * (`sg-cert-<name>-v<N>.crt` and `.key`), owned by swarmgate (role "certificate"), labelled with the
 * name, version, part, notAfter and the certificate's fingerprint. Secrets are immutable and cannot
 * be read back, so a renewal is a new version; the plan moves routes to the newest complete version
 * and older versions are removed once nothing mounts them (planCertificatePrune). Pure: what the
 * listed secrets, services and tasks say; storing a version is src/apply/certificate-secrets.ts.
 */
import * as E from 'fp-ts/Either';
import { LABELS } from '../domain/labels';
import { decode } from '../domain/codec';
import { SnapshotCertificate, type UtcTimestamp } from '../domain/snapshot';
import type { SecretInfo, ServiceInfo, TaskInfo } from '../observed/docker-port';
import { certificateOf, isCertificateSecret } from '../observed/to-snapshot';

export interface SecretRef {
  readonly id: string;
  readonly name: string;
}

/** One stored version as the Docker secrets show it; `cert` or `key` is missing while an apply runs (or after one failed). */
export interface StoredVersion {
  readonly name: string;
  readonly version: number;
  readonly cert?: SecretRef;
  readonly key?: SecretRef;
  readonly notAfter?: UtcTimestamp;
  /** `sha256:<hex>` of the certificate (DER); equal fingerprints mean the same pair. */
  readonly fingerprint?: string;
}

/** Stored certificates by name, each name's versions newest first (incomplete ones included). */
export function storedCertificates(secrets: readonly SecretInfo[]): Map<string, StoredVersion[]> {
  type Mutable = { -readonly [K in keyof StoredVersion]: StoredVersion[K] };
  const byKey = new Map<string, Mutable>();
  for (const s of secrets) {
    const labels = s.Spec.Labels;
    if (labels === undefined || !isCertificateSecret(labels)) continue;
    const decoded = decode(SnapshotCertificate, certificateOf(labels));
    if (E.isLeft(decoded)) continue;
    const c = decoded.right;
    const key = `${c.name}\u0000${c.version}`;
    const entry: Mutable = byKey.get(key) ?? { name: c.name, version: c.version };
    entry[c.part] = { id: s.ID, name: s.Spec.Name };
    const fingerprint = labels[LABELS.fingerprint];
    if (c.part === 'cert' && c.notAfter !== undefined) entry.notAfter = c.notAfter;
    if (c.part === 'cert' && fingerprint !== undefined) entry.fingerprint = fingerprint;
    byKey.set(key, entry);
  }
  const out = new Map<string, StoredVersion[]>();
  for (const v of byKey.values()) out.set(v.name, [...(out.get(v.name) ?? []), v]);
  for (const list of out.values()) list.sort((a, b) => b.version - a.version);
  return out;
}

export function isComplete(v: StoredVersion): v is StoredVersion & { readonly cert: SecretRef; readonly key: SecretRef } {
  return v.cert !== undefined && v.key !== undefined;
}

/** The version routes naming the certificate use (the plan's rule, on Docker's shapes): the newest complete one. */
export function currentVersion(versions: readonly StoredVersion[]): StoredVersion | undefined {
  return versions.find(isComplete);
}

/**
 * Secret IDs in use: mounted by a service spec, or by a task that is meant to run (during a rolling
 * update the old tasks still run with the old version, and Swarm's rollback would need it).
 */
export function secretsInUse(services: readonly ServiceInfo[], tasks: readonly TaskInfo[]): Map<string, string[]> {
  const users = new Map<string, string[]>();
  const add = (id: string, who: string): void => {
    const list = users.get(id) ?? [];
    if (!list.includes(who)) users.set(id, [...list, who]);
  };
  const serviceName = new Map(services.map((s) => [s.ID, s.Spec.Name]));
  for (const s of services) for (const x of s.Spec.TaskTemplate.ContainerSpec.Secrets ?? []) add(x.SecretID, s.Spec.Name);
  for (const t of tasks) {
    if (t.DesiredState === 'shutdown' || t.DesiredState === 'remove') continue;
    for (const x of t.Spec?.ContainerSpec?.Secrets ?? []) add(x.SecretID, serviceName.get(t.ServiceID) ?? t.ServiceID);
  }
  return users;
}
