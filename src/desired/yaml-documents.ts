/**
 * Multi-document YAML (or JSON) text → plain values, each with a way to find the source position
 * of a field path. Guards against hostile input: alias expansion is capped (YAML bombs), duplicate
 * keys are errors, and parse errors become located issues instead of exceptions.
 *
 * Every step is linear in the input (a 1 MiB file of any shape is read in about a second): document
 * count and flow nesting are checked on the raw text before parsing, duplicate keys are found with a
 * Set per mapping (the library's own `uniqueKeys` check compares each key with every earlier one), a
 * field path is located through a per-mapping key index, and at most MAX_ISSUES_PER_DOCUMENT problems
 * of one document are reported.
 */
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { PathSegment } from '../domain/issue';
import { sortByPosition, type LocatedIssue, type SourcePosition } from './source-position';

/** Aliases a single document may expand; legitimate specs need few, bombs need thousands. */
export const MAX_ALIAS_COUNT = 100;
export const MAX_DOCUMENTS_PER_FILE = 1000;
/** Nesting of mappings and lists; a spec needs about 8 levels, and the parser overflows its stack near 1000. */
export const MAX_NESTING_DEPTH = 100;
/** Problems reported per document; the rest are counted in one last line ("and N more problems"). */
export const MAX_ISSUES_PER_DOCUMENT = 100;

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

/** Key → pair of one mapping, built on the first lookup: locating N problems costs N × depth, not N × size. */
const keyIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  let index = keyIndexes.get(map);
  if (index === undefined) {
    index = new Map();
    for (const p of map.items) {
      // The first of equal keys, as a linear search finds it (documents with duplicate keys are rejected anyway).
      if (isScalar(p.key) && !index.has(String(p.key.value))) index.set(String(p.key.value), p);
    }
    keyIndexes.set(map, index);
  }
  return index.get(key);
}

/** Walk the YAML node tree along `path` as far as it exists; return the deepest node's offset. */
function offsetOf(doc: Document, path: readonly PathSegment[]): number {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = pairOf(node, String(seg));
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

/**
 * Lines starting a document ("---" alone or before content). Every one starts a document (a "---" at
 * the start of a line is a marker even inside a quoted scalar), so more of them than the limit means
 * more documents: refused before the parser spends a second on them.
 */
function documentMarkers(text: string): number {
  let n = text.startsWith('---') && /^---(?:[ \t\r\n]|$)/.test(text) ? 1 : 0;
  for (let i = text.indexOf('\n---'); i !== -1; i = text.indexOf('\n---', i + 4)) {
    const next = text[i + 4];
    if (next === undefined || next === ' ' || next === '\t' || next === '\r' || next === '\n') n++;
  }
  return n;
}

/** Characters after which a node (a quoted scalar or a flow collection) can start; inside a flow collection also "[", "{" and ",". */
const NODE_START_AFTER = new Set([undefined, ' ', '\t', '\r', '\n', ':', '-', '?']);
const FLOW_NODE_START_AFTER = new Set([...NODE_START_AFTER, '[', '{', ',']);

/**
 * The offset where flow collections ([...] and {...}) first nest deeper than `max`, or -1. A cheap scan
 * of the raw text (quoted scalars and comments skipped; a bracket counts only where a flow collection can
 * start): the parser would otherwise spend seconds on a 1 MiB "[[[[..." before overflowing its stack.
 */
function flowTooDeep(text: string, max: number): number {
  let depth = 0;
  let quote: string | undefined;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (comment) {
      if (ch === '\n') comment = false;
      continue;
    }
    if (quote !== undefined) {
      if (quote === '"' && ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    const prev = text[i - 1];
    if (ch === '#' && (prev === undefined || prev === ' ' || prev === '\t' || prev === '\n')) comment = true;
    else if ((ch === '"' || ch === "'") && (depth > 0 ? FLOW_NODE_START_AFTER : NODE_START_AFTER).has(prev)) quote = ch;
    // Inside a flow collection "[" and "{" always open one (plain scalars there cannot hold them).
    else if ((ch === '[' || ch === '{') && (depth > 0 || NODE_START_AFTER.has(prev))) {
      if (++depth > max) return i;
    } else if ((ch === ']' || ch === '}') && depth > 0) depth--;
  }
  return -1;
}

/**
 * The offset of the first line whose indentation is nested deeper than `max` block levels, or -1: each line
 * indented more than the one before opens a level until a line indented as little or less closes it.
 * (A deeper block structure costs the parser seconds, then overflows its stack.)
 */
function blockTooDeep(text: string, max: number): number {
  const open: number[] = [];
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf('\n', start);
    const stop = end === -1 ? text.length : end;
    let i = start;
    while (i < stop && text[i] === ' ') i++;
    if (i < stop && text[i] !== '#' && text[i] !== '\r') {
      const indent = i - start;
      while (open.length > 0 && (open[open.length - 1] as number) >= indent) open.pop();
      open.push(indent);
      if (open.length > max) return i;
    }
    start = stop + 1;
  }
  return -1;
}

interface TreeProblems {
  /** Offsets of keys equal to an earlier key of the same mapping (what the library's `uniqueKeys` reports). */
  readonly duplicates: number[];
  readonly complexKey?: Node;
  /** Offset of the first node nested deeper than MAX_NESTING_DEPTH. */
  readonly tooDeep?: number;
}

/** Same key as the library's `uniqueKeys: true`: scalars by value (`===`), other nodes by identity. */
function keyOf(key: unknown): unknown {
  return isScalar(key) ? key.value : key;
}

/** One pass over the node tree with an explicit stack (no recursion, so deep input cannot overflow it). */
function treeProblems(doc: Document): TreeProblems {
  const duplicates: number[] = [];
  let complexKey: Node | undefined;
  let tooDeep: number | undefined;
  const stack: [unknown, number][] = [[doc.contents, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (!isCollection(node)) continue;
    if (depth > MAX_NESTING_DEPTH) {
      tooDeep ??= node.range?.[0] ?? 0;
      continue;
    }
    const children: unknown[] = [];
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (isCollection(pair.key)) complexKey ??= pair.key;
        const k = keyOf(pair.key);
        // NaN is never === itself, so the library never finds it twice; a Set would.
        if (seen.has(k) && !(typeof k === 'number' && Number.isNaN(k))) duplicates.push((pair.key as Node | null)?.range?.[0] ?? node.range?.[0] ?? 0);
        else seen.add(k);
        children.push(pair.value);
      }
    } else {
      for (const item of node.items) children.push(isPair(item) ? item.value : item);
    }
    for (let i = children.length - 1; i >= 0; i--) if (!isAlias(children[i])) stack.push([children[i], depth + 1]);
  }
  return { duplicates, ...(complexKey !== undefined ? { complexKey } : {}), ...(tooDeep !== undefined ? { tooDeep } : {}) };
}

/** The line that stands for the problems of a document beyond MAX_ISSUES_PER_DOCUMENT. */
export function moreProblems(n: number): string {
  return `and ${n} more problem${n === 1 ? '' : 's'} in this document (not listed)`;
}

/** At most MAX_ISSUES_PER_DOCUMENT issues, then one saying how many more there were. */
function capIssues(issues: readonly LocatedIssue[]): LocatedIssue[] {
  const shown = issues.slice(0, MAX_ISSUES_PER_DOCUMENT);
  const last = shown[shown.length - 1];
  const omitted = issues.length - shown.length;
  return omitted > 0 && last !== undefined ? [...shown, { at: last.at, message: moreProblems(omitted), omitted }] : shown;
}

export function parseYamlDocuments(text: string, file: string): ParsedSource {
  const counter = new LineCounter();
  const issues: LocatedIssue[] = [];
  const documents: SourceDocument[] = [];
  if (documentMarkers(text) > MAX_DOCUMENTS_PER_FILE)
    return { documents, issues: [{ at: { file, line: 1, col: 1 }, message: `more than ${MAX_DOCUMENTS_PER_FILE} documents in one file` }] };
  const flowDeep = flowTooDeep(text, MAX_NESTING_DEPTH);
  const deep = flowDeep !== -1 ? flowDeep : blockTooDeep(text, MAX_NESTING_DEPTH);
  if (deep !== -1) {
    const before = text.slice(0, deep);
    const line = before.split('\n').length;
    return { documents, issues: [{ at: { file, line, col: deep - before.lastIndexOf('\n') }, message: `invalid YAML: nested deeper than ${MAX_NESTING_DEPTH} levels` }] };
  }
  let parsed: Document.Parsed[];
  try {
    // logLevel 'error': the library must not print warnings to the process's stderr behind our back.
    // uniqueKeys false: its check is quadratic in the keys of a mapping; treeProblems finds duplicates in linear time.
    parsed = parseAllDocuments(text, { lineCounter: counter, uniqueKeys: false, prettyErrors: false, strict: true, logLevel: 'error' }) as Document.Parsed[];
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
    const tree = treeProblems(doc);
    if (doc.errors.length > 0 || tree.duplicates.length > 0) {
      const found: LocatedIssue[] = doc.errors.map((err) => ({ at: positionAt(file, counter, err.pos[0]), message: `invalid YAML: ${err.message.split('\n')[0] ?? err.code}` }));
      for (const offset of tree.duplicates) found.push({ at: positionAt(file, counter, offset), message: 'invalid YAML: Map keys must be unique' });
      issues.push(...capIssues(sortByPosition(found)));
      return;
    }
    // The parser gives an empty document (a lone trailing "---") a null scalar with no source text.
    const empty = doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null && doc.contents.source === '');
    if (empty) {
      // Not an object; say so instead of ignoring it, at the document's start (its "---").
      issues.push({ at: positionAt(file, counter, doc.range[0]), message: `document ${index + 1} is empty` });
      return;
    }
    if (tree.tooDeep !== undefined) {
      issues.push({ at: positionAt(file, counter, tree.tooDeep), message: `invalid YAML: nested deeper than ${MAX_NESTING_DEPTH} levels` });
      return;
    }
    // A list or mapping used as a key would be stringified (and reported at the wrong place).
    const complexKey = tree.complexKey;
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
