/**
 * The agent's ACME directory (ADR 0013): the certificates and keys the core delivers for this
 * cluster's routes, and the HTTP-01 tokens NGINX answers as plain files. Certificates and keys are
 * written root:nogroup 0440: NGINX's workers load them at each full handshake (the shared TLS server,
 * ADR 0028), as they read worker secrets mounted the same way, and no one else in the task may; tokens
 * 0644 (workers serve them, they are public). Names come from the core but are still checked: plain
 * file names only, so nothing is written outside the directory.
 */
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AcmeChallengeData, ConfigFileData } from '../api/control-plane';
import { HTTP01_SUBDIR } from '../plan/acme-routes';
import { NGINX_WORKER_GID, WORKER_READABLE_MODE } from '../plan/proxy-runtime';

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** ACME tokens are base64url (RFC 8555 §8.1). */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * The directory: traversable but not listable by NGINX's workers (0711), who must reach http01/;
 * they open the keys in it by name (see above).
 */
function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  chmodSync(dir, 0o711);
}

/** Write every certificate file (atomically, each by rename); an error names the file, never its content. */
export function writeCertificates(dir: string, certificates: readonly ConfigFileData[]): { ok: true } | { ok: false; output: string } {
  if (certificates.length === 0) return { ok: true };
  ensureDir(dir);
  for (const c of certificates) {
    if (!FILE_NAME.test(c.path)) return { ok: false, output: `refusing certificate file name ${JSON.stringify(c.path)}` };
    const target = join(dir, c.path);
    writeFileSync(`${target}.next`, c.content, { mode: WORKER_READABLE_MODE });
    giveToWorkers(`${target}.next`);
    renameSync(`${target}.next`, target);
  }
  return { ok: true };
}

/**
 * The workers' group on the file. The agent runs as root in a proxy task; an agent run by another
 * user (a developer's test) starts NGINX as that user too, whose workers read the file as its owner.
 */
function giveToWorkers(path: string): void {
  if (process.getuid?.() === 0) chownSync(path, 0, NGINX_WORKER_GID);
}

/** Whether every certificate file in `dir` already holds exactly this content (nothing to write, nothing to reload for). */
export function sameCertificates(dir: string, certificates: readonly ConfigFileData[]): boolean {
  return certificates.every((c) => {
    try {
      return FILE_NAME.test(c.path) && readFileSync(join(dir, c.path)).equals(c.content);
    } catch {
      return false;
    }
  });
}

/** Make the token directory hold exactly these tokens; returns how many were written and removed. */
export function syncChallenges(dir: string, challenges: readonly AcmeChallengeData[]): { written: number; removed: number } {
  ensureDir(dir);
  const tokenDir = join(dir, HTTP01_SUBDIR);
  mkdirSync(tokenDir, { recursive: true, mode: 0o755 });
  chmodSync(tokenDir, 0o755);
  const wanted = new Map(challenges.filter((c) => TOKEN.test(c.token)).map((c) => [c.token, c.keyAuthorization]));
  let removed = 0;
  for (const f of readdirSync(tokenDir)) {
    if (wanted.has(f)) continue;
    rmSync(join(tokenDir, f), { force: true });
    removed++;
  }
  for (const [token, text] of wanted) {
    const target = join(tokenDir, token);
    writeFileSync(`${target}.next`, text, { mode: 0o644 });
    renameSync(`${target}.next`, target);
  }
  return { written: wanted.size, removed };
}
