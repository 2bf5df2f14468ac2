/**
 * Certificates stored with `swarmgate tls apply` as Docker secrets: one version = two secrets
 * (`sg-cert-<name>-v<N>.crt` and `.key`), owned by swarmgate (role "certificate"), labelled with the
 * name, version, part, notAfter and the certificate's fingerprint. Secrets are immutable and cannot
 * be read back, so a renewal is a new version; the plan moves routes to the newest complete version
 * and older versions are removed once nothing mounts them (pruneCertificateVersions).
 */
import * as E from 'fp-ts/Either';
import { LABELS, OWNER_VALUE } from '../domain/labels';
import { decode } from '../domain/codec';
import { SnapshotCertificate, type CertificatePart, type UtcTimestamp } from '../domain/snapshot';
import type { DockerPort, SecretInfo, ServiceInfo, TaskInfo } from '../observed/docker-port';
import { certificateOf, isCertificateSecret } from '../observed/to-snapshot';
import { certificateSecretName } from '../plan/certificates';

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

export interface NewPair {
  /** PEM texts, already checked by the caller (they match, the certificate parses). */
  readonly cert: string;
  readonly key: string;
  readonly notAfter: UtcTimestamp;
  readonly fingerprint: string;
  /** The certificate's DNS names, recorded so the plan can check them against route hosts. */
  readonly dnsNames: readonly string[];
}

/** More names than this, or a longer label, and the names are not recorded (unknown: no host check). */
const MAX_RECORDED_NAMES = 1000;
const MAX_NAMES_LABEL = 64 * 1024;

function dnsNamesLabel(names: readonly string[]): Record<string, string> {
  const value = names.map((n) => n.toLowerCase()).join(',');
  return names.length <= MAX_RECORDED_NAMES && value.length <= MAX_NAMES_LABEL ? { [LABELS.dnsNames]: value } : {};
}

/**
 * Store a pair as version max + 1 of `name`: the certificate first, then the key, so the version is
 * complete (and chosen by the plan) only once both exist. If the key cannot be stored, the lone
 * certificate is removed again rather than left as a half version.
 */
export async function createCertificateVersion(port: DockerPort, name: string, pair: NewPair, existing: readonly StoredVersion[]): Promise<{ version: number; cert: SecretRef; key: SecretRef }> {
  const version = Math.max(0, ...existing.map((v) => v.version)) + 1;
  const labels = (part: CertificatePart) => ({
    [LABELS.owner]: OWNER_VALUE,
    [LABELS.role]: 'certificate',
    [LABELS.certificate]: name,
    [LABELS.certificateVersion]: String(version),
    [LABELS.certificatePart]: part,
    [LABELS.notAfter]: pair.notAfter,
    [LABELS.fingerprint]: pair.fingerprint,
    ...dnsNamesLabel(pair.dnsNames),
  });
  const certName = certificateSecretName(name, version, 'cert');
  const keyName = certificateSecretName(name, version, 'key');
  const certId = await port.createSecret({ Name: certName, Labels: labels('cert'), Data: Buffer.from(pair.cert).toString('base64') });
  let keyId: string;
  try {
    keyId = await port.createSecret({ Name: keyName, Labels: labels('key'), Data: Buffer.from(pair.key).toString('base64') });
  } catch (e) {
    await port.removeSecret(certId).catch(() => undefined);
    throw e;
  }
  return { version, cert: { id: certId, name: certName }, key: { id: keyId, name: keyName } };
}

/** What the Docker state must show to decide which versions can go. */
export interface CertificateUsage {
  readonly services: readonly ServiceInfo[];
  readonly tasks: readonly TaskInfo[];
  readonly secrets: readonly SecretInfo[];
}

/**
 * Remove the versions older than each name's current version that nothing uses any more (see
 * secretsInUse); `only` limits it to one name. Returns the names of the secrets removed. The current
 * version is never removed, and neither is a newer incomplete one (an apply may be writing it). A
 * removal Swarm refuses (a service started using it since the lists were read) is left for later.
 *
 * Meant to run once per core run, after the proxies converged, with the lists the run read (so a
 * version the run itself just stopped mounting is removed by the next run, once its tasks stopped):
 * `writes += (await pruneCertificateVersions(port, live)).length` in CoreRun.run. `tls apply` calls it
 * for its own name, which removes versions that were never or are no longer mounted.
 */
export async function pruneCertificateVersions(port: DockerPort, state: CertificateUsage, only?: string): Promise<string[]> {
  const used = secretsInUse(state.services, state.tasks);
  const removed: string[] = [];
  for (const [name, versions] of storedCertificates(state.secrets)) {
    if (only !== undefined && name !== only) continue;
    const current = currentVersion(versions);
    if (current === undefined) continue;
    for (const v of versions) {
      if (v.version >= current.version) continue;
      const parts = [v.cert, v.key].filter((p): p is SecretRef => p !== undefined);
      if (parts.some((p) => used.has(p.id))) continue;
      for (const p of parts) {
        try {
          await port.removeSecret(p.id);
          removed.push(p.name);
        } catch {
          // In use after all, or already gone: the next run decides again.
        }
      }
    }
  }
  return removed;
}
