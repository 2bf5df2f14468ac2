/**
 * The ServiceCluster's Ready condition against the real single-node Swarm of this machine: a second
 * host-mode cluster on a host port another cluster's proxy already publishes cannot be placed, and
 * its Ready condition says so with Swarm's own scheduler error (Unschedulable, "no suitable node").
 * Needs the images (make images). Run: make test-int
 *
 * Everything is named with PREFIX and removed in afterAll.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import type { Condition } from '../../src/domain/conditions';
import type { DockerPort } from '../../src/observed/docker-port';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { parseStatus } from '../../src/status/object-status';
import { freePorts } from '../helpers/nginx-process';
import { cluster } from '../helpers/specs';
import { converge, docker, removeWhenReleased, tryDocker } from '../helpers/swarm';

const PREFIX = `sgrd${process.pid % 10000}`;
const FIRST = `${PREFIX}-first`;
const SECOND = `${PREFIX}-second`;
const quiet = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });

let port: DockerPort;
let core: CoreRun;
/** The core always converges the implicit "default" cluster too; remove its proxy afterwards if this test made it. */
let defaultProxyExisted = true;
let secondSpec: ReturnType<typeof cluster> | undefined;

async function ready(name: string): Promise<Condition | undefined> {
  const [c] = await port.listConfigs([`${LABELS.kind}=ServiceCluster`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions.find((x) => x.type === 'Ready');
}

beforeAll(async () => {
  port = createDockerPort();
  defaultProxyExisted = (await port.listServices()).some((s) => s.Spec.Name === 'sg-proxy-default');
  core = new CoreRun(port, quiet, { localImages: true });
  const [http, https, https2] = await freePorts(3);
  if (http === undefined || https === undefined || https2 === undefined) throw new Error('no free ports');
  const proxy = (httpsPort: number) => ({ replicas: 1, delivery: 'rolling', image: 'swarmgate/proxy:latest', publish: { mode: 'host', http, https: httpsPort } });
  await applyObject(port, cluster(FIRST, { proxy: proxy(https) }));
  secondSpec = cluster(SECOND, { proxy: proxy(https2) });
}, 180_000);

afterAll(async () => {
  for (const name of [FIRST, SECOND]) await deleteObject(port, 'ServiceCluster', name).catch(() => undefined);
  tryDocker('service', 'rm', `sg-proxy-${FIRST}`, `sg-proxy-${SECOND}`);
  if (!defaultProxyExisted) tryDocker('service', 'rm', 'sg-proxy-default');
  const configs = docker('config', 'ls', '--format', '{{.Name}}')
    .split('\n')
    .filter((n) => n.startsWith(`sg-nginx-${PREFIX}-`) || (!defaultProxyExisted && n.startsWith('sg-nginx-default-')));
  await removeWhenReleased(configs.map((n) => ['config', 'rm', n]));
}, 180_000);

describe('Ready on a real Swarm', () => {
  it('is Unschedulable with Swarm\'s "no suitable node" error for a second cluster on a host port already in use', async () => {
    // The first cluster takes the port (its proxy runs); the second one's task then cannot be placed.
    await converge(core, 'first cluster ready', async () => (await ready(FIRST))?.status === 'True');
    if (secondSpec === undefined) throw new Error('no spec');
    await applyObject(port, secondSpec);
    let seen: Condition | undefined;
    await converge(core, 'second cluster Unschedulable', async () => {
      seen = await ready(SECOND);
      return seen?.reason === 'Unschedulable';
    });
    console.log(`Ready of ${SECOND}: ${JSON.stringify(seen)}`);
    expect(seen).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    expect(seen?.message).toContain('0/1 proxy replicas running');
    expect(seen?.message).toContain('no suitable node');
    expect(await ready(FIRST)).toMatchObject({ status: 'True', reason: 'Ready', message: '1/1 proxy replicas running' });
  });
});
