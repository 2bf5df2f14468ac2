/**
 * Declared weights on the real local Swarm, measured the Gateway API conformance way (500 requests,
 * 10 at a time): 90/10 holds within ±5 points whatever the replica counts (1 vs 5, then 5 vs 1),
 * and a header canary sends `X-Canary: always` to the canary regardless of weights.
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

beforeAll(async () => {
  const [h, hs] = await freePorts(2);
  if (h === undefined || hs === undefined) throw new Error('no free ports');
  httpPort = h;
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  backend(STABLE, 1);
  backend(CANARY, 5);
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(
    port,
    route(PREFIX, {
      serviceCluster: CLUSTER,
      hosts: [HOST],
      rules: [
        { match: { headers: [{ name: 'X-Canary', value: 'always' }] }, backends: [{ service: CANARY, port: 80 }] },
        { backends: [{ service: STABLE, port: 80, weight: 90 }, { service: CANARY, port: 80, weight: 10 }] },
      ],
    }),
  );
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

  it('sends X-Canary: always to the canary regardless of weights', async () => {
    expect(await share(CANARY, 100, 10, { 'X-Canary': 'always' })).toBe(1);
  });
});
