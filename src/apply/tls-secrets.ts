/**
 * The gRPC API's TLS material as Docker secrets: one *set* per install or rotation, five secrets
 * (CA certificate, core certificate and key, component certificate and key) labelled with the set
 * id and the file each holds. Secrets cannot be read back through the API, so services get them
 * mounted: the core its server pair, proxies and extensions the client pair, all the CA.
 */
import { LABELS, OWNER_VALUE } from '../domain/labels';
import type { DockerPort, SecretInfo, ServiceSpec } from '../observed/docker-port';
import { TLS_FILES, generateTlsMaterial, type TlsFile, type TlsMaterial } from '../api/tls';

export interface SecretRef {
  readonly id: string;
  readonly name: string;
}

export type TlsSet = { readonly id: string } & Readonly<Record<TlsFile, SecretRef>>;

const FILES = Object.keys(TLS_FILES) as TlsFile[];

/** Complete sets among the listed secrets, newest first (set ids sort by creation time). */
export function tlsSets(secrets: readonly SecretInfo[]): TlsSet[] {
  const bySet = new Map<string, Partial<Record<TlsFile, SecretRef>>>();
  for (const s of secrets) {
    const l = s.Spec.Labels ?? {};
    const set = l[LABELS.tlsSet];
    const file = l[LABELS.tlsFile] as TlsFile | undefined;
    if (l[LABELS.owner] !== OWNER_VALUE || set === undefined || file === undefined || !FILES.includes(file)) continue;
    bySet.set(set, { ...bySet.get(set), [file]: { id: s.ID, name: s.Spec.Name } });
  }
  const complete: TlsSet[] = [];
  for (const [id, files] of bySet) {
    if (FILES.every((f) => files[f] !== undefined)) complete.push({ id, ...(files as Record<TlsFile, SecretRef>) });
  }
  return complete.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Create a new set from fresh material (the CA key is discarded). */
export async function createTlsSet(port: DockerPort, now: Date = new Date(), material: TlsMaterial = generateTlsMaterial()): Promise<TlsSet> {
  // Sortable and unique enough: one set per install/rotation.
  const id = `${now.getTime().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36).padStart(3, '0')}`;
  const content: Record<TlsFile, string> = { ca: material.ca, serverCert: material.serverCert, serverKey: material.serverKey, clientCert: material.clientCert, clientKey: material.clientKey };
  const refs: Partial<Record<TlsFile, SecretRef>> = {};
  for (const f of FILES) {
    const name = `swarmgate-tls-${id}-${TLS_FILES[f].replace(/^swarmgate-/, '').replace('.', '-')}`;
    const secretId = await port.createSecret({ Name: name, Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'tls', [LABELS.tlsSet]: id, [LABELS.tlsFile]: f }, Data: Buffer.from(content[f]).toString('base64') });
    refs[f] = { id: secretId, name };
  }
  return { id, ...(refs as Record<TlsFile, SecretRef>) };
}

/** Secret mounts of some files of a set, under their fixed file names in /run/secrets. */
export function tlsMounts(set: TlsSet, files: readonly TlsFile[]): NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Secrets']> {
  return files.map((f) => ({ SecretID: set[f].id, SecretName: set[f].name, File: { Name: TLS_FILES[f], UID: '0', GID: '0', Mode: 0o400 } }));
}
