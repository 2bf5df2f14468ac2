/**
 * BackendsHealthy on a real Swarm: the installed core and a hitless cluster whose agents count the
 * proxy's traffic. A route to a port its backend service does not listen on gets 502s; after a few
 * requests its condition is False (BackendErrors), while a route to the port it listens on is True
 * (BackendsAnswer). Needs the images (make images). Run under the swarm lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { LABELS } from '../../src/domain/labels';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { parseStatus } from '../../src/status/object-status';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, route } from '../helpers/specs';
import { backendRemoval, createBackend, docker, isProgrammed, removeWhenReleased, until } from '../helpers/swarm';

const PREFIX = `cli-bh${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const BACKEND = `${PREFIX}-web`;
const GOOD = `${PREFIX}-good`;
const WRONG = `${PREFIX}-wrong`;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let httpPort = 0;

async function health(name: string) {
  const [c] = await port.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=${name}`]);
  const status = parseStatus(c?.Spec.Labels?.[LABELS.status]);
  return { condition: status?.conditions.find((x) => x.type === 'BackendsHealthy'), backends: status?.backends };
}

beforeAll(async () => {
  const [h, hs] = await freePorts(2);
  if (h === undefined || hs === undefined) throw new Error('no free ports');
  httpPort = h;
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  createBackend(BACKEND, NET, 1, 'location / { return 200 "ok\\n"; }');
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(port, route(GOOD, { serviceCluster: CLUSTER, hosts: [`${GOOD}.localhost`], rules: [{ backends: [{ service: BACKEND, port: 80 }] }] }));
  // Port 81: the service runs, Swarm resolves it, nothing listens there.
  await applyObject(port, route(WRONG, { serviceCluster: CLUSTER, hosts: [`${WRONG}.localhost`], rules: [{ backends: [{ service: BACKEND, port: 81 }] }] }));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
}, 180_000);

afterAll(async () => {
  for (const name of [GOOD, WRONG]) await deleteObject(port, 'Route', name).catch(() => undefined);
  await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  await removeWhenReleased(backendRemoval([BACKEND], NET));
}, 180_000);

describe('BackendsHealthy on a real Swarm', () => {
  it('turns False for a route to a port nothing listens on, True for the one that answers', async () => {
    await until('both routes programmed', async () => ((await isProgrammed(port, 'Route', GOOD)) && (await isProgrammed(port, 'Route', WRONG))) ?? undefined, 120_000);
    await until('the good route answers', async () => ((await send({ port: httpPort, host: `${GOOD}.localhost`, path: '/' })).status === 200 ? true : undefined));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await send({ port: httpPort, host: `${WRONG}.localhost`, path: '/' })).status);
      await send({ port: httpPort, host: `${GOOD}.localhost`, path: '/' });
    }
    expect(statuses.every((s) => s >= 500)).toBe(true);
    const started = Date.now();
    const wrong = await until('BackendsHealthy False on the wrong port', async () => {
      const h = await health(WRONG);
      return h.condition?.status === 'False' ? h : undefined;
    }, 60_000, 500);
    console.log(`BackendsHealthy False ${Date.now() - started} ms after the requests: ${wrong.condition?.message ?? ''}`);
    expect(wrong.condition?.reason).toBe('BackendErrors');
    expect(wrong.condition?.message).toContain(`${BACKEND}:81`);
    expect(wrong.backends?.items).toEqual([{ backend: `${BACKEND}:81`, requests: expect.any(Number) as number, responses5xx: expect.any(Number) as number }]);
    expect(wrong.backends?.items[0]?.requests).toBe(wrong.backends?.items[0]?.responses5xx);
    const good = await until('BackendsHealthy True on the listening port', async () => {
      const h = await health(GOOD);
      return h.condition?.status === 'True' ? h : undefined;
    }, 60_000, 500);
    expect(good.condition?.reason).toBe('BackendsAnswer');
  }, 240_000);
});
