/**
 * `swarmgate diff -f PATH...`: what `apply` would change, before it changes anything — the spec changes per
 * object, the unified diff of every generated proxy config that would change, the proxy services that
 * would be updated, and the Plan: every write the core would make (configs, service creates and updates
 * with whether they restart the proxy tasks, deliveries to agents, prunes), each with its reason.
 * Exit codes as `diff`: 0 no change, 1 changes, 2 error.
 */
import { errorText } from '../error-text';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { loadSpecs } from '../../desired/load-specs';
import { formatLocatedIssue, sortByPosition } from '../../desired/source-position';
import { encodeObject } from '../../domain/object';
import type { DockerPort } from '../../observed/docker-port';
import { describePlan } from '../../plan/writes/describe-plan';
import { proxyServiceName } from '../../plan/proxy-service-spec';
import type { Output } from '../output';
import { previewApply, previewLines } from '../apply-preview';
import { resourceName } from '../kind-words';

export const DIFF_EXIT = { same: 0, changed: 1, error: 2 } as const;

export async function runDiff(port: DockerPort, paths: readonly string[], io: Output): Promise<number> {
  const { objects, issues } = loadSpecs(paths);
  if (issues.length > 0 || objects.length === 0) {
    for (const i of sortByPosition(issues)) io.err(formatLocatedIssue(i));
    if (objects.length === 0 && issues.length === 0) io.err('no objects found in the input');
    return DIFF_EXIT.error;
  }
  try {
    const preview = await previewApply(port, objects.map((o) => o.object));
    for (const { object, before } of preview.changed) {
      const label = `${resourceName(object.kind)}/${object.metadata.name}`;
      const patch = createTwoFilesPatch(`${label} (stored)`, `${label} (applied)`, before === undefined ? '' : stringify(encodeObject(before)), stringify(encodeObject(object)), undefined, undefined, { context: 3 });
      io.out(`${label} ${before === undefined ? 'would be created' : 'would be configured'}`);
      // Drop the "====" separator line jsdiff puts first; keep the ---/+++ header.
      io.out(patch.split('\n').slice(1).join('\n'));
    }
    let changed = preview.changed.length > 0;
    const services: string[] = [];
    for (const [cluster, after] of preview.afterConfigs) {
      const now = preview.beforeConfigs.get(cluster);
      // Another proxy kind: the whole file is new.
      const before = now?.file === after.file ? now.content : '';
      if (now?.file === after.file && before === after.content) continue;
      changed = true;
      services.push(proxyServiceName(cluster));
      const label = `${cluster}/${after.file}`;
      io.out(createTwoFilesPatch(`${label} (now)`, `${label} (after apply)`, before, after.content, undefined, undefined, { context: 3 }).split('\n').slice(1).join('\n'));
    }
    if (services.length > 0) io.out(`proxy services that would be updated: ${services.join(', ')}`);
    if (changed) {
      // What the core would write once the apply lands: the Plan of the applied specs against the live Swarm.
      const lines = describePlan(preview.plan);
      io.out(lines.length > 0 ? ['what the core would write:', ...lines].join('\n') : 'the core would write nothing');
      const impact = previewLines(preview);
      if (impact.length > 0) io.out(['what it does to traffic:', ...impact.map((l) => `  ${l}`)].join('\n'));
    }
    if (!changed) io.out('no changes');
    return changed ? DIFF_EXIT.changed : DIFF_EXIT.same;
  } catch (e) {
    io.err(`diff failed: ${errorText(e)}`);
    return DIFF_EXIT.error;
  }
}
