/**
 * The gRPC API's TLS material as Docker secrets: one *set* per install or rotation, four secrets
 * (CA certificate and key, core certificate and key) labelled with the set id and the file each
 * holds. Secrets cannot be read back through the API, so services get them mounted: the core all
 * four (it issues the components' identities with the CA key), proxies and extensions the CA.
 */
import { randomInt } from 'node:crypto';
import type { DockerPort } from '../observed/docker-port';
import { encodeTlsSecretLabels, TLS_FILES, type TlsFile, type TlsMaterial } from '../domain/tls-layout';
import { TLS_SET_FILES as FILES, type SecretRef, type TlsSet } from '../plan/tls-sets';

export { tlsMounts, tlsSets, type SecretRef, type TlsSet } from '../plan/tls-sets';

/** Store a new set made from fresh material (generateTlsMaterial). */
export async function createTlsSet(port: DockerPort, material: TlsMaterial, now: Date = new Date()): Promise<TlsSet> {
  // Sortable (creation time first) and unique: 7 random base-36 digits (7.8e10 values) after the
  // millisecond. Two installs or rotations racing each other run in the same millisecond easily (the
  // interleaving tests do it thousands of times); 3 digits (46,656 values) let them pick the same name
  // now and then, and the loser failed on "secret already exists" instead of reporting the conflict.
  // Not more: names derived from the id (agent identities) must stay within Docker's 64 characters.
  const id = `${now.getTime().toString(36)}${randomInt(0, 36 ** 7).toString(36).padStart(7, '0')}`;
  const content: Record<TlsFile, string> = { ca: material.ca, caKey: material.caKey, serverCert: material.serverCert, serverKey: material.serverKey };
  const refs: Partial<Record<TlsFile, SecretRef>> = {};
  for (const f of FILES) {
    const name = `swarmgate-tls-${id}-${TLS_FILES[f].replace(/^swarmgate-/, '').replace('.', '-')}`;
    const secretId = await port.createSecret({ Name: name, Labels: encodeTlsSecretLabels({ set: id, file: f }), Data: Buffer.from(content[f]).toString('base64') });
    refs[f] = { id: secretId, name };
  }
  return { id, ...(refs as Record<TlsFile, SecretRef>) };
}

