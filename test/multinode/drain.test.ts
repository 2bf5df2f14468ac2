/**
 * Draining the worker on the two-node swarm (make swarm-up NODES=2) while a client sends requests:
 * the proxy replica leaves the worker and the core places it on the manager (no worker left); a
 * client that retries connection errors on the other node's address sees no failed request.
 * Prints the measurements: requests, retries, the longest wait of one request, and how long the
 * proxy took to run on the manager.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUninstall } from '../../src/cli/commands/install';
import { applyObject } from '../../src/desired/spec-store';
import type { DockerPort } from '../../src/observed/docker-port';
import { cluster, route } from '../helpers/specs';
import { docker, isProgrammed, until } from '../helpers/swarm';
import { assertNamespacedSwarm, CLIENT_NS, createEcho, echoFromClient, MGR, MGR_ADDR, removeLabelled, servingNodes, setAvailability, since, startTestCore, waitForPlacement, WRK, WRK_ADDR } from './nodes';
import type { ClientSummary } from './retrying-client';

const PREFIX = `sgmd${process.pid % 10000}`;
const LABEL = `io.swarmgate.test=${PREFIX}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const PROXY = `sg-proxy-${CLUSTER}`;
const ECHO = `${PREFIX}-echo`;
const HTTP = 18200;
const HOST = 'drain.test';
const io = { out: () => undefined, err: () => undefined };

let port: DockerPort;
let stopCore = (): void => undefined;

/** Start the retrying client in the client namespace; `stop()` ends it and returns its summary. */
function startClient(): { stop: () => Promise<ClientSummary> } {
  const child = spawn('ip', ['netns', 'exec', CLIENT_NS, process.execPath, '--import', 'tsx', join(__dirname, 'retrying-client.ts'), HOST, `${WRK_ADDR}:${HTTP}`, `${MGR_ADDR}:${HTTP}`], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

beforeAll(async () => {
  assertNamespacedSwarm();
  docker('network', 'create', '--driver', 'overlay', '--label', LABEL, NET);
  // Two backend tasks; Swarm spreads them over both nodes, so draining moves one of them too.
  createEcho(ECHO, 2, ['--network', NET], LABEL);
  const core = startTestCore();
  port = core.port;
  stopCore = core.stop;
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, delivery: 'rolling', publish: { mode: 'host', http: HTTP, https: HTTP + 443 } } }));
  await applyObject(port, route(`${PREFIX}-r`, { serviceCluster: CLUSTER, hosts: [HOST], rules: [{ backends: [{ service: ECHO, port: 8080 }] }] }));
});

afterAll(async () => {
  setAvailability(WRK, 'active');
  stopCore();
  await runUninstall(port, true, io).catch(() => undefined);
  await removeLabelled(LABEL);
});

describe('draining the worker', () => {
  it('moves the proxy to the manager without a failed request for a retrying client', async () => {
    await until('route programmed', () => isProgrammed(port, 'Route', `${PREFIX}-r`));
    await waitForPlacement(port, PROXY, [WRK]);
    await waitForPlacement(port, ECHO, [MGR, WRK]);
    await echoFromClient(WRK_ADDR, HTTP, HOST);

    const client = startClient();
    await new Promise((r) => setTimeout(r, 3_000));
    const t0 = Date.now();
    setAvailability(WRK, 'drain');
    await waitForPlacement(port, PROXY, [MGR]);
    const proxyMovedMs = since(t0);
    await waitForPlacement(port, ECHO, [MGR, MGR]);
    const backendsMovedMs = since(t0);
    // Served through the moved proxy for a while before the client stops.
    await echoFromClient(MGR_ADDR, HTTP, HOST);
    await new Promise((r) => setTimeout(r, 5_000));
    const s = await client.stop();
    console.log(`drain: ${JSON.stringify(s)}; proxy running on ${MGR} ${proxyMovedMs} ms after drain, both backends there after ${backendsMovedMs} ms`);

    expect(s.failed).toBe(0);
    expect(s.failures).toEqual({});
    // The client really crossed the move: answers from the worker's proxy before, the manager's after.
    expect(s.byTarget[`${WRK_ADDR}:${HTTP}`] ?? 0).toBeGreaterThan(10);
    expect(s.byTarget[`${MGR_ADDR}:${HTTP}`] ?? 0).toBeGreaterThan(10);
    expect(await servingNodes(port, PROXY)).toEqual([MGR]);
  });
});
