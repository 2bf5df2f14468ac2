/**
 * The hash a proxy reports for a set of config files: order-independent, path and content both
 * count. Pure (@noble/hashes) by default, so the plan knows whether the agents already run a config;
 * the I/O edges (the core's delivery, the agent's check) pass node:crypto's SHA-256 instead
 * (src/api/delivery-hash.ts, ADR 0042): the digest is the same, 15–30 times faster on megabytes.
 * The digest is the one node:crypto gave before, so agents and cores of different versions agree.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

export interface ConfigFile {
  readonly path: string;
  readonly content: Uint8Array;
}

/** A SHA-256 being computed: fed in order, then its digest as lowercase hex. */
export interface Sha256Stream {
  update(data: Uint8Array): void;
  hex(): string;
}

/** The pure SHA-256 (@noble/hashes). */
export function pureSha256(): Sha256Stream {
  const h = sha256.create();
  return { update: (d) => void h.update(d), hex: () => bytesToHex(h.digest()) };
}

export function configFilesHash(files: readonly ConfigFile[], sha: () => Sha256Stream = pureSha256): string {
  const h = sha();
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    h.update(utf8ToBytes(`${f.path}\0${f.content.length}\0`));
    h.update(f.content);
  }
  return h.hex();
}

/** Where certificate files sit in deliveryHash's input: apart from config paths, whatever their names. */
const CERTIFICATE_HASH_PREFIX = 'acme-certificates/';

/**
 * What an agent reports it runs: the config files and, when the cluster has ACME certificates, those
 * too (a renewal changes the hash, so Programmed waits for the reload). Without certificates it is
 * configFilesHash, so clusters without ACME routes keep the hashes they had.
 */
export function deliveryHash(files: readonly ConfigFile[], certificates: readonly ConfigFile[], sha: () => Sha256Stream = pureSha256): string {
  if (certificates.length === 0) return configFilesHash(files, sha);
  return configFilesHash([...files, ...certificates.map((c) => ({ path: `${CERTIFICATE_HASH_PREFIX}${c.path}`, content: c.content }))], sha);
}
