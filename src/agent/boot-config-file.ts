/**
 * The mounted boot config as text. A config too large for one Swarm config is stored gzip-compressed,
 * and in parts mounted beside it (`<path>.part2of3`, …) when even that is too large (ADR 0029); the
 * agent decodes it here before NGINX/HAProxy ever reads it, and refuses one whose parts are missing
 * or damaged (the header's SHA-256) rather than start a proxy on half a config.
 */
import { existsSync, readFileSync } from 'node:fs';
import { decodeStoredConfig, partFilePath, storedHeader } from '../plan/stored-config';

/** The text of the config mounted at `path` (decompressed and reassembled when stored so). */
export function readBootConfig(path: string): string {
  const first = readFileSync(path);
  const header = storedHeader(first);
  if (header === undefined) return first.toString('utf8');
  const parts: Uint8Array[] = [first];
  for (let k = 2; k <= header.parts; k++) {
    const part = partFilePath(path, k, header.parts);
    if (!existsSync(part)) throw new Error(`${path} is stored in ${header.parts} parts, and ${part} is not mounted`);
    parts.push(readFileSync(part));
  }
  return decodeStoredConfig(parts);
}
