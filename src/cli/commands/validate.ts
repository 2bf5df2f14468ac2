/** `swarmgate validate -f PATH...`: exit 0 when every object is valid, else 1 and one line per problem. */
import { loadSpecs } from '../../desired/load-specs';
import { formatLocatedIssue } from '../../desired/source-position';
import { EXIT, type Output } from '../output';

export function runValidate(paths: readonly string[], io: Output, stdin?: () => string): number {
  const { objects, issues } = loadSpecs(paths, stdin);
  for (const i of issues) io.err(formatLocatedIssue(i));
  if (issues.length > 0) {
    io.err(`${issues.length} problem${issues.length === 1 ? '' : 's'} found`);
    return EXIT.invalid;
  }
  for (const o of objects) io.out(`${o.object.kind}/${o.object.metadata.name} valid`);
  return EXIT.ok;
}
