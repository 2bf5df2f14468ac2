/**
 * Proxy placement on the two-node swarm (make swarm-up NODES=2):
 * - the default order (Interlock's): proxies on workers; on managers only while no worker is
 *   available, and back on the worker once it is;
 * - a ServiceCluster's `constraints` replace that default, and `placementPreferences` (spread)
 *   reach the proxy service; the scheduler places the tasks accordingly (node labels are set
 *   with `docker node update --label-add`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUninstall } from '../../src/cli/commands/install';
import { applyObject } from '../../src/desired/spec-store';
import type { DockerPort } from '../../src/observed/docker-port';
import { cluster } from '../helpers/specs';
import { docker, until } from '../helpers/swarm';
import { assertNamespacedSwarm, MGR, servingNodes, setAvailability, since, startTestCore, waitForPlacement, WRK } from './nodes';

const PREFIX = `sgmp${process.pid % 10000}`;
const io = { out: () => undefined, err: () => undefined };
const LABELS_SET = ['sgzone', 'sgpool'];

let port: DockerPort;
let stopCore = (): void => undefined;

async function placement(service: string): Promise<{ constraints: string[]; preferences: string[] }> {
  const svc = (await port.listServices()).find((s) => s.Spec.Name === service);
  const p = svc?.Spec.TaskTemplate.Placement;
  return { constraints: [...(p?.Constraints ?? [])], preferences: (p?.Preferences ?? []).map((x) => x.Spread.SpreadDescriptor) };
}

function waitForConstraints(service: string, want: readonly string[]): Promise<true> {
  return until(`${service} constraints ${want.join(',')}`, async () => ((await placement(service)).constraints.join(',') === want.join(',') ? true : undefined), 60_000, 250);
}

beforeAll(() => {
  assertNamespacedSwarm();
  docker('node', 'update', '--label-add', 'sgzone=a', '--label-add', 'sgpool=edge', MGR);
  docker('node', 'update', '--label-add', 'sgzone=b', '--label-add', 'sgpool=edge', WRK);
  const core = startTestCore();
  port = core.port;
  stopCore = core.stop;
});

afterAll(async () => {
  setAvailability(WRK, 'active');
  stopCore();
  await runUninstall(port, true, io).catch(() => undefined);
  for (const node of [MGR, WRK]) docker('node', 'update', ...LABELS_SET.flatMap((l) => ['--label-rm', l]), node);
});

describe('proxy placement', () => {
  it('puts proxies on workers first, on managers only while no worker is available', async () => {
    const name = `${PREFIX}-wf`;
    const proxy = `sg-proxy-${name}`;
    await applyObject(port, cluster(name, { proxy: { replicas: 1, delivery: 'rolling', publish: { mode: 'host', http: 18300, https: 18743 } } }));
    await waitForConstraints(proxy, ['node.role==worker']);
    await waitForPlacement(port, proxy, [WRK]);

    // No worker available: the core drops the worker constraint and the proxy runs on the manager.
    let t0 = Date.now();
    setAvailability(WRK, 'drain');
    await waitForConstraints(proxy, []);
    await waitForPlacement(port, proxy, [MGR]);
    const toManager = since(t0);

    // The worker is back: the proxy returns to it.
    t0 = Date.now();
    setAvailability(WRK, 'active');
    await waitForConstraints(proxy, ['node.role==worker']);
    await waitForPlacement(port, proxy, [WRK]);
    console.log(`proxy moved to the manager ${toManager} ms after the worker was drained, back to the worker ${since(t0)} ms after it was active again`);
  });

  it("applies the cluster's constraints instead of the default, and follows a change of them", async () => {
    const name = `${PREFIX}-zone`;
    const proxy = `sg-proxy-${name}`;
    const spec = (zone: string) => cluster(name, { proxy: { replicas: 1, delivery: 'rolling', constraints: [`node.labels.sgzone==${zone}`], publish: { mode: 'host', http: 18301, https: 18744 } } });
    // Zone a is the manager: the cluster's constraint wins over "workers first".
    await applyObject(port, spec('a'));
    await waitForConstraints(proxy, ['node.labels.sgzone==a']);
    await waitForPlacement(port, proxy, [MGR]);
    await applyObject(port, spec('b'));
    await waitForConstraints(proxy, ['node.labels.sgzone==b']);
    await waitForPlacement(port, proxy, [WRK]);
  });

  it('passes spread preferences to the proxy service and the scheduler spreads over the label', async () => {
    const name = `${PREFIX}-spread`;
    const proxy = `sg-proxy-${name}`;
    // Ingress publishing: host mode would allow one replica per node whatever the preference.
    await applyObject(port, cluster(name, { proxy: { replicas: 4, delivery: 'rolling', constraints: ['node.labels.sgpool==edge'], placementPreferences: [{ spread: 'node.labels.sgzone' }], publish: { mode: 'ingress', http: 18302, https: 18745 } } }));
    await until(`${proxy} spread`, async () => ((await placement(proxy)).preferences.length > 0 ? true : undefined), 60_000, 250);
    expect(await placement(proxy)).toEqual({ constraints: ['node.labels.sgpool==edge'], preferences: ['node.labels.sgzone'] });
    // Two zones, one node each: two replicas per zone.
    await waitForPlacement(port, proxy, [MGR, MGR, WRK, WRK]);
    expect(await servingNodes(port, proxy)).toEqual([MGR, MGR, WRK, WRK]);
  });
});
