/**
 * Source documents → decoded API objects plus located issues. Every document is checked and every
 * problem reported; duplicate Kind/name pairs across the whole input are rejected.
 */
import * as E from 'fp-ts/Either';
import { describeValue, formatPath } from '../domain/issue';
import { KINDS, objectKey, type Kind } from '../domain/meta';
import { decodeObject, type ApiObject } from '../domain/object';
import type { Rejected } from '../plan/inputs';
import type { LocatedIssue, SourcePosition } from './source-position';
import { MAX_ISSUES_PER_DOCUMENT, moreProblems, type SourceDocument } from './yaml-documents';

export interface DecodedDocument {
  readonly object: ApiObject;
  readonly position: SourcePosition;
}

export interface DecodeResult {
  readonly objects: DecodedDocument[];
  readonly issues: LocatedIssue[];
  /** Objects whose kind and name could be read but whose spec is invalid (for Invalid conditions). */
  readonly rejected: Rejected[];
}

function identity(value: unknown): { kind?: Kind; name?: string } {
  if (typeof value !== 'object' || value === null) return {};
  const rec = value as Record<string, unknown>;
  const kind = (KINDS as readonly unknown[]).includes(rec['kind']) ? (rec['kind'] as Kind) : undefined;
  const meta = rec['metadata'];
  const name = typeof meta === 'object' && meta !== null && typeof (meta as Record<string, unknown>)['name'] === 'string' ? ((meta as Record<string, unknown>)['name'] as string) : undefined;
  return { ...(kind !== undefined ? { kind } : {}), ...(name !== undefined ? { name } : {}) };
}

/**
 * The `Kind/name` label of an issue. The name may be the invalid value being reported: quote it when it
 * holds spaces or control characters, so it cannot break the line or drive the terminal.
 */
function label(kind: Kind, name: string): string {
  return objectKey(kind, /^[\x21-\x7e]{1,253}$/.test(name) ? name : describeValue(name));
}

export function decodeDocuments(docs: readonly SourceDocument[]): DecodeResult {
  const objects: DecodedDocument[] = [];
  const issues: LocatedIssue[] = [];
  const rejected: Rejected[] = [];
  const seen = new Map<string, SourcePosition>();
  for (const doc of docs) {
    const id = identity(doc.value);
    const shown = id.kind !== undefined && id.name !== undefined ? label(id.kind, id.name) : undefined;
    const result = decodeObject(doc.value);
    if (E.isLeft(result)) {
      // Each is located by a walk of its path through per-mapping key indexes; at most MAX_ISSUES_PER_DOCUMENT are listed.
      const obj = shown !== undefined ? { object: shown } : {};
      const listed: LocatedIssue[] = result.left.slice(0, MAX_ISSUES_PER_DOCUMENT).map((i) => ({ at: doc.locate(i.path), ...obj, path: formatPath(i.path), message: i.message }));
      issues.push(...listed);
      const more = result.left.length - listed.length;
      const last = listed[listed.length - 1];
      if (more > 0 && last !== undefined) issues.push({ at: last.at, ...obj, message: moreProblems(more), omitted: more });
      if (id.kind !== undefined && id.name !== undefined) rejected.push({ kind: id.kind, name: id.name, generation: 1, issues: result.left });
      continue;
    }
    const key = objectKey(result.right.kind, result.right.metadata.name);
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({
        at: doc.locate(['metadata', 'name']),
        object: key,
        path: 'metadata.name',
        message: `duplicate ${key} (first defined at ${first.file}:${first.line}:${first.col})`,
      });
      continue;
    }
    seen.set(key, doc.locate(['metadata', 'name']));
    objects.push({ object: result.right, position: doc.position });
  }
  return { objects, issues, rejected };
}
