/**
 * Routing across nodes on the two-node swarm (make swarm-up NODES=2):
 * - a proxy on the manager reaches a backend task on the worker over the overlay network;
 * - with host-mode publishing the backend sees the real client address (10.210.0.20, the client
 *   namespace) in X-Forwarded-For / X-Real-IP;
 * - `mode: host` backends: the proxy on the manager routes to the worker's address and the port
 *   the backend task published there (a dynamic one, read from the task's PortStatus).
 * Requests are sent from the client namespace to the nodes' addresses, as from another machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '../../src/domain/labels';
import { applyObject } from '../../src/desired/spec-store';
import type { DockerPort } from '../../src/observed/docker-port';
import { runUninstall } from '../../src/cli/commands/install';
import { cluster, route } from '../helpers/specs';
import { docker, isProgrammed, until } from '../helpers/swarm';
import { assertNamespacedSwarm, CLIENT_ADDR, createEcho, echoFromClient, MGR, MGR_ADDR, removeLabelled, servingNodes, startTestCore, waitForPlacement, WRK, WRK_ADDR } from './nodes';

const PREFIX = `sgmr${process.pid % 10000}`;
const LABEL = `io.swarmgate.test=${PREFIX}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-mgr`;
const PROXY = `sg-proxy-${CLUSTER}`;
const OVERLAY_ECHO = `${PREFIX}-echo`;
const HOST_ECHO = `${PREFIX}-hostecho`;
const HTTP = 18100;
const io = { out: () => undefined, err: () => undefined };

let port: DockerPort;
let stopCore = (): void => undefined;

beforeAll(async () => {
  assertNamespacedSwarm();
  docker('network', 'create', '--driver', 'overlay', '--label', LABEL, NET);
  // Backends pinned to the worker; the proxy pinned to the manager: every request crosses nodes.
  createEcho(OVERLAY_ECHO, 1, ['--network', NET, '--constraint', 'node.role==worker'], LABEL);
  // No overlay network at all: reachable only through the port its node publishes (Swarm picks it).
  createEcho(HOST_ECHO, 1, ['--publish', 'mode=host,target=8080', '--constraint', 'node.role==worker'], LABEL);
  const core = startTestCore();
  port = core.port;
  stopCore = core.stop;
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, delivery: 'rolling', constraints: ['node.role==manager'], publish: { mode: 'host', http: HTTP, https: HTTP + 443 } } }));
  await applyObject(port, route(`${PREFIX}-overlay`, { serviceCluster: CLUSTER, hosts: ['overlay.test'], rules: [{ backends: [{ service: OVERLAY_ECHO, port: 8080 }] }] }));
  await applyObject(port, route(`${PREFIX}-host`, { serviceCluster: CLUSTER, hosts: ['host.test'], rules: [{ backends: [{ service: HOST_ECHO, port: 8080, mode: 'host' }] }] }));
});

afterAll(async () => {
  stopCore();
  // The swarm belongs to the tests: remove the proxies, generated configs and stored specs too.
  await runUninstall(port, true, io).catch(() => undefined);
  await removeLabelled(LABEL);
});

describe('routing across two nodes', () => {
  it('routes from a proxy on the manager to a backend task on the worker over the overlay', async () => {
    await until('overlay route programmed', () => isProgrammed(port, 'Route', `${PREFIX}-overlay`));
    await waitForPlacement(port, PROXY, [MGR]);
    expect(await servingNodes(port, OVERLAY_ECHO)).toEqual([WRK]);
    const echo = await echoFromClient(MGR_ADDR, HTTP, 'overlay.test');
    expect(echo.node).toBe(WRK);
    // The backend saw the proxy's overlay address, not the client: the request went through the proxy.
    expect(echo.peer).not.toContain(CLIENT_ADDR);
    // Nothing listens on the worker's address for this port: the proxy is on the manager only.
    const direct = await echoFromClient(WRK_ADDR, HTTP, 'overlay.test', 2_000).catch(() => undefined);
    expect(direct).toBeUndefined();
  });

  it('keeps the client address with host-mode publishing (X-Forwarded-For, X-Real-IP)', async () => {
    const echo = await echoFromClient(MGR_ADDR, HTTP, 'overlay.test');
    expect(echo.headers['x-real-ip']).toBe(CLIENT_ADDR);
    expect(echo.headers['x-forwarded-for']).toBe(CLIENT_ADDR);
  });

  it('routes a mode: host backend to the node address and the port its task published', async () => {
    await until('host route programmed', () => isProgrammed(port, 'Route', `${PREFIX}-host`));
    const [taskId] = docker('service', 'ps', '-q', '--filter', 'desired-state=running', HOST_ECHO).split('\n');
    const published = Number(docker('inspect', '--format', '{{range .Status.PortStatus.Ports}}{{.PublishedPort}} {{end}}', taskId ?? '').split(' ')[0]);
    expect(published).toBeGreaterThan(0);
    // The config the proxy runs names the worker's address and that port, and no overlay address.
    const svc = (await port.listServices()).find((s) => s.Spec.Name === PROXY);
    const configName = svc?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName ?? '';
    const config = (await port.listConfigs([`${LABELS.cluster}=${CLUSTER}`])).find((c) => c.Spec.Name === configName);
    const text = Buffer.from(config?.Spec.Data ?? '', 'base64').toString('utf8');
    expect(text).toContain(`server ${WRK_ADDR}:${published}`);
    const echo = await echoFromClient(MGR_ADDR, HTTP, 'host.test');
    expect(echo.node).toBe(WRK);
    expect(echo.headers['x-forwarded-for']).toBe(CLIENT_ADDR);
    // The backend is on no overlay: the proxy reached it through the worker's published port.
    expect(echo.peer).not.toMatch(/^(::ffff:)?10\.212\./);
    console.log(`mode: host backend reached at ${WRK_ADDR}:${published} from the proxy on ${MGR}; peer seen by the backend: ${echo.peer}`);
  });
});
