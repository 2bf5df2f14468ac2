/**
 * The node clean-up of a deleted cluster's `sg-last-*` volumes (ADR 0020): the plan starts a global
 * job when it removes a hitless proxy service, removes the job once every task ended, and the job's
 * command removes only swarmgate's volumes, waiting while one is in use.
 */
import { describe, expect, it } from 'vitest';
import { runRemoveNodeVolumes } from '../../src/cli/commands/node-volumes';
import { EXIT } from '../../src/cli/output';
import { LABELS, OWNER_VALUE } from '../../src/domain/labels';
import type { NodeInfo, ServiceInfo, TaskInfo } from '../../src/observed/docker-port';
import type { NodeVolumes, VolumeRemoval } from '../../src/observed/node-volumes';
import { cleanupJobDone, NODE_CLEANUP_ROLE } from '../../src/plan/node-cleanup-spec';
import { planOrphanRemovals } from '../../src/plan/writes/orphan-writes';

const proxy = (cluster: string, hitless: boolean): ServiceInfo => ({
  ID: `svc-${cluster}`,
  Version: { Index: 1 },
  Spec: {
    Name: `sg-proxy-${cluster}`,
    Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'proxy', [LABELS.cluster]: cluster },
    TaskTemplate: { ContainerSpec: { Image: 'swarmgate/proxy:latest', ...(hitless ? { Mounts: [{ Type: 'volume' as const, Source: `sg-last-${cluster}`, Target: '/var/lib/swarmgate/last' }] } : {}) } },
  },
});
/** The installed core: the job takes the nodes' Docker socket path from its mount. */
const core = (socket: string): ServiceInfo => ({
  ID: 'core',
  Version: { Index: 1 },
  Spec: { Name: 'swarmgate-core', Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'core' }, TaskTemplate: { ContainerSpec: { Image: 'swarmgate/swarmgate:latest', Mounts: [{ Type: 'bind', Source: socket, Target: '/var/run/docker.sock' }] } } },
});
const node = (id: string, state: string): NodeInfo => ({ ID: id, Spec: { Role: 'worker', Availability: 'active' }, Status: { State: state } });
const task = (serviceId: string, nodeId: string, state: string): TaskInfo => ({ ID: `${serviceId}-${nodeId}`, ServiceID: serviceId, NodeID: nodeId, DesiredState: 'complete', Status: { State: state } });

describe('planning the clean-up of a deleted cluster', () => {
  it('removes the proxy service and starts a global job for its volume, once', () => {
    const groups = planOrphanRemovals(new Set(['keep']), { services: [core('/var/run/sg-node/docker.sock'), proxy('keep', true), proxy('gone', true)], tasks: [], nodes: [node('n1', 'ready')] });
    expect(groups).toHaveLength(1);
    const [remove, job] = groups[0]?.steps ?? [];
    expect(remove).toMatchObject({ op: 'removeService', name: 'sg-proxy-gone' });
    expect(job).toMatchObject({ op: 'createService', role: NODE_CLEANUP_ROLE });
    if (job?.op !== 'createService') throw new Error('no job');
    expect(job.spec.Mode).toEqual({ GlobalJob: {} });
    expect(job.spec.TaskTemplate.ContainerSpec.Args).toEqual(['swarmgate', 'remove-node-volumes', '--wait', '120', 'sg-last-gone']);
    // The node's own engine, at the path the installed core mounts it from.
    expect(job.spec.TaskTemplate.ContainerSpec.Mounts).toEqual([{ Type: 'bind', Source: '/var/run/sg-node/docker.sock', Target: '/var/run/sg-node/docker.sock' }]);
    expect(job.spec.TaskTemplate.ContainerSpec.Env).toContain('DOCKER_HOST=unix:///var/run/sg-node/docker.sock');
    expect(job.spec.Name.length).toBeLessThanOrEqual(63);
    // The job exists already (an earlier run created it, the proxy's removal failed): not again.
    const jobInfo: ServiceInfo = { ID: 'job', Version: { Index: 1 }, Spec: job.spec };
    const again = planOrphanRemovals(new Set(['keep']), { services: [core('/var/run/docker.sock'), proxy('gone', true), jobInfo], tasks: [], nodes: [node('n1', 'ready')] });
    expect(again[0]?.steps.map((s) => s.op)).toEqual(['removeService']);
  });

  it('no installed core (a core run in a test process): no job, the socket path of the nodes is unknown', () => {
    const groups = planOrphanRemovals(new Set(), { services: [proxy('gone', true)], tasks: [], nodes: [node('n1', 'ready')] });
    expect(groups[0]?.steps.map((s) => s.op)).toEqual(['removeService']);
  });

  it('a rolling proxy (no volume) gets no job', () => {
    const groups = planOrphanRemovals(new Set(), { services: [proxy('gone', false)], tasks: [], nodes: [] });
    expect(groups[0]?.steps.map((s) => s.op)).toEqual(['removeService']);
  });

  it('removes a job once every task ended or sits on a node that is down', () => {
    const job: ServiceInfo = { ID: 'job', Version: { Index: 1 }, Spec: { Name: 'sg-clean-gone-x', Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: NODE_CLEANUP_ROLE, [LABELS.cluster]: 'gone' }, TaskTemplate: { ContainerSpec: { Image: 'i' } }, Mode: { GlobalJob: {} } } };
    const nodes = [node('n1', 'ready'), node('n2', 'ready'), node('n3', 'down')];
    expect(cleanupJobDone(job, [], nodes)).toBe(false);
    const running = [task('job', 'n1', 'complete'), task('job', 'n2', 'running'), task('job', 'n3', 'assigned')];
    expect(cleanupJobDone(job, running, nodes)).toBe(false);
    expect(planOrphanRemovals(new Set(), { services: [job], tasks: running, nodes })).toEqual([]);
    const ended = [task('job', 'n1', 'complete'), task('job', 'n2', 'failed'), task('job', 'n3', 'assigned')];
    expect(cleanupJobDone(job, ended, nodes)).toBe(true);
    expect(planOrphanRemovals(new Set(), { services: [job], tasks: ended, nodes })[0]?.steps).toMatchObject([{ op: 'removeService', name: 'sg-clean-gone-x' }]);
  });
});

describe('remove-node-volumes (the job task)', () => {
  function volumes(initial: Record<string, number>): NodeVolumes & { left: Map<string, number> } {
    // name → how many removal attempts still answer "in use"
    const left = new Map(Object.entries(initial));
    return {
      left,
      names: (prefix) => Promise.resolve([...left.keys()].filter((n) => n.startsWith(prefix))),
      remove: (name): Promise<VolumeRemoval> => {
        const busy = left.get(name);
        if (busy === undefined) return Promise.resolve('absent');
        if (busy > 0) {
          left.set(name, busy - 1);
          return Promise.resolve('in-use');
        }
        left.delete(name);
        return Promise.resolve('removed');
      },
    };
  }
  const io = (): { out: (t: string) => void; err: (t: string) => void; lines: string[] } => {
    const lines: string[] = [];
    return { lines, out: (t) => lines.push(t), err: (t) => lines.push(`ERR ${t}`) };
  };

  it('waits while a stopping proxy still uses a volume, then removes it; absent is fine', async () => {
    const v = volumes({ 'sg-last-a': 3, 'other-volume': 0 });
    const o = io();
    expect(await runRemoveNodeVolumes(v, { names: ['sg-last-a', 'sg-last-b'], allLastApplied: false, waitSeconds: 10 }, o, () => Promise.resolve())).toBe(EXIT.ok);
    expect(v.left.has('sg-last-a')).toBe(false);
    expect(v.left.has('other-volume')).toBe(true);
    expect(o.lines.map((l) => l.replace(/ on .*$/, ''))).toEqual(['volume/sg-last-b not present', 'volume/sg-last-a removed']);
  });

  it('--all-last-applied takes every sg-last-* volume and nothing else; a foreign name is refused', async () => {
    const v = volumes({ 'sg-last-a': 0, 'sg-last-b': 0, 'mydata': 0 });
    const o = io();
    expect(await runRemoveNodeVolumes(v, { names: ['mydata'], allLastApplied: true, waitSeconds: 1 }, o, () => Promise.resolve())).toBe(EXIT.invalid);
    expect([...v.left.keys()]).toEqual(['mydata']);
    expect(o.lines[0]).toBe("ERR volume/mydata: not removed: only sg-last-* volumes are swarmgate's");
  });

  it('a volume in use past the wait is reported and fails the task (the job retries)', async () => {
    const v = volumes({ 'sg-last-a': 1_000_000 });
    const o = io();
    expect(await runRemoveNodeVolumes(v, { names: ['sg-last-a'], allLastApplied: false, waitSeconds: 0 }, o, () => Promise.resolve())).toBe(EXIT.invalid);
    expect(o.lines.at(-1)).toMatch(/^ERR volume\/sg-last-a: still in use on .* after 0s/);
  });
});
