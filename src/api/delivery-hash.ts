/**
 * The delivery hash (src/plan/config-files-hash.ts) computed with node:crypto's SHA-256, for the
 * I/O edges that hash what travels: the core's delivery and the agent's check of what it received
 * (ADR 0042). Same digest as the pure one (test/unit/delivery-hash.test.ts compares them); the pure
 * core keeps the pure one (no node:crypto there). At 10,000 routes (9 MiB) this takes a few
 * milliseconds where the pure one took about 90.
 */
import { createHash } from 'node:crypto';
import { configFilesHash as pureFilesHash, deliveryHash as pureDeliveryHash, type ConfigFile, type Sha256Stream } from '../plan/config-files-hash';

export function nativeSha256(): Sha256Stream {
  const h = createHash('sha256');
  return { update: (d) => void h.update(d), hex: () => h.digest('hex') };
}

export function configFilesHash(files: readonly ConfigFile[]): string {
  return pureFilesHash(files, nativeSha256);
}

export function deliveryHash(files: readonly ConfigFile[], certificates: readonly ConfigFile[]): string {
  return pureDeliveryHash(files, certificates, nativeSha256);
}
