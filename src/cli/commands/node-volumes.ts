/**
 * `swarmgate remove-node-volumes`: runs as one task per node of a global job (ADR 0020) and removes
 * this node's named volumes given (or, with --all-last-applied, every `sg-last-*` volume), waiting up
 * to `--wait` seconds while a stopping proxy container still uses one. One line per volume; exit 0
 * when every volume is gone, 1 when one was still in use at the end (the job's restart policy retries).
 */
import { hostname } from 'node:os';
import type { NodeVolumes } from '../../observed/node-volumes';
import { EXIT, type Output } from '../output';
import { lastAppliedVolume } from '../../plan/proxy-runtime';

export async function runRemoveNodeVolumes(volumes: NodeVolumes, args: { readonly names: readonly string[]; readonly allLastApplied: boolean; readonly waitSeconds: number }, io: Output, sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<number> {
  const prefix = lastAppliedVolume('');
  const names = [...new Set([...args.names, ...(args.allLastApplied ? await volumes.names(prefix) : [])])];
  // Only swarmgate's own volumes: the job runs with the node's Docker socket.
  const refused = names.filter((n) => !n.startsWith(prefix));
  for (const n of refused) io.err(`volume/${n}: not removed: only ${prefix}* volumes are swarmgate's`);
  const deadline = Date.now() + args.waitSeconds * 1000;
  let left = names.filter((n) => n.startsWith(prefix));
  const node = process.env['SWARMGATE_NODE'] ?? hostname();
  while (left.length > 0) {
    const still: string[] = [];
    for (const n of left) {
      const r = await volumes.remove(n);
      if (r === 'in-use') still.push(n);
      else io.out(`volume/${n} ${r === 'removed' ? 'removed' : 'not present'} on ${node}`);
    }
    left = still;
    if (left.length === 0 || Date.now() >= deadline) break;
    await sleep(500);
  }
  for (const n of left) io.err(`volume/${n}: still in use on ${node} after ${args.waitSeconds}s (a proxy task of the cluster runs here); not removed`);
  return left.length > 0 || refused.length > 0 ? EXIT.invalid : EXIT.ok;
}
