/** A snapshot from a JSON or YAML file (tests, `swarmgate render --snapshot`), decoded with located errors. */
import * as E from 'fp-ts/Either';
import { decode } from '../domain/codec';
import { formatPath } from '../domain/issue';
import { Snapshot } from '../domain/snapshot';
import { loadDocuments } from '../desired/load-specs';
import type { LocatedIssue } from '../desired/source-position';

export function loadSnapshotFile(path: string): E.Either<LocatedIssue[], Snapshot> {
  const { documents, issues } = loadDocuments([path]);
  if (issues.length > 0) return E.left(issues);
  const [doc, extra] = documents;
  if (doc === undefined || extra !== undefined)
    return E.left([{ at: { file: path, line: 1, col: 1 }, message: `expected exactly one snapshot document, got ${documents.length}` }]);
  const result = decode(Snapshot, doc.value);
  if (E.isRight(result)) return result;
  return E.left(result.left.map((i) => ({ at: doc.locate(i.path), object: 'Snapshot', path: formatPath(i.path), message: i.message })));
}
