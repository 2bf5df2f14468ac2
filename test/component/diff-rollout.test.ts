/**
 * `swarmgate diff` goes through the core's own pipeline: during an active rollout or a rollback its
 * "now" side is the config the proxies serve (the stored rollout weights, the rolled-back revision),
 * and its patch turns that config into exactly what the core serves after the apply.
 */
import { applyPatch } from 'diff';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { runDiff } from '../../src/cli/commands/diff';
import { runRollback } from '../../src/cli/commands/history';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { applyObject } from '../../src/desired/spec-store';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'sg-diff-rollout-'));
let docker: FakeDocker;
const clock = Date.UTC(2026, 10, 26, 12);
const now = () => new Date(clock);

const edge = cluster('edge', { proxy: { replicas: 1, delivery: 'rolling', publish: { mode: 'host', http: 18080, https: 18443 } } });
const CANARY = { stable: { service: 'shop-v1', port: 8080 }, canary: { service: 'shop-v2', port: 8080 }, steps: [{ setWeight: 20 }, { pause: {} }] };
const shop = route('shop', { serviceCluster: 'edge', hosts: ['shop.test'], rules: [{ backends: [{ service: 'shop-v1', port: 8080 }] }], canary: CANARY });

/** The NGINX config the edge proxy service mounts (rolling delivery). */
async function servedConfig(): Promise<string> {
  const name = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName;
  const [c] = (await docker.listConfigs([`${LABELS.role}=proxy-config`])).filter((x) => x.Spec.Name === name);
  if (c === undefined) throw new Error('no mounted config');
  return Buffer.from((await docker.inspectConfig(c.ID)).Spec.Data ?? '', 'base64').toString('utf8');
}

async function diff(yaml: string): Promise<{ code: number; out: string }> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const out: string[] = [];
  const code = await runDiff(docker, [file], { out: (t) => out.push(t), err: (t) => out.push(t) });
  return { code, out: out.join('\n') };
}

/** The unified diff of one cluster's config in diff's output. */
function configPatch(out: string, cluster: string): string {
  const start = out.indexOf(`--- ${cluster}/nginx.conf (now)`);
  if (start < 0) throw new Error(`no config diff for ${cluster} in:\n${out}`);
  const end = out.indexOf('\nproxy services that would be updated', start);
  return out.slice(start, end < 0 ? undefined : end);
}

const SHOP_WITH_TIMEOUT = `apiVersion: swarmgate.io/v1
kind: Route
metadata: {name: shop}
spec:
  serviceCluster: edge
  hosts: [shop.test]
  rules:
    - backends: [{service: shop-v1, port: 8080}]
      timeouts: {connect: 2s}
  canary:
    stable: {service: shop-v1, port: 8080}
    canary: {service: shop-v2, port: 8080}
    steps: [{setWeight: 20}, {pause: {}}]
`;

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  for (const name of ['shop-v1', 'shop-v2']) {
    await docker.createService({ Name: name, TaskTemplate: { ContainerSpec: { Image: `${name}:1` }, Networks: [{ Target: 'app' }] } });
    docker.addTasks(name, 2);
  }
  await applyObject(docker, edge);
  await applyObject(docker, shop);
});

describe('diff during an active rollout', () => {
  it('shows the weights the proxies serve, and its patch turns the served config into what the core serves after the apply', async () => {
    const core = new CoreRun(docker, quiet, {}, now);
    await core.run(1);
    const before = await servedConfig();
    // The rollout holds at 20 % (a manual pause): the proxies split 80/20.
    expect(before).toMatch(/80\.00% u_\w+_shop_v1_8080;\s+\* u_\w+_shop_v2_8080;/);

    docker.clearActions();
    const r = await diff(SHOP_WITH_TIMEOUT);
    expect(r.code).toBe(1);
    expect(docker.writes).toEqual([]);
    const patch = configPatch(r.out, 'edge');
    // The "now" side routes by the split (what is served), and the apply does not move the weights.
    expect(patch).toMatch(/^ .*\$sg_split_\w+/m);
    expect(patch).not.toMatch(/^[-+].*(split_clients|%\s+u_|\$sg_split_)/m);
    expect(patch).toMatch(/^\+\s+proxy_connect_timeout 2s;$/m);

    await applyObject(docker, route('shop', { serviceCluster: 'edge', hosts: ['shop.test'], rules: [{ backends: [{ service: 'shop-v1', port: 8080 }], timeouts: { connect: '2s' } }], canary: CANARY }));
    await core.run(2);
    const after = await servedConfig();
    expect(after).not.toBe(before);
    expect(applyPatch(before, patch)).toBe(after);
  });

  it('says "no changes" for the stored specs while a rollout is under way', async () => {
    await new CoreRun(docker, quiet, {}, now).run(1);
    expect(await diff(SHOP_WITH_TIMEOUT.replace('      timeouts: {connect: 2s}\n', ''))).toMatchObject({ code: 0, out: 'no changes' });
  });
});

describe('diff while a cluster is rolled back', () => {
  const web = (host: string) => route('web', { serviceCluster: 'edge', hosts: [host], rules: [{ backends: [{ service: 'shop-v1', port: 8080 }] }] });
  const routeYaml = (name: string, host: string, clusterName: string) =>
    `apiVersion: swarmgate.io/v1\nkind: Route\nmetadata: {name: ${name}}\nspec: {serviceCluster: ${clusterName}, hosts: [${host}], rules: [{backends: [{service: shop-v1, port: 8080}]}]}\n`;

  it('compares with the rolled-back revision the proxies serve; an apply to the cluster ends the rollback, one elsewhere does not', async () => {
    const core = new CoreRun(docker, quiet, {}, now);
    await applyObject(docker, web('old.test'));
    await core.run(1);
    await applyObject(docker, web('new.test'));
    await core.run(2);
    expect(await runRollback(docker, 'cluster', 'edge', '1', { out: () => undefined, err: () => undefined })).toBe(0);
    await core.run(3);
    const served = await servedConfig();
    expect(served).toContain('server_name "old.test";');
    expect(served).not.toContain('new.test');

    // A route of another cluster leaves the rollback in place: nothing changes for edge.
    const elsewhere = await diff(routeYaml('other', 'other.test', 'default'));
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.out).not.toContain('edge/nginx.conf');

    // A route of edge ends it: the patch goes from the served revision to the current specs.
    docker.clearActions();
    const r = await diff(routeYaml('extra', 'extra.test', 'edge'));
    expect(docker.writes).toEqual([]);
    const patch = configPatch(r.out, 'edge');
    expect(patch).toMatch(/^-\s+server_name "old\.test";$/m);
    expect(patch).toMatch(/^\+\s+server_name "new\.test";$/m);
    await applyObject(docker, route('extra', { serviceCluster: 'edge', hosts: ['extra.test'], rules: [{ backends: [{ service: 'shop-v1', port: 8080 }] }] }));
    await core.run(4);
    expect(applyPatch(served, patch)).toBe(await servedConfig());
  });
});
