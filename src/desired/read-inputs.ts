/**
 * Expand `-f` arguments (files, directories, "-" for stdin) into texts, refusing oversized files.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LocatedIssue } from './source-position';

/** Swarm configs hold at most 500 KiB; a spec file bigger than 1 MiB is a mistake or an attack. */
export const MAX_INPUT_BYTES = 1024 * 1024;
// Directories contribute their YAML files only, so a snapshot.json beside the specs is not read as a spec.
const SPEC_FILE = /\.ya?ml$/i;

export interface InputText {
  readonly file: string;
  readonly text: string;
}

/** `seen` holds the real paths of directories already read, so a symlink loop is read once, not 40 times. */
function expand(path: string, out: string[], issues: LocatedIssue[], seen: Set<string>): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    issues.push({ at: { file: path, line: 1, col: 1 }, message: 'no such file or directory' });
    return;
  }
  if (st.isDirectory()) {
    let entries: string[];
    try {
      const real = realpathSync(path);
      if (seen.has(real)) return;
      seen.add(real);
      entries = readdirSync(path).sort();
    } catch (e) {
      issues.push({ at: { file: path, line: 1, col: 1 }, message: `cannot read directory: ${errorCode(e)}` });
      return;
    }
    for (const entry of entries) {
      const child = join(path, entry);
      let isDir = false;
      try {
        isDir = statSync(child).isDirectory();
      } catch {
        // A dangling symlink: expand() below reports it instead of an uncaught ENOENT.
      }
      if (isDir || SPEC_FILE.test(entry)) expand(child, out, issues, seen);
    }
    return;
  }
  out.push(path);
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : (e as Error).message;
}

/**
 * Read at most `limit + 1` bytes. Pipes and devices report size 0, so only a bounded read keeps the cap
 * for `-f <(cmd)` or `-f /dev/zero`; a result longer than `limit` means "too big".
 */
function readBounded(file: string, limit: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= limit) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, limit + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

export function readInputs(paths: readonly string[], stdin: () => string = () => readFileSync(0, 'utf8')): { inputs: InputText[]; issues: LocatedIssue[] } {
  const files: string[] = [];
  const issues: LocatedIssue[] = [];
  const inputs: InputText[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    if (p === '-') {
      const text = stdin();
      if (Buffer.byteLength(text) > MAX_INPUT_BYTES) issues.push({ at: { file: '<stdin>', line: 1, col: 1 }, message: `input larger than ${MAX_INPUT_BYTES} bytes` });
      else inputs.push({ file: '<stdin>', text });
    } else expand(p, files, issues, seen);
  }
  for (const file of files) {
    let buf: Buffer;
    try {
      const st = statSync(file);
      if (st.size > MAX_INPUT_BYTES) {
        issues.push({ at: { file, line: 1, col: 1 }, message: `file is ${st.size} bytes; the limit is ${MAX_INPUT_BYTES}` });
        continue;
      }
      buf = st.isFile() ? readFileSync(file) : readBounded(file, MAX_INPUT_BYTES);
    } catch (e) {
      issues.push({ at: { file, line: 1, col: 1 }, message: `cannot read: ${errorCode(e)}` });
      continue;
    }
    if (buf.length > MAX_INPUT_BYTES) {
      issues.push({ at: { file, line: 1, col: 1 }, message: `input larger than ${MAX_INPUT_BYTES} bytes` });
      continue;
    }
    if (buf.includes(0)) {
      issues.push({ at: { file, line: 1, col: 1 }, message: 'not YAML: binary content (NUL byte)' });
      continue;
    }
    inputs.push({ file, text: buf.toString('utf8') });
  }
  return { inputs, issues };
}
