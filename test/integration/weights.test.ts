/**
 * Declared weights on the real local Swarm, measured the Gateway API conformance way (500 requests,
 * 10 at a time): 90/10 holds within ±5 points whatever the replica counts (1 vs 5, then 5 vs 1),
 * and within ±2 points over 5,000; a re-applied weight shifts traffic with no failed request; and a
 * header canary sends `X-Canary: always` to the canary regardless of weights.
 * Production layout: `swarmgate install`, hitless delivery. Needs the images (make images).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, route } from '../helpers/specs';
import { backendRemoval, createBackend, docker, isProgrammed, removeWhenReleased, until } from '../helpers/swarm';

const PREFIX = `sgw${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const STABLE = `${PREFIX}-stable`;
const CANARY = `${PREFIX}-canary`;
const HOST = `${PREFIX}.localhost`;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let httpPort = 0;

/** Share of `service` in `n` requests sent `concurrency` at a time. */
async function share(service: string, n = 500, concurrency = 10, headers: Record<string, string> = {}): Promise<number> {
  let hits = 0;
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < n) {
      sent++;
      const r = await send({ port: httpPort, host: HOST, path: '/', headers });
      if (r.body.trim() === service) hits++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return hits / n;
}

/** Until every task of both services has answered (the proxy knows them all). */
async function allTasksServing(expected: number): Promise<void> {
  await until(`${expected} tasks answering`, async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const r = await send({ port: httpPort, host: HOST, path: '/whoami' });
      seen.add(r.body.trim());
    }
    return seen.size >= expected ? true : undefined;
  });
}

/** "/" answers the service name (for shares), "/whoami" the task (to know every task is routed). */
function backend(name: string, replicas: number): void {
  createBackend(name, NET, replicas, `location = /whoami { return 200 "$hostname\\n"; } location / { return 200 "${name}\\n"; }`);
}

function weighted(stable: number, canary: number): ReturnType<typeof route> {
  return route(PREFIX, {
    serviceCluster: CLUSTER,
    hosts: [HOST],
    rules: [
      { match: { headers: [{ name: 'X-Canary', value: 'always' }] }, backends: [{ service: CANARY, port: 80 }] },
      { backends: [{ service: STABLE, port: 80, weight: stable }, { service: CANARY, port: 80, weight: canary }] },
    ],
  });
}

beforeAll(async () => {
  const [h, hs] = await freePorts(2);
  if (h === undefined || hs === undefined) throw new Error('no free ports');
  httpPort = h;
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  backend(STABLE, 1);
  backend(CANARY, 5);
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(port, weighted(90, 10));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
  await until('route programmed', () => isProgrammed(port, 'Route', PREFIX), 120_000);
}, 240_000);

afterAll(async () => {
  await deleteObject(port, 'Route', PREFIX).catch(() => undefined);
  await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  await removeWhenReleased(backendRemoval([STABLE, CANARY], NET));
}, 180_000);

describe('declared weights on a real Swarm', () => {
  it('holds 90/10 within ±5 points with 1 stable task against 5 canary tasks', async () => {
    await allTasksServing(6);
    const s = await share(STABLE);
    console.log(`stable share with 1 vs 5 tasks: ${(s * 100).toFixed(1)} %`);
    expect(Math.abs(s - 0.9)).toBeLessThanOrEqual(0.05);
  });

  it('holds 90/10 within ±5 points with 5 stable tasks against 1 canary task', async () => {
    docker('service', 'scale', '--detach', `${STABLE}=5`, `${CANARY}=1`);
    await until('scaled', async () => (docker('service', 'ls', '--filter', `name=${PREFIX}-`, '--format', '{{.Replicas}}').split('\n').sort().join(',') === '1/1,5/5' ? true : undefined));
    await allTasksServing(6);
    const s = await share(STABLE);
    console.log(`stable share with 5 vs 1 tasks: ${(s * 100).toFixed(1)} %`);
    expect(Math.abs(s - 0.9)).toBeLessThanOrEqual(0.05);
  });

  it('holds 90/10 within ±2 points over 5,000 requests', async () => {
    const s = await share(STABLE, 5000);
    console.log(`stable share over 5,000 requests: ${(s * 100).toFixed(2)} %`);
    expect(Math.abs(s - 0.9)).toBeLessThanOrEqual(0.02);
  });

  it('shifts traffic to a re-applied weight with no failed request', async () => {
    let failed = 0;
    let running = true;
    const recent: string[] = [];
    const load = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const r = await send({ port: httpPort, host: HOST, path: '/' });
          if (r.status !== 200) failed++;
          recent.push(r.body.trim());
          if (recent.length > 200) recent.shift();
        } catch {
          failed++;
        }
      }
    });
    const started = Date.now();
    await applyObject(port, weighted(50, 50));
    // Shifted: the last 200 answers are near 50/50 (90/10 gives ~20 canary answers, 50/50 ~100).
    await until('traffic shifted to 50/50', async () => (recent.filter((b) => b === CANARY).length >= 70 ? true : undefined), 30_000);
    const ms = Date.now() - started;
    running = false;
    await Promise.all(load);
    console.log(`re-applied 50/50: traffic shifted within ${ms} ms (apply to a 200-request window at ≥35 % canary), ${failed} failed requests`);
    expect(failed).toBe(0);
    await applyObject(port, weighted(90, 10));
  });

  it('sends X-Canary: always to the canary regardless of weights', async () => {
    expect(await share(CANARY, 100, 10, { 'X-Canary': 'always' })).toBe(1);
  });
});
