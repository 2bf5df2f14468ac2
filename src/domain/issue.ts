/**
 * A problem found in user input: where (a field path) and what (expected vs found).
 * Decoders collect every issue instead of stopping at the first, so a user fixes a file in one pass.
 */
export type PathSegment = string | number;

export interface Issue {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

/** `spec.rules[0].backends[1].weight` — the notation users see in every error. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Short, single-line rendering of a found value for error messages. */
export function describeValue(u: unknown): string {
  if (u === undefined) return 'nothing';
  if (u === null) return 'null';
  if (Array.isArray(u)) return 'a list';
  if (typeof u === 'object') return 'a mapping';
  if (typeof u === 'string') {
    const shown = JSON.stringify(u.length > 60 ? `${u.slice(0, 57)}...` : u);
    return shown;
  }
  return String(u);
}

export function issue(path: readonly PathSegment[], message: string): Issue {
  return { path, message };
}
