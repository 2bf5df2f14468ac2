/**
 * The gRPC API's TLS material as Docker secrets: one *set* per install or rotation, four secrets
 * (CA certificate and key, core certificate and key; components' identities: identity-secrets.ts) labelled with the set
 * id and the file each holds. Pure: which complete sets exist among listed secrets, and how a
 * service mounts some files of a set. Creating a set is I/O: src/apply/tls-secrets.ts.
 */
import { decodeTlsSecretLabels, TLS_FILES, TLS_SET_FILES, type TlsFile } from '../domain/tls-layout';
import type { SecretInfo, ServiceSpec } from '../observed/docker-port';

export interface SecretRef {
  readonly id: string;
  readonly name: string;
}

export type TlsSet = { readonly id: string } & Readonly<Record<TlsFile, SecretRef>>;

export { TLS_SET_FILES } from '../domain/tls-layout';

/** Complete sets among the listed secrets, newest first (set ids sort by creation time). */
export function tlsSets(secrets: readonly SecretInfo[]): TlsSet[] {
  const bySet = new Map<string, Partial<Record<TlsFile, SecretRef>>>();
  for (const s of secrets) {
    const role = decodeTlsSecretLabels(s.Spec.Labels);
    if (role === undefined) continue;
    bySet.set(role.set, { ...bySet.get(role.set), [role.file]: { id: s.ID, name: s.Spec.Name } });
  }
  const complete: TlsSet[] = [];
  for (const [id, files] of bySet) {
    if (TLS_SET_FILES.every((f) => files[f] !== undefined)) complete.push({ id, ...(files as Record<TlsFile, SecretRef>) });
  }
  return complete.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Secret mounts of some files of a set, under their fixed file names in /run/secrets. */
export function tlsMounts(set: TlsSet, files: readonly TlsFile[]): NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Secrets']> {
  return files.map((f) => ({ SecretID: set[f].id, SecretName: set[f].name, File: { Name: TLS_FILES[f], UID: '0', GID: '0', Mode: 0o400 } }));
}
