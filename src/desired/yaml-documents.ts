/**
 * Multi-document YAML (or JSON) text → plain values, each with a way to find the source position
 * of a field path. Guards against hostile input: alias expansion is capped (YAML bombs), duplicate
 * keys are errors, and parse errors become located issues instead of exceptions.
 */
import { isCollection, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Document, type Node } from 'yaml';
import type { PathSegment } from '../domain/issue';
import type { LocatedIssue, SourcePosition } from './source-position';

/** Aliases a single document may expand; legitimate specs need few, bombs need thousands. */
export const MAX_ALIAS_COUNT = 100;
export const MAX_DOCUMENTS_PER_FILE = 1000;

export interface SourceDocument {
  readonly file: string;
  readonly index: number;
  readonly value: unknown;
  readonly position: SourcePosition;
  locate(path: readonly PathSegment[]): SourcePosition;
}

export interface ParsedSource {
  readonly documents: SourceDocument[];
  readonly issues: LocatedIssue[];
}

function positionAt(file: string, counter: LineCounter, offset: number): SourcePosition {
  const { line, col } = counter.linePos(offset);
  return { file, line, col };
}

/** Walk the YAML node tree along `path` as far as it exists; return the deepest node's offset. */
function offsetOf(doc: Document, path: readonly PathSegment[]): number {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) === String(seg) : false));
      if (pair === undefined) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      offset = (item as Node).range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}

export function parseYamlDocuments(text: string, file: string): ParsedSource {
  const counter = new LineCounter();
  const issues: LocatedIssue[] = [];
  const documents: SourceDocument[] = [];
  let parsed: Document.Parsed[];
  try {
    // logLevel 'error': the library must not print warnings to the process's stderr behind our back.
    parsed = parseAllDocuments(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: false, strict: true, logLevel: 'error' }) as Document.Parsed[];
  } catch (e) {
    return { documents, issues: [{ at: { file, line: 1, col: 1 }, message: `not YAML: ${(e as Error).message}` }] };
  }
  if (!Array.isArray(parsed)) parsed = [parsed];
  // A comment-only input parses to no documents at all: likely a mistake, so say so instead of passing
  // silently. A blank input is "no specs" (render uses it for an empty desired state) and passes.
  if (parsed.length === 0 && text.trim() !== '')
    return { documents, issues: [{ at: { file, line: 1, col: 1 }, message: 'no documents: the input holds only comments' }] };
  if (parsed.length > MAX_DOCUMENTS_PER_FILE)
    return { documents, issues: [{ at: { file, line: 1, col: 1 }, message: `more than ${MAX_DOCUMENTS_PER_FILE} documents in one file` }] };
  parsed.forEach((doc, index) => {
    const start = (doc.contents as Node | null)?.range?.[0] ?? doc.range[0];
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        issues.push({ at: positionAt(file, counter, err.pos[0]), message: `invalid YAML: ${err.message.split('\n')[0] ?? err.code}` });
      }
      return;
    }
    // The parser gives an empty document (a lone trailing "---") a null scalar with no source text.
    const empty = doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null && doc.contents.source === '');
    if (empty) {
      // Not an object; say so instead of ignoring it, at the document's start (its "---").
      issues.push({ at: positionAt(file, counter, doc.range[0]), message: `document ${index + 1} is empty` });
      return;
    }
    // A list or mapping used as a key would be stringified (and reported at the wrong place).
    let complexKey: Node | undefined;
    visit(doc, {
      Pair: (_, pair) => {
        if (isCollection(pair.key)) {
          complexKey = pair.key;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    if (complexKey !== undefined) {
      issues.push({ at: positionAt(file, counter, complexKey.range?.[0] ?? start), message: 'invalid YAML: a mapping key must be a plain value, not a list or mapping' });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      // The library throws ReferenceError both for the alias cap and for an alias without its anchor.
      const bomb = e instanceof ReferenceError && /excessive alias count/i.test(e.message);
      const why = bomb ? `too many alias expansions (limit ${MAX_ALIAS_COUNT}); refusing a possible YAML bomb` : (e as Error).message;
      let at = start;
      if (!bomb) {
        // Point at the alias whose anchor is missing (or only defined after it).
        visit(doc, {
          Alias: (_, alias) => {
            if (alias.resolve(doc) !== undefined) return undefined;
            at = alias.range?.[0] ?? at;
            return visit.BREAK;
          },
        });
      }
      issues.push({ at: positionAt(file, counter, at), message: `invalid YAML: ${why}` });
      return;
    }
    documents.push({
      file,
      index,
      value,
      position: positionAt(file, counter, start),
      locate: (path) => positionAt(file, counter, offsetOf(doc, path)),
    });
  });
  return { documents, issues };
}
