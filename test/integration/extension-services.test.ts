/**
 * The three-service layout on the real local Swarm: `swarmgate install --extension-services` runs
 * the core, which creates an extension service (no Docker socket, no mounts) and a hitless proxy
 * per cluster. The extension renders and validates, the core delivers what it submitted, and
 * traffic keeps flowing while the extension task is replaced.
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

const PREFIX = `sgex${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const V1 = `${PREFIX}-v1`;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let httpPort = 0;

async function ok(host: string): Promise<true | undefined> {
  const r = await send({ port: httpPort, host, path: '/' });
  return r.status === 200 ? true : undefined;
}

beforeAll(async () => {
  const [h, hs] = await freePorts(2);
  if (h === undefined || hs === undefined) throw new Error('no free ports');
  httpPort = h;
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  createBackend(V1, NET, 1, 'location / { return 200 "ok\\n"; }');
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(port, route(PREFIX, { serviceCluster: CLUSTER, hosts: [`${PREFIX}.localhost`], rules: [{ backends: [{ service: V1, port: 80 }] }] }));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info', extensionServices: true }, io)).toBe(0);
}, 180_000);

afterAll(async () => {
  await deleteObject(port, 'Route', PREFIX).catch(() => undefined);
  await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  await removeWhenReleased(backendRemoval([V1], NET));
}, 180_000);

describe('extension services on a real Swarm', () => {
  it('renders in an extension service without Docker access and routes through the proxy', async () => {
    await until('route answers', () => ok(`${PREFIX}.localhost`));
    const ext = (await port.listServices()).find((s) => s.Spec.Name === `sg-extension-${CLUSTER}`);
    expect(ext?.Spec.TaskTemplate.ContainerSpec.Args?.slice(0, 3)).toEqual(['extension', '--cluster', CLUSTER]);
    expect(ext?.Spec.TaskTemplate.ContainerSpec.Mounts ?? []).toEqual([]);
    expect(ext?.Spec.TaskTemplate.ContainerSpec.Env).toContain('SWARMGATE_TLS_DIR=/run/secrets');
    // Status follows the proxy's report of the config it now serves.
    await until('route programmed', () => isProgrammed(port, 'Route', PREFIX), 30_000);
  });

  it('keeps traffic flowing while the extension task is replaced, and renders again after', async () => {
    docker('service', 'update', '--detach', '--quiet', '--force', `sg-extension-${CLUSTER}`);
    let failures = 0;
    const end = Date.now() + 8_000;
    while (Date.now() < end) {
      if ((await ok(`${PREFIX}.localhost`).catch(() => undefined)) !== true) failures++;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(failures).toBe(0);
    await applyObject(port, route(`${PREFIX}-b`, { serviceCluster: CLUSTER, hosts: [`${PREFIX}-b.localhost`], rules: [{ backends: [{ service: V1, port: 80 }] }] }));
    await until('a route added after the restart answers', () => ok(`${PREFIX}-b.localhost`), 60_000);
    await deleteObject(port, 'Route', `${PREFIX}-b`);
  });
});
