/**
 * What a rate limit means with two proxy replicas, on the two-node swarm (make swarm-up NODES=2):
 * one host-mode replica per node, each reached at its node's address from the client namespace
 * (no routing mesh here, so the test plays the balancer that would spread a client's connections).
 * The README and docs/reference/middleware.md say limits are counted per replica, without shared
 * counters: `scope: Replica` lets a client `average` per replica (N × average through N replicas);
 * `scope: Cluster` makes each replica enforce `average / N`, so a client spread over the replicas gets
 * `average` in total. Both are checked on the same fixed request count sent to each replica at once.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUninstall } from '../../src/cli/commands/install';
import { applyObject } from '../../src/desired/spec-store';
import type { DockerPort } from '../../src/observed/docker-port';
import { cluster, middleware, route } from '../helpers/specs';
import { docker, isProgrammed, until } from '../helpers/swarm';
import { assertNamespacedSwarm, CLIENT_NS, createEcho, getFromClient, MGR, MGR_ADDR, removeLabelled, startTestCore, waitForPlacement, WRK, WRK_ADDR } from './nodes';
import type { PacedSummary } from './paced-client';

const run = promisify(execFile);
const PREFIX = `sgml${process.pid % 10000}`;
const LABEL = `io.swarmgate.test=${PREFIX}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const PROXY = `sg-proxy-${CLUSTER}`;
const ECHO = `${PREFIX}-echo`;
const HTTP = 18300;
const io = { out: () => undefined, err: () => undefined };
/** Offered per replica: 30 requests/s for 3 s. */
const OFFERED_RATE = 30;
const SECONDS = 3;
/** Each replica's limit on both routes: 10/s plus a burst of 5 that absorbs the timers' jitter. */
const PER_REPLICA = 10;
const BURST = 5;
const EXPECTED_PER_REPLICA = PER_REPLICA * SECONDS + BURST;

let port: DockerPort;
let stopCore = (): void => undefined;

/** One paced run against one replica, from the client namespace. */
async function paced(host: string, addr: string): Promise<PacedSummary> {
  const r = await run('ip', ['netns', 'exec', CLIENT_NS, process.execPath, '--import', 'tsx', join(__dirname, 'paced-client.ts'), host, `${addr}:${HTTP}`, String(OFFERED_RATE), String(SECONDS)], { cwd: join(__dirname, '..', '..'), encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(r.stdout) as PacedSummary;
}

/** Both replicas at once; waits out any earlier run's bucket first (10/s refills in well under 2 s). */
async function bothReplicas(host: string): Promise<{ mgr: PacedSummary; wrk: PacedSummary }> {
  await new Promise((r) => setTimeout(r, 2_000));
  const [mgr, wrk] = await Promise.all([paced(host, MGR_ADDR), paced(host, WRK_ADDR)]);
  return { mgr, wrk };
}

beforeAll(async () => {
  assertNamespacedSwarm();
  docker('network', 'create', '--driver', 'overlay', '--label', LABEL, NET);
  createEcho(ECHO, 1, ['--network', NET], LABEL);
  const core = startTestCore();
  port = core.port;
  stopCore = core.stop;
  // A constraint every node meets: without one the proxy prefers workers (one node here) and the second replica would wait.
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 2, delivery: 'rolling', constraints: ['node.platform.os==linux'], publish: { mode: 'host', http: HTTP, https: HTTP + 443 } } }));
  await applyObject(port, middleware(`${PREFIX}-per-replica`, { rateLimit: { average: PER_REPLICA, burst: BURST } }));
  await applyObject(port, middleware(`${PREFIX}-cluster-wide`, { rateLimit: { average: 2 * PER_REPLICA, burst: 2 * BURST, scope: 'Cluster' } }));
  const backends = [{ service: ECHO, port: 8080 }];
  await applyObject(port, route(`${PREFIX}-replica`, { serviceCluster: CLUSTER, hosts: ['replica.test'], middlewares: [`${PREFIX}-per-replica`], rules: [{ backends }] }));
  await applyObject(port, route(`${PREFIX}-cluster`, { serviceCluster: CLUSTER, hosts: ['cluster.test'], middlewares: [`${PREFIX}-cluster-wide`], rules: [{ backends }] }));
});

afterAll(async () => {
  stopCore();
  await runUninstall(port, true, io).catch(() => undefined);
  await removeLabelled(LABEL);
});

describe('a rate limit with two proxy replicas', () => {
  it('runs one replica per node, each serving both routes', async () => {
    for (const r of ['replica', 'cluster']) await until(`route ${r} programmed`, () => isProgrammed(port, 'Route', `${PREFIX}-${r}`));
    await waitForPlacement(port, PROXY, [MGR, WRK]);
    for (const addr of [MGR_ADDR, WRK_ADDR])
      for (const host of ['replica.test', 'cluster.test']) await until(`200 from ${host} via ${addr}`, async () => ((await getFromClient(addr, HTTP, host)).status === 200 ? true : undefined), 90_000, 500);
  });

  const within = (n: number, expected: number) => Math.abs(n - expected) <= expected * 0.1;

  it('scope Replica: each replica admits average per second on its own, so two replicas admit twice the average', async () => {
    const { mgr, wrk } = await bothReplicas('replica.test');
    console.log(`scope Replica, average ${PER_REPLICA}/s burst ${BURST}, ${OFFERED_RATE}/s for ${SECONDS} s to each replica: manager ${mgr.ok}/${mgr.sent} admitted, worker ${wrk.ok}/${wrk.sent}`);
    for (const s of [mgr, wrk]) {
      expect(s.other).toEqual({});
      expect(s.ok + s.limited).toBe(s.sent);
      expect(within(s.ok, EXPECTED_PER_REPLICA), `${s.ok} admitted, expected ${EXPECTED_PER_REPLICA} ± 10 %`).toBe(true);
    }
    expect(within(mgr.ok + wrk.ok, 2 * EXPECTED_PER_REPLICA)).toBe(true);
  });

  it('scope Cluster: each replica enforces average / 2, so a client spread over both gets the average in total', async () => {
    const { mgr, wrk } = await bothReplicas('cluster.test');
    console.log(`scope Cluster, average ${2 * PER_REPLICA}/s burst ${2 * BURST}, ${OFFERED_RATE}/s for ${SECONDS} s to each replica: manager ${mgr.ok}/${mgr.sent} admitted, worker ${wrk.ok}/${wrk.sent}, total ${mgr.ok + wrk.ok} (expected ${2 * EXPECTED_PER_REPLICA} ± 10 %)`);
    for (const s of [mgr, wrk]) {
      expect(s.other).toEqual({});
      expect(within(s.ok, EXPECTED_PER_REPLICA), `${s.ok} admitted, expected ${EXPECTED_PER_REPLICA} ± 10 %`).toBe(true);
    }
    expect(within(mgr.ok + wrk.ok, 2 * PER_REPLICA * SECONDS + 2 * BURST)).toBe(true);
  });
});
