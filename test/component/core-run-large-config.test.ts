/**
 * A cluster whose config outgrows one Swarm config (ADR 0029), over the in-memory Docker fake: a
 * hitless cluster's config is stored gzip-compressed, in parts when even that is too large (Swarm's
 * limit lowered here so a few routes need three parts), each part under the limit; the proxy service
 * mounts the parts beside its boot config; decoding the stored configs gives exactly the delivered
 * text; the agents get it whole; a later change keeps the mounted boot config and its parts; pruning
 * removes a config's parts with it. An NGINX rolling cluster (no agent) still says it cannot be stored.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/api/control-plane';
import { BOOT_CONFIG_PATH } from '../../src/plan/proxy-service-spec';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { applyObject } from '../../src/desired/spec-store';
import { storedConfigText } from '../../src/desired/served-state';
import { partConfigName, partFilePath } from '../../src/plan/stored-config';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
const agents = { coreAddress: 'swarmgate-core:50051', controlNetwork: 'swarmgate-control', insecure: true };
/** Lowered Swarm limit: the ~20 routes below render ≈ 25 KB, compressed ≈ 3 KB, so three parts or more. */
const LIMIT = 1_200;
let docker: FakeDocker;
let plane: ControlPlane;

/** A route whose headers do not compress away (distinct values), so the compressed config still needs parts. */
const noisy = (i: number) =>
  route(`r${i}`, {
    serviceCluster: 'edge',
    hosts: [`r${i}.test`],
    rules: [{ backends: [{ service: 'web', port: 8080 }], requestHeaders: { set: Array.from({ length: 4 }, (_, j) => ({ name: `X-N${j}`, value: Buffer.from(`${i}:${j}:${(i * 7919 + j * 104729) ** 3}`).toString('base64') })) } }],
  });

async function generated(): Promise<{ name: string; parts?: string; partOf?: string }[]> {
  return (await docker.listConfigs([`${LABELS.role}=proxy-config`, `${LABELS.cluster}=edge`])).map((c) => ({
    name: c.Spec.Name,
    ...(c.Spec.Labels?.[LABELS.parts] !== undefined ? { parts: c.Spec.Labels[LABELS.parts] } : {}),
    ...(c.Spec.Labels?.[LABELS.partOf] !== undefined ? { partOf: c.Spec.Labels[LABELS.partOf] } : {}),
  }));
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  docker.addNetwork('swarmgate-control');
  plane = new ControlPlane();
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 2);
  await applyObject(docker, cluster('edge', { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: 18080, https: 18443 } } }));
  for (let i = 0; i < 20; i++) await applyObject(docker, noisy(i));
});

describe('a config larger than a Swarm config', () => {
  it('is stored compressed in parts under the limit, mounted beside the boot config, and decodes to the delivered text', async () => {
    await new CoreRun(docker, quiet, { plane, agents, maxConfigBytes: LIMIT }).run(1);
    const delivered = plane.delivered('edge')?.files[0]?.content.toString() ?? '';
    expect(Buffer.byteLength(delivered)).toBeGreaterThan(10 * LIMIT);
    const configs = await generated();
    const main = configs.find((c) => c.parts !== undefined);
    const n = Number(main?.parts);
    expect(n).toBeGreaterThanOrEqual(3);
    expect(configs.filter((c) => c.partOf === main?.name).map((c) => c.name).sort()).toEqual(Array.from({ length: n - 1 }, (_, i) => partConfigName(main?.name ?? '', i + 2)).sort());
    for (const c of await docker.listConfigs([`${LABELS.cluster}=edge`, `${LABELS.role}=proxy-config`])) {
      expect(Buffer.from((await docker.inspectConfig(c.ID)).Spec.Data ?? '', 'base64').length).toBeLessThan(LIMIT);
    }
    const mounts = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs ?? [];
    expect(mounts.slice(0, n).map((m) => [m.ConfigName, m.File.Name])).toEqual([
      [main?.name, BOOT_CONFIG_PATH],
      ...Array.from({ length: n - 1 }, (_, i) => [partConfigName(main?.name ?? '', i + 2), partFilePath(BOOT_CONFIG_PATH, i + 2, n)]),
    ]);
    const all = await docker.listConfigs([`${LABELS.role}=proxy-config`]);
    const mainInfo = all.find((c) => c.Spec.Name === main?.name);
    if (mainInfo === undefined) throw new Error('no main config');
    expect(await storedConfigText(docker, mainInfo, all)).toBe(delivered);
    expect(docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName).toBe(main?.name);
  });

  it('keeps the mounted boot config and its parts across changes, and prunes a config with its parts', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents, maxConfigBytes: LIMIT });
    await run.run(1);
    const boot = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.map((c) => c.ConfigName);
    const removed: string[] = [];
    // Five more changes: each a new config in parts; the oldest beyond KEEP_REVISIONS go, parts with them.
    for (let i = 20; i < 26; i++) {
      await applyObject(docker, noisy(i));
      docker.clearActions();
      await run.run(i);
      expect(docker.writes.map((w) => w.op)).not.toContain('updateService');
      removed.push(...docker.writes.filter((w) => w.op === 'removeConfig').map((w) => w.target ?? ''));
    }
    expect(docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.map((c) => c.ConfigName)).toEqual(boot);
    const configs = await generated();
    // The boot endpoint set (the cluster is Dynamic by default, ADR 0039) is mounted and no revision (ADR 0035).
    const sets = configs.filter((c) => c.name.startsWith('sg-ep-edge-')).map((c) => c.name);
    expect(sets).toHaveLength(1);
    expect(boot).toContain(sets[0]);
    const mains = new Set(configs.filter((c) => c.partOf === undefined && !sets.includes(c.name)).map((c) => c.name));
    // No part outlives its config; the mounted boot config (and its parts) stays although it is old.
    for (const c of configs) if (c.partOf !== undefined) expect(mains.has(c.partOf)).toBe(true);
    for (const name of boot ?? []) expect(configs.map((c) => c.name)).toContain(name);
    expect(mains.size).toBeLessThanOrEqual(6);
    expect(removed.some((r) => /-p\d+$/.test(r))).toBe(true);
  });

  it('is still refused, with the reason, for an NGINX cluster with rolling delivery (NGINX reads the mounted file itself)', async () => {
    await applyObject(docker, cluster('edge', { proxy: { replicas: 1, delivery: 'rolling', publish: { mode: 'host', http: 18080, https: 18443 } } }));
    await new CoreRun(docker, quiet, { maxConfigBytes: LIMIT }).run(1);
    expect(await generated()).toEqual([]);
    const [spec] = await docker.listConfigs([`${LABELS.kind}=ServiceCluster`, `${LABELS.name}=edge`]);
    expect(spec?.Spec.Labels?.[LABELS.status]).toContain('use hitless delivery');
  });
});
