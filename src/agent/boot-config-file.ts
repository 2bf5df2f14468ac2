/**
 * The mounted boot config as text. A config too large for one Swarm config is stored gzip-compressed,
 * and in parts mounted beside it (`<path>.part2of3`, …) when even that is too large (ADR 0029); the
 * agent decodes it here before NGINX/HAProxy ever reads it, and refuses one whose parts are missing
 * or damaged (the header's SHA-256) rather than start a proxy on half a config.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { decodeStoredConfig, partFilePath, storedHeader } from '../plan/stored-config';
import { ENDPOINTS_FILE } from '../render/render-cluster';

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

/**
 * Dynamic endpoints: the set mounted beside the boot config (`endpoints.txt`, rendered with it, ADR
 * 0035) becomes the live one in `confDir`, so NGINX's balancer (seeded from it at start) or HAProxy's
 * slots (the state file the agent writes from it) serve the backends before the core answers, instead
 * of 503. Stale at worst (as of the proxy service's last update); the core's set replaces it on connect.
 * Returns the mounted file's path when it was installed.
 */
export function installBootEndpoints(boot: string, confDir: string, log: Logger): string | undefined {
  const mounted = join(dirname(boot), ENDPOINTS_FILE);
  const live = join(confDir, ENDPOINTS_FILE);
  if (!existsSync(mounted) || existsSync(live)) return undefined;
  try {
    writeFileSync(live, readBootConfig(mounted));
    return mounted;
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err), endpoints: mounted }, 'could not read the boot endpoint set; backends answer 503 until the core is reached');
    return undefined;
  }
}
