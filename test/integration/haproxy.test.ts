/**
 * An HAProxy ServiceCluster on the real local Swarm, in the production layout (`swarmgate
 * install`, hitless delivery): the proxy task runs HAProxy under the agent, routes by host, and
 * splits by declared weight whatever the task counts (3 tasks at weight 1 vs 1 task at weight 3).
 * Needs the images (make images). Run: make test-int
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, route } from '../helpers/specs';
import { backendRemoval, createBackend, docker, isProgrammed, removeWhenReleased, until } from '../helpers/swarm';

const PREFIX = `sgha${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const A = `${PREFIX}-a`;
const B = `${PREFIX}-b`;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let httpPort = 0;

beforeAll(async () => {
  const [h, hs] = await freePorts(2);
  if (h === undefined || hs === undefined) throw new Error('no free ports');
  httpPort = h;
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  for (const [name, replicas] of [[A, 3], [B, 1]] as const) createBackend(name, NET, replicas, `location / { return 200 "${name}\\n"; }`);
  await applyObject(port, cluster(CLUSTER, { proxy: { kind: 'haproxy', replicas: 1, publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(port, route(PREFIX, { serviceCluster: CLUSTER, hosts: [`${PREFIX}.localhost`], rules: [{ backends: [{ service: A, port: 80, weight: 1 }, { service: B, port: 80, weight: 3 }] }] }));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
}, 180_000);

afterAll(async () => {
  await deleteObject(port, 'Route', PREFIX).catch(() => undefined);
  await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  await removeWhenReleased(backendRemoval([A, B], NET));
}, 180_000);

describe('HAProxy cluster on a real Swarm', () => {
  it('routes by host and splits by declared weight, not by task count', async () => {
    await until('route programmed', () => isProgrammed(port, 'Route', PREFIX));
    // All four backend tasks answer before counting.
    await until('both services answer', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) seen.add((await send({ port: httpPort, host: `${PREFIX}.localhost`, path: '/' })).body.trim());
      return seen.has(A) && seen.has(B) ? true : undefined;
    });
    const svc = (await port.listServices()).find((s) => s.Spec.Name === `sg-proxy-${CLUSTER}`);
    expect(svc?.Spec.TaskTemplate.ContainerSpec.Args).toEqual(['swarmgate', 'proxy-agent', '--kind', 'haproxy']);
    let b = 0;
    const n = 400;
    for (let i = 0; i < n; i++) if ((await send({ port: httpPort, host: `${PREFIX}.localhost`, path: '/' })).body.trim() === B) b++;
    // Declared 75 % to B (1 task) against 25 % to A (3 tasks): replica counts would give 25 %.
    expect(b / n).toBeGreaterThan(0.65);
    expect(b / n).toBeLessThan(0.85);
    const other = await send({ port: httpPort, host: 'nobody.localhost', path: '/' });
    expect(other.status).toBe(503);
  });
});
