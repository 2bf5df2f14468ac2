/**
 * Per-cluster isolation of the core's writes on the real single-node Swarm: the daemon rejects one
 * cluster's proxy service update with a real 400 (the update is sent with an empty image, which
 * swarmkit refuses: "ContainerSpec: image reference must be provided") while a second cluster's update
 * goes through. Both get status; the rejected one is Programmed=False with the daemon's message; the
 * run is a TerminalError and the same write is not sent again until the cluster's spec changes.
 * Needs the proxy image (make images). Run: make test-int
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import type { DockerPort } from '../../src/observed/docker-port';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { TerminalError } from '../../src/reconcile';
import { parseStatus } from '../../src/status/object-status';
import { freePorts } from '../helpers/nginx-process';
import { cluster } from '../helpers/specs';
import { docker, removeWhenReleased, tryDocker } from '../helpers/swarm';

const PREFIX = `sgiso${process.pid % 10000}`;
const A = `${PREFIX}-a`;
const B = `${PREFIX}-b`;
const quiet = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });

let real: DockerPort;
let core: CoreRun;
let corrupt = true;
const updatesOfA: string[] = [];
let published: number[] = [];
let defaultProxyExisted = true;

/** The real port, except that A's proxy service updates go out with an empty image while `corrupt` is set. */
function faultyPort(port: DockerPort): DockerPort {
  return {
    ...port,
    updateService: async (id, version, spec) => {
      if (spec.Name !== `sg-proxy-${A}`) return port.updateService(id, version, spec);
      updatesOfA.push(spec.TaskTemplate.ContainerSpec.Image);
      const sent = corrupt ? { ...spec, TaskTemplate: { ...spec.TaskTemplate, ContainerSpec: { ...spec.TaskTemplate.ContainerSpec, Image: '' } } } : spec;
      return port.updateService(id, version, sent);
    },
  };
}

const edge = (name: string, replicas: number, http: number) => cluster(name, { proxy: { replicas, image: 'swarmgate/proxy:latest', publish: { mode: 'host', http, https: http + 1 } } });

async function replicas(service: string): Promise<number | undefined> {
  return (await real.listServices()).find((s) => s.Spec.Name === service)?.Spec.Mode?.Replicated?.Replicas;
}

async function clusterProgrammed(name: string) {
  const [c] = await real.listConfigs([`${LABELS.kind}=ServiceCluster`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions.find((x) => x.type === 'Programmed');
}

beforeAll(async () => {
  real = createDockerPort();
  defaultProxyExisted = (await real.listServices()).some((s) => s.Spec.Name === 'sg-proxy-default');
  core = new CoreRun(faultyPort(real), quiet, { localImages: true });
  published = await freePorts(4);
  const [a, , b] = published;
  if (a === undefined || b === undefined) throw new Error('no free ports');
  await applyObject(real, edge(A, 1, a));
  await applyObject(real, edge(B, 1, b));
  await core.run(1);
  await applyObject(real, edge(A, 2, a));
  await applyObject(real, edge(B, 2, b));
}, 120_000);

afterAll(async () => {
  for (const name of [A, B]) await deleteObject(real, 'ServiceCluster', name).catch(() => undefined);
  tryDocker('service', 'rm', `sg-proxy-${A}`, `sg-proxy-${B}`);
  if (!defaultProxyExisted) tryDocker('service', 'rm', 'sg-proxy-default');
  const configs = docker('config', 'ls', '--format', '{{.Name}}')
    .split('\n')
    .filter((n) => n.startsWith(`sg-nginx-${A}-`) || n.startsWith(`sg-nginx-${B}-`) || (!defaultProxyExisted && n.startsWith('sg-nginx-default-')));
  await removeWhenReleased(configs.map((n) => ['config', 'rm', n]));
}, 120_000);

describe('one cluster rejected by the daemon, the other converging, on a real Swarm', () => {
  it('isolates the rejected cluster, says why on its status, and does not resend until its spec changes', async () => {
    const [a] = published;
    const first = core.run(2);
    await expect(first).rejects.toBeInstanceOf(TerminalError);
    await expect(first).rejects.toThrow('image reference must be provided');
    expect(await replicas(`sg-proxy-${B}`)).toBe(2);
    expect(await replicas(`sg-proxy-${A}`)).toBe(1);
    const rejected = await clusterProgrammed(A);
    expect(rejected).toMatchObject({ status: 'False', reason: 'Rejected' });
    expect(rejected?.message).toContain('HTTP 400: rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided');
    expect((await clusterProgrammed(B))?.reason).not.toBe('Rejected');
    expect(updatesOfA).toHaveLength(1);

    // Runs with the same inputs send nothing for A and end normally.
    const again = await core.run(3);
    expect(again.reason).toContain('held back');
    expect(updatesOfA).toHaveLength(1);
    expect((await clusterProgrammed(A))?.reason).toBe('Rejected');

    // The cluster's spec changes: the write is attempted again (and goes through once the fault is gone).
    corrupt = false;
    await applyObject(real, edge(A, 3, a ?? 0));
    await core.run(4);
    expect(updatesOfA).toHaveLength(2);
    expect(await replicas(`sg-proxy-${A}`)).toBe(3);
    expect((await clusterProgrammed(A))?.reason).not.toBe('Rejected');
  }, 120_000);
});
