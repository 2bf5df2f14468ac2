/**
 * How a rendered proxy config is stored as Swarm configs (ADR 0029). Swarm refuses config data of
 * MAX_SWARM_CONFIG_BYTES or more, and a cluster's config grows with its routes (≈ 1.3 KB per bench-mix
 * route), so a config that does not fit as it is is stored gzip-compressed, and one that does not fit
 * even compressed is split into parts, each its own Swarm config:
 *
 * - **plain**: the rendered text, as before (every config that fits: nothing changes for them, and
 *   NGINX's rolling delivery mounts it directly as nginx.conf);
 * - **gzip**: one header line `swarmgate/gzip sha256=<hex of the text> parts=<n>\n`, then the gzip
 *   stream of the text; with n > 1 the stream continues in parts 2..n, which carry raw stream bytes.
 *
 * Only a task that runs the agent can read the gzip form (the agent decodes it before NGINX/HAProxy
 * starts): hitless clusters and HAProxy (whose tasks always run the agent). The header names the
 * text's SHA-256, so a reader that got the wrong or a damaged part refuses it instead of starting a
 * proxy on it. Pure (fflate and @noble/hashes are plain JavaScript), so `diff` plans the same configs
 * the core writes; the same inputs give the same bytes (gzip mtime 0).
 */
import { gunzipSync, gzipSync } from 'fflate';
import { sha256Hex } from '../domain/sha256';
import { MAX_SWARM_CONFIG_BYTES } from './config-size';

export type StoredEncoding = 'plain' | 'gzip';

export interface StoredConfig {
  readonly encoding: StoredEncoding;
  /** The data of each Swarm config, in order (the first is the config the service mounts first). */
  readonly parts: readonly Uint8Array[];
}

const HEADER_PREFIX = 'swarmgate/gzip ';
const HEADER = /^swarmgate\/gzip sha256=([0-9a-f]{64}) parts=([1-9][0-9]{0,3})\n/;
/** Part numbers are written with up to 4 digits: 9,999 parts of 1 MB is far beyond what Swarm's Raft store holds anyway. */
export const MAX_PARTS = 9_999;
const utf8 = new TextEncoder();

/**
 * The Swarm configs' data for `rendered`: plain when its bytes fit under `limit`, else gzip in as many
 * parts as needed (each part's data smaller than `limit`).
 */
export function encodeStoredConfig(rendered: string, limit = MAX_SWARM_CONFIG_BYTES): StoredConfig {
  const text = utf8.encode(rendered);
  if (text.length < limit) return { encoding: 'plain', parts: [text] };
  // Level 3: half the time of level 6 at 10k routes (≈ 0.56 s against 1.05 s, loaded 2-core machine) for 7 % more bytes.
  const gz = gzipSync(text, { mtime: 0, level: 3 });
  const hash = sha256Hex(rendered);
  // The header's length depends on the part count, which depends on the header's length: the count's digits decide.
  for (let digits = 1; digits <= 4; digits++) {
    const headerBytes = HEADER_PREFIX.length + 'sha256='.length + 64 + ' parts='.length + digits + 1;
    const firstRoom = limit - 1 - headerBytes;
    if (firstRoom <= 0) throw new Error(`a Swarm config limit of ${limit} bytes leaves no room for data`);
    const n = gz.length <= firstRoom ? 1 : 1 + Math.ceil((gz.length - firstRoom) / (limit - 1));
    if (String(n).length !== digits) continue;
    if (n > MAX_PARTS) break;
    const header = utf8.encode(`${HEADER_PREFIX}sha256=${hash} parts=${n}\n`);
    const first = new Uint8Array(header.length + Math.min(firstRoom, gz.length));
    first.set(header, 0);
    first.set(gz.subarray(0, firstRoom), header.length);
    const parts: Uint8Array[] = [first];
    for (let at = firstRoom; at < gz.length; at += limit - 1) parts.push(gz.subarray(at, at + limit - 1));
    return { encoding: 'gzip', parts };
  }
  throw new Error(`the configuration is ${text.length} bytes (${gz.length} compressed): more than ${MAX_PARTS} Swarm configs`);
}

export interface StoredHeader {
  readonly sha256: string;
  readonly parts: number;
}

/** The gzip header of a stored config's first part; undefined for plain text. */
export function storedHeader(first: Uint8Array): StoredHeader | undefined {
  const head = new TextDecoder().decode(first.subarray(0, 120));
  if (!head.startsWith(HEADER_PREFIX)) return undefined;
  const m = HEADER.exec(head);
  if (m === null) throw new Error('a swarmgate/gzip config with a malformed header');
  return { sha256: m[1] ?? '', parts: Number(m[2]) };
}

/**
 * The rendered text back from a stored config's parts (the first part, then 2..n). Throws when a
 * part is missing, surplus or damaged: the decoded text must have the header's SHA-256.
 */
export function decodeStoredConfig(parts: readonly Uint8Array[]): string {
  const [first] = parts;
  if (first === undefined) throw new Error('no stored config data');
  const header = storedHeader(first);
  if (header === undefined) {
    if (parts.length !== 1) throw new Error(`a plain config stored in ${parts.length} parts`);
    return new TextDecoder().decode(first);
  }
  if (parts.length !== header.parts) throw new Error(`the config is stored in ${header.parts} parts, ${parts.length} found`);
  const headerLength = first.indexOf(0x0a) + 1;
  const total = parts.reduce((n, p, i) => n + p.length - (i === 0 ? headerLength : 0), 0);
  const gz = new Uint8Array(total);
  let at = 0;
  for (const [i, p] of parts.entries()) {
    const data = i === 0 ? p.subarray(headerLength) : p;
    gz.set(data, at);
    at += data.length;
  }
  let text: string;
  try {
    text = new TextDecoder().decode(gunzipSync(gz));
  } catch (e) {
    throw new Error(`the stored config does not decompress: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (sha256Hex(text) !== header.sha256) throw new Error('the stored config does not match its SHA-256: a part is missing, surplus or damaged');
  return text;
}

/**
 * The Swarm config name of part `k` (2..n) of the config named `main`. Collision-free by
 * construction: a main config's name ends in 12 hex digits (proxyConfigName), a part's in `-p<k>`,
 * so no part is named like a main config, and stripping `-p<k>` gives back its one main name.
 */
export function partConfigName(main: string, k: number): string {
  return `${main}-p${k}`;
}

/** The file part `k` (2..n) of a config mounted at `path` is mounted at: the reader finds the parts beside it. */
export function partFilePath(path: string, k: number, n: number): string {
  return `${path}.part${k}of${n}`;
}

/** The parts `k`/`n` a mounted file name stands for, for a config mounted at `base` (a file name, not a path). */
export function partOfFile(base: string, file: string): { readonly k: number; readonly n: number } | undefined {
  if (!file.startsWith(`${base}.part`)) return undefined;
  const m = /^([1-9][0-9]*)of([1-9][0-9]*)$/.exec(file.slice(base.length + '.part'.length));
  return m === null ? undefined : { k: Number(m[1]), n: Number(m[2]) };
}
