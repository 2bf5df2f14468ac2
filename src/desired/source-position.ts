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
  /** On the line that stands for problems left unlisted ("and N more problems …"): N. */
  readonly omitted?: number;
}

/** `FILE:LINE:COL Kind/name spec.field: message` — one line, no stack trace. */
export function formatLocatedIssue(i: LocatedIssue): string {
  const where = `${i.at.file}:${i.at.line}:${i.at.col}`;
  const what = [i.object, i.path !== undefined && i.path !== '' ? `${i.path}:` : undefined].filter((x) => x !== undefined).join(' ');
  return `${where} ${what === '' ? '' : `${what} `}${i.message}`.replace(/[\r\n]+/g, ' ');
}

/** How many problems `issues` stand for: one each, and N for a line that counts N unlisted ones. */
export function problemCount(issues: readonly LocatedIssue[]): number {
  return issues.reduce((n, i) => n + (i.omitted ?? 1), 0);
}

/** Issues in reading order: files as given, then line and column (a stable sort keeps ties in place). */
export function sortByPosition(issues: readonly LocatedIssue[]): LocatedIssue[] {
  const fileOrder = new Map<string, number>();
  for (const i of issues) if (!fileOrder.has(i.at.file)) fileOrder.set(i.at.file, fileOrder.size);
  return [...issues].sort(
    (a, b) => (fileOrder.get(a.at.file) ?? 0) - (fileOrder.get(b.at.file) ?? 0) || a.at.line - b.at.line || a.at.col - b.at.col,
  );
}
