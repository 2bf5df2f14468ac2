/**
 * Hitless delivery across nodes, in the production layout: `swarmgate install` puts the core on
 * the manager (with the namespaced dockerd's socket, --docker-socket), the proxy runs its agent on
 * the worker and gets each config streamed over the `swarmgate-control` overlay with mutual TLS.
 * A route change reaches the worker's proxy with no service update.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { applyObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { cluster, route } from '../helpers/specs';
import { docker, isProgrammed, until } from '../helpers/swarm';
import { assertNamespacedSwarm, createEcho, echoFromClient, MGR, MGR_SOCKET, removeLabelled, servingNodes, waitForPlacement, WRK, WRK_ADDR } from './nodes';

const PREFIX = `sgmh${process.pid % 10000}`;
const LABEL = `io.swarmgate.test=${PREFIX}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const PROXY = `sg-proxy-${CLUSTER}`;
const ECHO = `${PREFIX}-echo`;
const HTTP = 18400;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();

const routeTo = (hosts: string[]) => route(PREFIX, { serviceCluster: CLUSTER, hosts, rules: [{ backends: [{ service: ECHO, port: 8080 }] }] });

beforeAll(async () => {
  assertNamespacedSwarm();
  docker('network', 'create', '--driver', 'overlay', '--label', LABEL, NET);
  // The backend on the manager, the proxy on the worker: traffic and config both cross nodes.
  createEcho(ECHO, 1, ['--network', NET, '--constraint', 'node.role==manager'], LABEL);
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, delivery: 'hitless', constraints: ['node.role==worker'], publish: { mode: 'host', http: HTTP, https: HTTP + 443 } } }));
  await applyObject(port, routeTo(['a.test']));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info', dockerSocket: MGR_SOCKET }, io)).toBe(0);
}, 180_000);

afterAll(async () => {
  await runUninstall(port, true, io).catch(() => undefined);
  await removeLabelled(LABEL);
}, 180_000);

describe('hitless delivery across nodes', () => {
  it('streams configs from the core on the manager to the agent on the worker, with no service update', async () => {
    await until('route programmed', () => isProgrammed(port, 'Route', PREFIX), 150_000);
    expect(await servingNodes(port, 'swarmgate-core')).toEqual([MGR]);
    await waitForPlacement(port, PROXY, [WRK]);
    expect(docker('service', 'inspect', '--format', '{{index .Spec.Labels "io.swarmgate.delivery"}}', PROXY)).toBe('hitless');
    expect((await echoFromClient(WRK_ADDR, HTTP, 'a.test')).node).toBe(MGR);
    const version = docker('service', 'inspect', '--format', '{{.Version.Index}}', PROXY);

    const started = Date.now();
    await applyObject(port, routeTo(['a.test', 'b.test']));
    const echo = await echoFromClient(WRK_ADDR, HTTP, 'b.test', 60_000);
    console.log(`route change live on the worker's proxy after ${Date.now() - started} ms`);
    expect(echo.node).toBe(MGR);
    await until('new generation programmed', () => isProgrammed(port, 'Route', PREFIX), 60_000);
    // Delivered over gRPC: the proxy service was not updated.
    expect(docker('service', 'inspect', '--format', '{{.Version.Index}}', PROXY)).toBe(version);
  }, 240_000);
});
