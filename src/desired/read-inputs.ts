/**
 * Expand `-f` arguments (files, directories, "-" for stdin) into texts, refusing oversized files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
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

function expand(path: string, out: string[], issues: LocatedIssue[]): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    issues.push({ at: { file: path, line: 1, col: 1 }, message: 'no such file or directory' });
    return;
  }
  if (st.isDirectory()) {
    const entries = readdirSync(path).sort();
    for (const entry of entries) {
      const child = join(path, entry);
      const cst = statSync(child);
      if (cst.isDirectory() || SPEC_FILE.test(entry)) expand(child, out, issues);
    }
    return;
  }
  out.push(path);
}

export function readInputs(paths: readonly string[], stdin: () => string = () => readFileSync(0, 'utf8')): { inputs: InputText[]; issues: LocatedIssue[] } {
  const files: string[] = [];
  const issues: LocatedIssue[] = [];
  const inputs: InputText[] = [];
  for (const p of paths) {
    if (p === '-') {
      const text = stdin();
      if (Buffer.byteLength(text) > MAX_INPUT_BYTES) issues.push({ at: { file: '<stdin>', line: 1, col: 1 }, message: `input larger than ${MAX_INPUT_BYTES} bytes` });
      else inputs.push({ file: '<stdin>', text });
    } else expand(p, files, issues);
  }
  for (const file of files) {
    const size = statSync(file).size;
    if (size > MAX_INPUT_BYTES) {
      issues.push({ at: { file, line: 1, col: 1 }, message: `file is ${size} bytes; the limit is ${MAX_INPUT_BYTES}` });
      continue;
    }
    const buf = readFileSync(file);
    if (buf.includes(0)) {
      issues.push({ at: { file, line: 1, col: 1 }, message: 'not YAML: binary content (NUL byte)' });
      continue;
    }
    inputs.push({ file, text: buf.toString('utf8') });
  }
  return { inputs, issues };
}
