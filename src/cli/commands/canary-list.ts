/**
 * `swarmgate canary list`: every Route with `spec.canary`, one line each (kubectl argo rollouts
 * list): strategy, the stable and the new backend, the rollout's phase and weight, its Rollout
 * condition and age. Exit 0 (also with none; it says so).
 */
import { rolloutNew, rolloutStable } from '../../domain/canary';
import type { DockerPort } from '../../observed/docker-port';
import { conditionCell } from '../../status/object-status';
import { EXIT, type Output } from '../output';
import { age, formatTable } from '../table';
import { listObjects, rolloutCell } from './get';

export async function runCanaryList(port: DockerPort, io: Output, now: Date = new Date()): Promise<number> {
  const rows = (await listObjects(port, 'Route')).flatMap((l) => {
    const spec = l.object?.kind === 'Route' ? l.object.spec : undefined;
    const canary = spec?.canary;
    if (spec === undefined || canary === undefined) return [];
    const backend = (b: ReturnType<typeof rolloutStable>): string => (b === undefined ? '-' : `${b.service}:${b.port}`);
    return [[l.name, spec.serviceCluster, canary.strategy, backend(rolloutStable(canary)), backend(rolloutNew(canary)), rolloutCell(l), conditionCell(l.status, l.generation, 'Rollout'), age(l.createdAt, now)]];
  });
  io.out(rows.length === 0 ? 'No routes with spec.canary found.' : formatTable(['NAME', 'CLUSTER', 'STRATEGY', 'STABLE', 'NEW', 'STATUS', 'ROLLOUT', 'AGE'], rows));
  return EXIT.ok;
}
