/** A place in an input file, 1-based like editors show it. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** A problem found in an input file: where, which object (when known), which field, what. */
export interface LocatedIssue {
  readonly at: SourcePosition;
  readonly object?: string;
  readonly path?: string;
  readonly message: string;
}

/** `FILE:LINE:COL Kind/name spec.field: message` — one line, no stack trace. */
export function formatLocatedIssue(i: LocatedIssue): string {
  const where = `${i.at.file}:${i.at.line}:${i.at.col}`;
  const what = [i.object, i.path !== undefined && i.path !== '' ? `${i.path}:` : undefined].filter((x) => x !== undefined).join(' ');
  return `${where} ${what === '' ? '' : `${what} `}${i.message}`.replace(/[\r\n]+/g, ' ');
}
