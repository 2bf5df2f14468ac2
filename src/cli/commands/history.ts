/**
 * `swarmgate history cluster NAME [-o json]` and `swarmgate rollback cluster NAME [--to-revision N]`
 * (docs/adr/0007-revisions-and-rollback.md). Rollback only records the request on the cluster's
 * stored spec config; the core delivers the revision and ends the rollback at the next apply.
 */
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import { objectKey } from '../../domain/meta';
import { DesiredStateReader, type StoredSpec } from '../../desired/spec-store';
import type { DockerPort } from '../../observed/docker-port';
import { isNotFound, isOutOfSequence } from '../../observed/docker-errors';
import { clusterRevisions, clusterRouteGenerations, revisionIdOf, rollbackOf, specsFingerprint, withRollback, type Revision } from '../../plan/revisions';
import { EXIT, type Output } from '../output';
import { age, formatTable } from '../table';
import { parseKind } from '../kind-words';

interface ClusterHistory {
  readonly revisions: Revision[];
  /** The revision the core delivers: the rolled-back one, else the newest. */
  readonly current?: number;
  readonly rollback?: number;
  readonly spec?: StoredSpec;
}

async function clusterHistory(port: DockerPort, name: string): Promise<ClusterHistory & { routes: { name: string; generation: number }[] }> {
  const [configs, { desired, stored }] = await Promise.all([
    port.listConfigs([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=proxy-config`, `${LABELS.cluster}=${name}`]),
    new DesiredStateReader(port).read(),
  ]);
  const revisions = clusterRevisions(configs, name);
  const spec = stored.get(objectKey('ServiceCluster', name));
  const request = rollbackOf(spec?.config);
  const routes = clusterRouteGenerations(desired, name);
  // A request the core has not cleared yet but that a later apply already ended.
  const rollback = request !== undefined && request.specs === specsFingerprint(routes) ? request.revision : undefined;
  const current = rollback ?? revisions[revisions.length - 1]?.revision;
  return { revisions, routes, ...(current !== undefined ? { current } : {}), ...(rollback !== undefined ? { rollback } : {}), ...(spec !== undefined ? { spec } : {}) };
}

function clusterArg(kind: string, io: Output): boolean {
  const k = kind.toLowerCase();
  if (k === 'cluster' || k === 'clusters' || parseKind(k) === 'ServiceCluster') return true;
  io.err(`unknown kind "${kind}": history and rollback work on a service cluster (cluster NAME)`);
  return false;
}

export async function runHistory(port: DockerPort, kind: string, name: string, output: string | undefined, io: Output, now: Date = new Date()): Promise<number> {
  if (!clusterArg(kind, io)) return EXIT.usage;
  const h = await clusterHistory(port, name);
  if (output === 'json') {
    io.out(
      JSON.stringify(
        {
          cluster: name,
          ...(h.current !== undefined ? { current: h.current } : {}),
          ...(h.rollback !== undefined ? { rolledBackTo: h.rollback } : {}),
          revisions: h.revisions.map((r) => ({ revision: r.revision, id: idOf(r), config: r.config.Spec.Name, created: r.config.CreatedAt ?? '', routes: r.routeCount, current: r.revision === h.current })),
        },
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  if (h.revisions.length === 0) {
    io.out(`No revisions for cluster "${name}" yet (the core creates one per generated proxy config).`);
    return EXIT.ok;
  }
  const rows = h.revisions.map((r) => [idOf(r), r.config.CreatedAt !== undefined ? `${age(r.config.CreatedAt, now)} ago` : '-', routesCell(r), r.revision === h.current ? '*' : '']);
  io.out(formatTable(['REVISION', 'CREATED', 'ROUTES', 'CURRENT'], rows));
  const rolledBack = h.revisions.find((r) => r.revision === h.rollback);
  if (h.rollback !== undefined) io.out(`cluster "${name}" is rolled back to ${rolledBack !== undefined ? idOf(rolledBack) : `rev ${h.rollback} (?)`} until the next apply of it or one of its routes`);
  return EXIT.ok;
}

/** `rev 7 (3f2a9c1b04de)`: the revision as every command shows it (the hash is the end of its Swarm config's name). */
function idOf(r: Revision): string {
  return revisionIdOf(r);
}

/** The route generations of a revision by name (`web@3, api@1 +2`), or their count when only their hash was stored. */
function routesCell(r: Revision): string {
  if (r.routes === undefined) return String(r.routeCount);
  const names = [...r.routes].sort();
  if (names.length === 0) return '-';
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} +${names.length - 3}`;
}

export async function runRollback(port: DockerPort, kind: string, name: string, toRevision: string | undefined, io: Output): Promise<number> {
  if (!clusterArg(kind, io)) return EXIT.usage;
  const target = toRevision === undefined ? undefined : Number(toRevision);
  if (target !== undefined && (!Number.isInteger(target) || target <= 0)) {
    io.err(`--to-revision must be a positive integer, got "${toRevision ?? ''}"`);
    return EXIT.usage;
  }
  const h = await clusterHistory(port, name);
  if (h.spec === undefined) {
    io.err(
      name === 'default'
        ? 'the implicit "default" cluster has no stored spec to record a rollback on; apply a ServiceCluster named "default" first'
        : `servicecluster "${name}" not found`,
    );
    return EXIT.invalid;
  }
  const known = h.revisions.map((r) => r.revision);
  const latest = known[known.length - 1];
  const chosen = target ?? [...known].reverse().find((r) => h.current !== undefined && r < h.current);
  if (chosen === undefined) {
    io.err(`cluster "${name}" has no revision before ${h.current ?? 'the current one'} to roll back to (swarmgate history cluster ${name})`);
    return EXIT.invalid;
  }
  if (!known.includes(chosen)) {
    io.err(`revision ${chosen} of cluster "${name}" not found; known revisions: ${known.join(', ') || 'none'} (swarmgate history cluster ${name})`);
    return EXIT.invalid;
  }
  const config = h.spec.config;
  // Rolling back to the newest revision is the same as no rollback.
  const request = chosen === latest ? undefined : { revision: chosen, specs: specsFingerprint(h.routes) };
  // Version-checked against the spec as read: an apply (its seal), a delete or the core writing in between wins.
  const raced = `servicecluster/${name}: conflict: its stored spec changed while the rollback was being written (an apply, a delete or the core); nothing was written — run rollback again`;
  if (h.spec.sealed !== undefined) {
    io.err(raced);
    return EXIT.conflict;
  }
  try {
    await port.updateConfigLabels(config.ID, config.Version.Index, { ...config.Spec, Labels: withRollback(config.Spec.Labels ?? {}, request) });
  } catch (e) {
    if (!(isOutOfSequence(e) || isNotFound(e))) throw e;
    io.err(raced);
    return EXIT.conflict;
  }
  const chosenRevision = h.revisions.find((r) => r.revision === chosen);
  const id = chosenRevision !== undefined ? idOf(chosenRevision) : `rev ${chosen} (?)`;
  io.out(request === undefined ? `servicecluster/${name} rollback cleared (${id} is the newest)` : `servicecluster/${name} rolled back to ${id}`);
  return EXIT.ok;
}
