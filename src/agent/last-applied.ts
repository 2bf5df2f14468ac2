/**
 * The last config an agent of this cluster applied on this node, kept on the node (issue 18, "boot
 * config never stale"; ADR 0018). Hitless proxy tasks mount a named volume per cluster (Docker
 * creates it on each node on first use; PROXY_RUNTIME[kind].lastAppliedDir); after every apply the
 * agent writes the live files there, with their hash, the time and the hash of the boot config the
 * task had mounted. A task that starts while the core does not answer (agent-boot.ts) starts on it
 * instead of the mounted boot config, which is only as new as the proxy service's last update
 * (with hitless delivery routes change without one: the mounted config was revision 2 of 38 in a
 * drill). Only when the mounted boot config is the same as the writer's: a different one means
 * the service was updated after the writer's task started, so the mounted one is at least as new.
 * The files hold no secret (certificates are Docker secrets; HAProxy's PEMs are built per task).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configFilesHash, type ConfigFileData } from '../api/control-plane';
import { readBootConfig } from './boot-config-file';

export interface LastApplied {
  readonly hash: string;
  readonly appliedAt: number;
  readonly files: readonly ConfigFileData[];
}

interface Record {
  readonly kind: string;
  readonly hash: string;
  /** configFilesHash of the files alone: `hash` (the delivery's) also covers ACME certificates, which are not kept here. */
  readonly filesHash?: string;
  readonly appliedAt: number;
  readonly bootHash: string;
  readonly files: readonly { readonly path: string; readonly content: string }[];
}

/**
 * sha256 of the text of the first boot config file that exists ('' when none): which mounted config a
 * task had, however it is stored (a compressed one hashes as its text); 'unreadable' for one whose
 * parts are missing or damaged (the agent then refuses to start on it).
 */
export function bootConfigHash(bootConfigs: readonly string[]): string {
  const path = bootConfigs.find((p) => existsSync(p));
  if (path === undefined) return '';
  try {
    return createHash('sha256').update(readBootConfig(path)).digest('hex');
  } catch {
    return 'unreadable';
  }
}

function recordPath(dir: string, kind: string): string {
  return join(dir, `${kind}.json`);
}

/** Keep `files` as the node's last applied config of `kind` (one file, replaced atomically: replicas on one node may write at once). */
export function saveLastApplied(dir: string, kind: string, bootHash: string, applied: LastApplied): void {
  const path = recordPath(dir, kind);
  mkdirSync(dirname(path), { recursive: true });
  const r: Record = { kind, hash: applied.hash, filesHash: configFilesHash(applied.files), appliedAt: applied.appliedAt, bootHash, files: applied.files.map((f) => ({ path: f.path, content: f.content.toString('base64') })) };
  const tmp = `${path}.${process.pid}.next`;
  try {
    writeFileSync(tmp, JSON.stringify(r));
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * The node's last applied config of `kind`, when it is newer than the task's mounted boot config
 * (same boot config as its writer, see above) and intact (its files match its hash); else undefined.
 */
export function loadLastApplied(dir: string, kind: string, bootHash: string): LastApplied | undefined {
  let r: Partial<Record>;
  try {
    r = JSON.parse(readFileSync(recordPath(dir, kind), 'utf8')) as Partial<Record>;
  } catch {
    return undefined;
  }
  if (r.kind !== kind || r.bootHash !== bootHash || typeof r.hash !== 'string' || typeof r.appliedAt !== 'number' || !Array.isArray(r.files)) return undefined;
  const files = r.files.map((f) => ({ path: String(f.path), content: Buffer.from(String(f.content), 'base64') }));
  const filesHash = configFilesHash(files);
  if (filesHash !== (r.filesHash ?? r.hash)) return undefined;
  // The hash of the files alone: with ACME certificates it differs from the delivery's, so the core's
  // delivery of the same config is applied (its current certificates replace the restored copies).
  return { hash: filesHash, appliedAt: r.appliedAt, files };
}
