/**
 * A cluster whose config is larger than a Swarm config (ADR 0029), on the real local Swarm with the
 * installed core and hitless delivery: 48 routes whose header values do not compress away render
 * about 1.5 MB of nginx.conf (Swarm's limit: 1,024,000 bytes), which the core stores gzip-compressed in
 * two Swarm configs; the cluster becomes Ready, every route Programmed, and the proxy serves. Inside
 * the proxy task the mounted boot config and its part reassemble into the text NGINX runs.
 * Needs the images (make images). Run under the Swarm lock.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { LABELS } from '../../src/domain/labels';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { MAX_SWARM_CONFIG_BYTES } from '../../src/plan/config-size';
import { partConfigName } from '../../src/plan/stored-config';
import { parseStatus } from '../../src/status/object-status';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, route } from '../helpers/specs';
import { backendRemoval, createBackend, docker, isProgrammed, removeWhenReleased, until } from '../helpers/swarm';

const PREFIX = `big${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const PROXY = `sg-proxy-${CLUSTER}`;
const APP = `${PREFIX}-app`;
const NOISY = 48;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let httpPort = 0;

/** 32 header values of 1,000 pseudo-random base64 characters (the most a header value may have) per route: ≈ 33 KB of nginx.conf each, ≈ 25 KB compressed. */
function noisyHeaders(i: number): { name: string; value: string }[] {
  return Array.from({ length: 32 }, (_, j) => {
    let block = '';
    for (let k = 0; block.length < 1_000; k++) block += createHash('sha256').update(`${i}/${j}/${k}`).digest('base64').replace(/=+$/, '');
    return { name: `X-Noise-${j}`, value: block.slice(0, 1_000) };
  });
}

async function conditionOf(kind: string, name: string, type: string) {
  const [c] = await port.listConfigs([`${LABELS.kind}=${kind}`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions.find((x) => x.type === type);
}

beforeAll(async () => {
  const [h, hs] = await freePorts(2);
  if (h === undefined || hs === undefined) throw new Error('no free ports');
  httpPort = h;
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  createBackend(APP, NET, 1, 'location / { return 200 "big-config-backend\\n"; }');
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(port, route(PREFIX, { serviceCluster: CLUSTER, hosts: [`${PREFIX}.localhost`], rules: [{ backends: [{ service: APP, port: 80 }] }] }));
  for (let i = 0; i < NOISY; i++) {
    await applyObject(port, route(`${PREFIX}-n${i}`, { serviceCluster: CLUSTER, hosts: [`${PREFIX}-n${i}.localhost`], rules: [{ backends: [{ service: APP, port: 80 }], requestHeaders: { set: noisyHeaders(i) } }] }));
  }
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
}, 300_000);

afterAll(async () => {
  await deleteObject(port, 'Route', PREFIX).catch(() => undefined);
  for (let i = 0; i < NOISY; i++) await deleteObject(port, 'Route', `${PREFIX}-n${i}`).catch(() => undefined);
  await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  await removeWhenReleased(backendRemoval([APP], NET));
}, 300_000);

describe('a cluster whose config exceeds a Swarm config', () => {
  it('is stored compressed in parts, becomes Ready and serves', async () => {
    const t0 = Date.now();
    await until('the cluster Ready', async () => ((await conditionOf('ServiceCluster', CLUSTER, 'Ready'))?.status === 'True' ? true : undefined), 180_000, 1_000);
    await until('every route programmed', async () => {
      for (let i = 0; i < NOISY; i++) if ((await isProgrammed(port, 'Route', `${PREFIX}-n${i}`)) === undefined) return undefined;
      return isProgrammed(port, 'Route', PREFIX);
    }, 120_000, 1_000);
    const served = await until('served', async () => {
      const r = await send({ port: httpPort, host: `${PREFIX}.localhost`, path: '/' });
      return r.status === 200 && r.body.trim() === 'big-config-backend' ? r : undefined;
    }, 60_000, 500);
    expect(served.status).toBe(200);
    console.log(`Ready, programmed and served ${Date.now() - t0} ms after install returned`);

    // What the proxy service mounts: the compressed config and its parts, each under Swarm's limit.
    const mounts = JSON.parse(docker('service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Configs}}', PROXY)) as { ConfigName: string; File: { Name: string } }[];
    const main = mounts[0]?.ConfigName ?? '';
    const labels = JSON.parse(docker('config', 'inspect', '--format', '{{json .Spec.Labels}}', main)) as Record<string, string>;
    expect(labels[LABELS.encoding]).toBe('gzip');
    const parts = Number(labels[LABELS.parts]);
    expect(parts).toBeGreaterThanOrEqual(2);
    expect(mounts.slice(1, parts).map((m) => m.ConfigName)).toEqual(Array.from({ length: parts - 1 }, (_, i) => partConfigName(main, i + 2)));
    for (const m of mounts.slice(0, parts)) {
      // Through the Docker API (the CLI's output of a 1 MB config overflows spawnSync's buffer).
      const bytes = Buffer.from((await port.inspectConfig(docker('config', 'inspect', '--format', '{{.ID}}', m.ConfigName))).Spec.Data ?? '', 'base64').length;
      expect(bytes).toBeLessThan(MAX_SWARM_CONFIG_BYTES);
    }

    // Inside the task: the mounted parts reassemble into text over the limit, which is what NGINX runs.
    const [task = ''] = docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${PROXY}`).split('\n');
    const read = "const t=require('/app/dist/src/agent/boot-config-file.js').readBootConfig('/etc/swarmgate/boot/nginx.conf');console.log(Buffer.byteLength(t), require('crypto').createHash('sha256').update(t).digest('hex'))";
    const r = spawnSync('docker', ['exec', task, 'node', '-e', read], { encoding: 'utf8' });
    const [bytes = '0', hash = ''] = r.stdout.trim().split(' ');
    console.log(`boot config: ${parts} Swarm configs, ${bytes} bytes as text`);
    expect(Number(bytes)).toBeGreaterThan(MAX_SWARM_CONFIG_BYTES);
    expect(hash).toBe(labels[LABELS.specHash]);
  }, 400_000);
});
