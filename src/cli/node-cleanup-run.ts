/**
 * Run a node clean-up job (plan/node-cleanup-spec.ts, ADR 0020) from the CLI and wait for it: create
 * the global job, wait until every task has ended (or sits on a node that is down), print what each
 * node's task said, remove the job. Used by `uninstall` for the `sg-last-*` volumes.
 */
import type { DockerPort, ServiceSpec } from '../observed/docker-port';
import { cleanupJobDone } from '../plan/node-cleanup-spec';
import type { Output } from './output';

export interface CleanupResult {
  /** Nodes whose task ended `complete`. */
  readonly completed: number;
  /** Nodes where it did not: failed, or the node is down (its volumes stay until the manual step). */
  readonly notCompleted: number;
}

export async function runNodeCleanupJob(port: DockerPort, spec: ServiceSpec, io: Output, timeoutMs = 180_000, sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<CleanupResult> {
  const stale = (await port.listServices()).find((s) => s.Spec.Name === spec.Name);
  if (stale !== undefined) await port.removeService(stale.ID);
  const id = await port.createService(spec);
  const deadline = Date.now() + timeoutMs;
  let tasks = await port.listTasks();
  for (;;) {
    const job = (await port.listServices()).find((s) => s.ID === id);
    if (job === undefined) break;
    tasks = await port.listTasks();
    const nodes = await port.listNodes();
    // No node at all (an engine that is not a Swarm node reports none): no task will ever come.
    if (nodes.length === 0 || cleanupJobDone(job, tasks, nodes) || Date.now() >= deadline) break;
    await sleep(500);
  }
  const own = tasks.filter((t) => t.ServiceID === id);
  for (const t of own) {
    const lines = await port.taskLogTail(t.ID, 50, 5_000).catch(() => [] as string[]);
    for (const l of lines.filter((x) => x.startsWith('volume/'))) io.out(l);
  }
  await port.removeService(id).catch(() => undefined);
  // Per node: a task that failed and was retried leaves an earlier failed task behind.
  const nodesSeen = new Set(own.map((t) => t.NodeID ?? t.ID));
  const completed = new Set(own.filter((t) => t.Status.State === 'complete').map((t) => t.NodeID ?? t.ID)).size;
  return { completed, notCompleted: nodesSeen.size - completed };
}
