/** `swarmgate validate -f PATH...`: exit 0 when every object is valid, else 1 and one line per problem. */
import { loadSpecs } from '../../desired/load-specs';
import { formatLocatedIssue, problemCount, sortByPosition } from '../../desired/source-position';
import { EXIT, type Output } from '../output';

export function runValidate(paths: readonly string[], io: Output, stdin?: () => string): number {
  const loaded = loadSpecs(paths, stdin);
  const { objects } = loaded;
  const issues = objects.length === 0 && loaded.issues.length === 0 ? [{ at: { file: paths.join(' '), line: 1, col: 1 }, message: 'no objects found in the input' }] : sortByPosition(loaded.issues);
  for (const i of issues) io.err(formatLocatedIssue(i));
  if (issues.length > 0) {
    const n = problemCount(issues);
    io.err(`${n} problem${n === 1 ? '' : 's'} found`);
    return EXIT.invalid;
  }
  for (const o of objects) io.out(`${o.object.kind}/${o.object.metadata.name} valid`);
  return EXIT.ok;
}
