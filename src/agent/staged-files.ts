/**
 * A delivered config's files on their way into the live config directory: written beside their
 * targets (`<file>.next`), moved into place, and moved back when the proxy refuses them at reload
 * (ADR 0037). NGINX reads its config at the path it was started with, so a config it is to load
 * on SIGHUP has to be in place first; if the master then refuses it, the previous files go back,
 * so a restart of the proxy (or the next boot from this directory) never starts on files that do
 * not load. The replaced files are kept as `<file>.prev` hard links until the outcome is known: no
 * moment without a file at the live path, and no copy of a large config.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ConfigFileData } from '../api/control-plane';
import type { Validation } from '../validate/result';
import { safeRelativePath } from '../validate/validate-files';

interface Staged {
  readonly next: string;
  readonly target: string;
  readonly prev: string;
  /** Whether a file was at `target` before commit() (else rollback() removes the new one). */
  replaced: boolean;
}

export class StagedFiles {
  private constructor(private readonly files: readonly Staged[]) {}

  /** Write every file beside its target; refuses a path outside `confDir` (nothing is moved yet). */
  static write(confDir: string, files: readonly ConfigFileData[]): StagedFiles | Validation {
    const staged: Staged[] = [];
    for (const f of files) {
      const rel = safeRelativePath(f.path);
      if (rel === undefined) return { ok: false, output: `refusing to write outside the config directory: ${JSON.stringify(f.path)}` };
      const target = join(confDir, rel);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(`${target}.next`, f.content);
      staged.push({ next: `${target}.next`, target, prev: `${target}.prev`, replaced: false });
    }
    return new StagedFiles(staged);
  }

  /** Move the files into place, keeping the ones they replace for rollback(). */
  commit(): void {
    for (const s of this.files) {
      rmSync(s.prev, { force: true });
      s.replaced = existsSync(s.target);
      if (s.replaced) keepAs(s.target, s.prev);
      renameSync(s.next, s.target);
    }
  }

  /** Put the replaced files back (and remove the ones that replaced nothing). */
  rollback(): void {
    for (const s of this.files) {
      if (s.replaced) renameSync(s.prev, s.target);
      else rmSync(s.target, { force: true });
    }
  }

  /** The new files stay: drop the kept ones. */
  discard(): void {
    for (const s of this.files) rmSync(s.prev, { force: true });
  }
}

/** A second name for `file` (a copy where the file system has no hard links). */
function keepAs(file: string, as: string): void {
  try {
    linkSync(file, as);
  } catch {
    copyFileSync(file, as);
  }
}
