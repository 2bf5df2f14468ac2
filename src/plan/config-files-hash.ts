/**
 * The hash a proxy reports for a set of config files: order-independent, path and content both
 * count. Pure (@noble/hashes), so the plan knows whether the agents already run a config; the
 * digest is the one node:crypto gave before, so agents and cores of different versions agree.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

export interface ConfigFile {
  readonly path: string;
  readonly content: Uint8Array;
}

export function configFilesHash(files: readonly ConfigFile[]): string {
  const h = sha256.create();
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    h.update(utf8ToBytes(f.path)).update(utf8ToBytes('\0')).update(utf8ToBytes(String(f.content.length))).update(utf8ToBytes('\0')).update(f.content);
  }
  return bytesToHex(h.digest());
}

/** Where certificate files sit in deliveryHash's input: apart from config paths, whatever their names. */
const CERTIFICATE_HASH_PREFIX = 'acme-certificates/';

/**
 * What an agent reports it runs: the config files and, when the cluster has ACME certificates, those
 * too (a renewal changes the hash, so Programmed waits for the reload). Without certificates it is
 * configFilesHash, so clusters without ACME routes keep the hashes they had.
 */
export function deliveryHash(files: readonly ConfigFile[], certificates: readonly ConfigFile[]): string {
  if (certificates.length === 0) return configFilesHash(files);
  return configFilesHash([...files, ...certificates.map((c) => ({ path: `${CERTIFICATE_HASH_PREFIX}${c.path}`, content: c.content }))]);
}
