/**
 * `swarmgate apply -f PATH...`: validate everything first (any problem ⇒ exit 1, nothing written),
 * then store each object as a Swarm config generation. Output is kubectl's: `route/shop created`.
 * Ctrl-C stops between objects and prints what was stored and what was not (exit 130).
 */
import { loadSpecs } from '../../desired/load-specs';
import { formatLocatedIssue, problemCount, sortByPosition } from '../../desired/source-position';
import { isConflict } from '../../desired/conflict';
import { applyObjectChecked, deleteObjectChecked } from '../../desired/spec-store';
import type { Kind } from '../../domain/meta';
import { KINDS } from '../../domain/meta';
import type { DockerPort } from '../../observed/docker-port';
import { EXIT, type Output } from '../output';
import { coreAbsenceWarning, corePresence } from '../core-presence';

export function resourceName(kind: Kind): string {
  return kind.toLowerCase();
}

export async function runApply(port: DockerPort, paths: readonly string[], io: Output, signal?: AbortSignal): Promise<number> {
  const { objects, issues } = loadSpecs(paths);
  if (issues.length > 0 || objects.length === 0) {
    for (const i of sortByPosition(issues)) io.err(formatLocatedIssue(i));
    const n = problemCount(issues);
    io.err(objects.length === 0 && issues.length === 0 ? 'no objects found in the input; nothing applied' : `${n} problem${n === 1 ? '' : 's'} found; nothing applied`);
    return EXIT.invalid;
  }
  // Each object is stored on its own: a conflict on one (another writer won it) does not stop the others.
  // Ctrl-C stops before the next object, never inside one (a generation is sealed, stored, then the old one
  // removed): the user learns exactly what was stored and what was not.
  let conflicts = 0;
  const stored: string[] = [];
  for (const [i, { object }] of objects.entries()) {
    const ref = `${resourceName(object.kind)}/${object.metadata.name}`;
    if (signal?.aborted === true) {
      const rest = objects.slice(i).map((o) => `${resourceName(o.object.kind)}/${o.object.metadata.name}`);
      io.err(`interrupted: ${stored.length} of ${objects.length} object${objects.length === 1 ? '' : 's'} stored${stored.length > 0 ? ` (${stored.join(', ')})` : ''}; not stored: ${rest.join(', ')}`);
      return EXIT.interrupted;
    }
    try {
      const { result } = await applyObjectChecked(port, object);
      io.out(`${ref} ${result}`);
      stored.push(ref);
    } catch (e) {
      if (!isConflict(e)) throw e;
      io.err(e.message);
      conflicts++;
    }
  }
  const warning = coreAbsenceWarning(await corePresence(port), 'nothing acts on these specs until one runs');
  if (warning !== undefined) io.err(warning);
  return conflicts > 0 ? EXIT.conflict : EXIT.ok;
}

/** `delete route NAME...` or `delete -f PATH...`. */
export async function runDelete(port: DockerPort, target: { kind?: string; names?: readonly string[]; paths?: readonly string[] }, io: Output): Promise<number> {
  const refs: { kind: Kind; name: string }[] = [];
  if (target.paths !== undefined && target.paths.length > 0) {
    const { objects, issues } = loadSpecs(target.paths);
    if (issues.length > 0) {
      for (const i of sortByPosition(issues)) io.err(formatLocatedIssue(i));
      return EXIT.invalid;
    }
    refs.push(...objects.map((o) => ({ kind: o.object.kind, name: o.object.metadata.name })));
  } else {
    const kind = parseKind(target.kind ?? '');
    if (kind === undefined) {
      io.err(`unknown resource type "${target.kind ?? ''}"; use route or servicecluster`);
      return EXIT.usage;
    }
    refs.push(...(target.names ?? []).map((name) => ({ kind, name })));
  }
  let missing = 0;
  let conflicts = 0;
  for (const r of refs) {
    try {
      if ((await deleteObjectChecked(port, r.kind, r.name)) === 'deleted') io.out(`${resourceName(r.kind)}/${r.name} deleted`);
      else {
        io.err(`${resourceName(r.kind)}/${r.name} not found`);
        missing++;
      }
    } catch (e) {
      if (!isConflict(e)) throw e;
      io.err(e.message);
      conflicts++;
    }
  }
  return conflicts > 0 ? EXIT.conflict : missing > 0 ? EXIT.invalid : EXIT.ok;
}

/** route, routes, servicecluster(s), sc, middleware(s), mw — as kubectl accepts singular, plural and short names. */
export function parseKind(word: string): Kind | undefined {
  const w = word.toLowerCase();
  if (['route', 'routes', 'rt'].includes(w)) return 'Route';
  if (['servicecluster', 'serviceclusters', 'sc'].includes(w)) return 'ServiceCluster';
  if (['middleware', 'middlewares', 'mw'].includes(w)) return 'Middleware';
  if (['issuer', 'issuers'].includes(w)) return 'Issuer';
  return KINDS.find((k) => k.toLowerCase() === w);
}
