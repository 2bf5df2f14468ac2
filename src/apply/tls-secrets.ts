/**
 * The gRPC API's TLS material as Docker secrets: one *set* per install or rotation, four secrets
 * (CA certificate and key, core certificate and key) labelled with the set id and the file each
 * holds. Secrets cannot be read back through the API, so services get them mounted: the core all
 * four (it issues the components' identities with the CA key), proxies and extensions the CA.
 */
import type { DockerPort } from '../observed/docker-port';
import { encodeTlsSecretLabels, TLS_FILES, type TlsFile, type TlsMaterial } from '../domain/tls-layout';
import { TLS_SET_FILES as FILES, type SecretRef, type TlsSet } from '../plan/tls-sets';

export { tlsMounts, tlsSets, type SecretRef, type TlsSet } from '../plan/tls-sets';

/** Store a new set made from fresh material (generateTlsMaterial). */
export async function createTlsSet(port: DockerPort, material: TlsMaterial, now: Date = new Date()): Promise<TlsSet> {
  // Sortable and unique enough: one set per install/rotation.
  const id = `${now.getTime().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36).padStart(3, '0')}`;
  const content: Record<TlsFile, string> = { ca: material.ca, caKey: material.caKey, serverCert: material.serverCert, serverKey: material.serverKey };
  const refs: Partial<Record<TlsFile, SecretRef>> = {};
  for (const f of FILES) {
    const name = `swarmgate-tls-${id}-${TLS_FILES[f].replace(/^swarmgate-/, '').replace('.', '-')}`;
    const secretId = await port.createSecret({ Name: name, Labels: encodeTlsSecretLabels({ set: id, file: f }), Data: Buffer.from(content[f]).toString('base64') });
    refs[f] = { id: secretId, name };
  }
  return { id, ...(refs as Record<TlsFile, SecretRef>) };
}

