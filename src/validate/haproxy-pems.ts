/**
 * HAProxy reads a certificate and its key from one combined PEM file, while a Route names two
 * Docker secrets: before a check (and a start or reload) the combined files the config reads are
 * built from the secrets mounted at secretsDir. The proxy agent does it with the task's real
 * secrets; validate-files.ts with throw-away ones inside its private root, through this same code,
 * so a config that names a secret the task does not mount fails the same way in both.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crtListOfConfig } from '../render/haproxy/crt-list';
import { ACME_PEM_SUBDIR, pemFilesOfConfig } from '../render/haproxy/pem-files';
import { ACME_DIR_IN_TASKS } from '../plan/acme-routes';
import { PASSED, type Validation } from './result';

/**
 * Build the combined PEM files `config` reads under `certDir` and its crt-list (crt-list.ts):
 * certificate secret, then key secret, mode 0600, written to a temporary name and renamed (a reader never sees half a file).
 * `root` (a private root, see sandbox.ts) prefixes every path read or written; messages name the
 * paths the proxy sees, never file contents.
 */
export function buildPemFiles(config: string, certDir: string, secretsDir: string, root = '', acmeDir: string = ACME_DIR_IN_TASKS): Validation {
  ensureMapFiles(config, root);
  const pems = pemFilesOfConfig(config, certDir);
  if (pems.length === 0) return PASSED;
  mkdirSync(join(root, certDir), { recursive: true, mode: 0o700 });
  const list = crtListOfConfig(config, certDir);
  if (list !== undefined) writeIfChanged(join(root, list.path), list.content, 0o600);
  for (const pem of pems) {
    const parts: string[] = [];
    for (const name of [pem.certSecret, pem.keySecret]) {
      // ACME pairs: the files the core delivered to the agent's ACME directory (ADR 0032).
      const path = join(pem.acme === true ? acmeDir : secretsDir, name);
      if (!existsSync(join(root, path)))
        return { ok: false, output: pem.acme === true ? `ACME file "${name}" is not in ${acmeDir} (the core delivers it with the config)` : `secret "${name}" is not mounted at ${path}; the proxy service must mount it (the core updates the service)` };
      const text = readFileSync(join(root, path), 'utf8');
      parts.push(text.endsWith('\n') ? text : `${text}\n`);
    }
    writeIfChanged(join(root, pem.path), parts.join(''), 0o600);
  }
  return PASSED;
}

/** Write through a temporary name and rename (a reader never sees half a file); nothing when the content is already there. */
function writeIfChanged(target: string, content: string, mode: number): void {
  if (existsSync(target) && readFileSync(target, 'utf8') === content) return;
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  const tmp = `${target}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, target);
}

/** Remove combined PEMs under `certDir` (and its ACME sub-directory) that `config` does not read (key material does not linger). */
export function pruneStalePemFiles(config: string, certDir: string): void {
  const keep = new Set(pemFilesOfConfig(config, certDir).map((p) => p.path));
  for (const dir of [certDir, join(certDir, ACME_PEM_SUBDIR)]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      const path = join(dir, f);
      if ((f.endsWith('.pem') || f.endsWith('.pem.tmp')) && !keep.has(path)) rmSync(path, { force: true });
    }
  }
}

/**
 * Map files the config reads (`map(<path>)`, the ACME HTTP-01 tokens, ADR 0032) must exist when
 * HAProxy loads it: an empty one is made when there is none (the agent fills it).
 */
function ensureMapFiles(config: string, root: string): void {
  for (const m of config.matchAll(/[ ,]map\((\/[A-Za-z0-9_./-]+\.map)\)/g)) {
    const path = join(root, m[1] ?? '');
    if (m[1] === undefined || existsSync(path)) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '', { mode: 0o644 });
  }
}
