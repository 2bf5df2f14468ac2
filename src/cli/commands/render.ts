/**
 * `swarmgate render -f PATH... --snapshot FILE [--cluster NAME] [--out DIR] [-o json]`:
 * show exactly what a proxy would run for these specs against this Swarm state.
 * Invalid objects are reported on stderr and left out (as the core does); the exit code is then 1.
 */
import * as E from 'fp-ts/Either';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMPTY_SNAPSHOT, type Snapshot } from '../../domain/snapshot';
import { loadSpecs } from '../../desired/load-specs';
import { formatLocatedIssue } from '../../desired/source-position';
import { loadSnapshotFile } from '../snapshot-file';
import { desiredConfig } from '../../plan/pipeline';
import { EXIT, type Output } from '../output';

export interface RenderFlags {
  readonly file: readonly string[];
  readonly snapshot?: string;
  readonly cluster?: string;
  readonly out?: string;
  readonly output?: string;
}

export function runRender(flags: RenderFlags, io: Output): number {
  if (flags.output !== undefined && flags.output !== 'json') {
    io.err(`-o: expected "json", got ${JSON.stringify(flags.output)}`);
    return EXIT.usage;
  }
  let snapshot: Snapshot = EMPTY_SNAPSHOT;
  if (flags.snapshot !== undefined) {
    const s = loadSnapshotFile(flags.snapshot);
    if (E.isLeft(s)) {
      for (const i of s.left) io.err(formatLocatedIssue(i));
      return EXIT.invalid;
    }
    snapshot = s.right;
  }
  const { desired, issues } = loadSpecs(flags.file);
  for (const i of issues) io.err(formatLocatedIssue(i));
  // The core's pipeline: services of the snapshot with com.docker.lb.* labels are routed too. Files carry no
  // rollout state, so a Route with spec.canary renders at 100 % stable (where every rollout starts).
  const { result, clusters } = desiredConfig({ specs: desired, snapshot });
  const wanted = flags.cluster === undefined ? clusters : clusters.filter((c) => c.model.cluster === flags.cluster);
  if (wanted.length === 0) {
    io.err(`service cluster "${flags.cluster ?? ''}" not found; known: ${result.clusters.map((c) => c.cluster).join(', ')}`);
    return EXIT.invalid;
  }
  // nginx.conf or haproxy.cfg, by each cluster's proxy.kind.
  const rendered = wanted.map(({ model, files }) => ({ cluster: model.cluster, routes: model.routes, kind: model.spec.proxy.kind, main: files?.main ?? '', files: files?.files ?? [] }));
  if (flags.out !== undefined) {
    for (const r of rendered) {
      const dir = join(flags.out, r.cluster);
      mkdirSync(dir, { recursive: true });
      for (const f of r.files) {
        writeFileSync(join(dir, f.path), f.content);
        io.err(`wrote ${join(dir, f.path)}`);
      }
    }
    writeFileSync(join(flags.out, 'conditions.json'), `${JSON.stringify(result.conditions, null, 2)}\n`);
    io.err(`wrote ${join(flags.out, 'conditions.json')}`);
    if (result.labelRoutes !== undefined) {
      writeFileSync(join(flags.out, 'label-routes.json'), `${JSON.stringify(result.labelRoutes, null, 2)}\n`);
      io.err(`wrote ${join(flags.out, 'label-routes.json')}`);
    }
  } else if (flags.output === 'json') {
    io.out(
      JSON.stringify(
        {
          clusters: rendered.map((r) => ({ name: r.cluster, routes: r.routes, files: Object.fromEntries(r.files.map((f) => [f.path, f.content])) })),
          conditions: result.conditions,
          ...(result.labelRoutes !== undefined ? { labelRoutes: result.labelRoutes } : {}),
        },
        null,
        2,
      ),
    );
  } else {
    // Without --cluster, print the default cluster's config: one config on stdout is what a user can pipe.
    const one = flags.cluster === undefined ? (rendered.find((r) => r.cluster === 'default') ?? rendered[0]) : rendered[0];
    const main = one?.files.find((f) => f.path === one.main);
    if (main !== undefined) io.out(main.content);
  }
  return issues.length > 0 ? EXIT.invalid : EXIT.ok;
}
