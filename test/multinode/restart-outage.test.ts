/**
 * Issue 18: what a change that restarts proxy tasks by nature costs with two replicas, one host-mode
 * replica per node (the installed core on the manager, hitless delivery). The change: a route to a
 * service on an overlay network the proxy has not joined (the cluster has no allow-list), so its tasks
 * are replaced to join it (stop-first, one at a time, as the proxy service's UpdateConfig says).
 *
 * Three clients in the client namespace send one GET after another until the change is live:
 * one to the manager's proxy only, one to the worker's only (each retries its one address: its longest
 * wait is that node's outage, its retries the refused or reset attempts), and one that tries the other
 * node on a connection error, as a client behind a DNS name listing both nodes does (asserted: no
 * failed request). Figures are printed; the README's impact note and `diff`'s warning quote them.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { applyObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { cluster, route } from '../helpers/specs';
import { docker, isProgrammed, until } from '../helpers/swarm';
import { assertNamespacedSwarm, CLIENT_NS, createEcho, echoFromClient, MGR, MGR_ADDR, MGR_SOCKET, removeLabelled, waitForPlacement, WRK, WRK_ADDR } from './nodes';
import type { ClientSummary } from './retrying-client';

const PREFIX = `sgmr${process.pid % 10000}`;
const LABEL = `io.swarmgate.test=${PREFIX}`;
const NET = `${PREFIX}-net`;
const NET2 = `${PREFIX}-net2`;
const CLUSTER = `${PREFIX}-edge`;
const PROXY = `sg-proxy-${CLUSTER}`;
const ECHO = `${PREFIX}-echo`;
const ECHO2 = `${PREFIX}-echo2`;
const HTTP = 18500;
const HOST = 'outage.test';
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();

function startClient(targets: readonly string[]): { stop: () => Promise<ClientSummary> } {
  const child = spawn('ip', ['netns', 'exec', CLIENT_NS, process.execPath, '--import', 'tsx', join(__dirname, 'retrying-client.ts'), HOST, ...targets], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`client exited ${String(code)}: ${err}`);
      return JSON.parse(out) as ClientSummary;
    },
  };
}

const describeRun = (s: ClientSummary): string => `${s.requests} requests, ${s.failed} failed, ${s.retries} refused/reset attempts, longest wait for an answer ${s.maxRetryMs} ms`;

beforeAll(async () => {
  assertNamespacedSwarm();
  docker('network', 'create', '--driver', 'overlay', '--label', LABEL, NET);
  createEcho(ECHO, 1, ['--network', NET, '--constraint', 'node.role==manager'], LABEL);
  // Both nodes may run a proxy: one host-mode replica per node (MaxReplicas 1).
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 2, delivery: 'hitless', constraints: ['node.platform.os==linux'], publish: { mode: 'host', http: HTTP, https: HTTP + 443 } } }));
  await applyObject(port, route(PREFIX, { serviceCluster: CLUSTER, hosts: [HOST], rules: [{ backends: [{ service: ECHO, port: 8080 }] }] }));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info', dockerSocket: MGR_SOCKET }, io)).toBe(0);
}, 240_000);

afterAll(async () => {
  await runUninstall(port, true, io).catch(() => undefined);
  await removeLabelled(LABEL);
}, 240_000);

describe('a task-restarting change with two replicas on two nodes', () => {
  it('replaces one replica at a time: each node is refused for a few seconds, a client that tries the other node loses nothing', async () => {
    await until('route programmed', () => isProgrammed(port, 'Route', PREFIX), 180_000);
    await waitForPlacement(port, PROXY, [MGR, WRK], 120_000);
    await echoFromClient(MGR_ADDR, HTTP, HOST);
    await echoFromClient(WRK_ADDR, HTTP, HOST);
    docker('network', 'create', '--driver', 'overlay', '--label', LABEL, NET2);
    createEcho(ECHO2, 1, ['--network', NET2, '--constraint', 'node.role==manager'], LABEL);
    await waitForPlacement(port, ECHO2, [MGR], 90_000);
    const version = docker('service', 'inspect', '--format', '{{.Version.Index}}', PROXY);

    const mgr = startClient([`${MGR_ADDR}:${HTTP}`]);
    const wrk = startClient([`${WRK_ADDR}:${HTTP}`]);
    const both = startClient([`${WRK_ADDR}:${HTTP}`, `${MGR_ADDR}:${HTTP}`]);
    await new Promise((r) => setTimeout(r, 2_000));
    const t0 = Date.now();
    await applyObject(port, route(`${PREFIX}-b`, { serviceCluster: CLUSTER, hosts: ['b.outage.test'], rules: [{ backends: [{ service: ECHO2, port: 8080 }] }] }));
    await echoFromClient(MGR_ADDR, HTTP, 'b.outage.test', 180_000);
    await echoFromClient(WRK_ADDR, HTTP, 'b.outage.test', 180_000);
    const liveMs = Date.now() - t0;
    await waitForPlacement(port, PROXY, [MGR, WRK], 120_000);
    await new Promise((r) => setTimeout(r, 2_000));
    const [m, w, b] = [await mgr.stop(), await wrk.stop(), await both.stop()];
    console.log(
      `route to a new network, 2 host-mode replicas (one per node), stop-first one at a time: new route live on both nodes ${liveMs} ms after the apply\n` +
        `  manager's proxy only: ${describeRun(m)}\n  worker's proxy only: ${describeRun(w)}\n  either node (retry the other on a connection error): ${describeRun(b)}`,
    );
    // The proxy service was updated (its tasks replaced), not just delivered to.
    expect(docker('service', 'inspect', '--format', '{{.Version.Index}}', PROXY)).not.toBe(version);
    expect(m.failed + w.failed + b.failed).toBe(0);
    // Each node had its outage (the replica was replaced); a client with both addresses never waited as long.
    expect(m.retries).toBeGreaterThan(0);
    expect(w.retries).toBeGreaterThan(0);
    expect(b.maxRetryMs).toBeLessThan(Math.max(m.maxRetryMs, w.maxRetryMs));
  }, 600_000);
});
