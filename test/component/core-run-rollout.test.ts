/**
 * Rollouts run by the core over the in-memory Docker fake: weights reach the rendered config,
 * state and commands live in the Route's labels (so a new core resumes), analysis from the agents'
 * traffic counters fails a bad canary back to 0 %, webhooks gate the start, and an edit of the
 * spec that does not touch the rollout's identity keeps its progress.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/api/control-plane';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { LATENCY_BUCKET_COUNT } from '../../src/domain/traffic';
import { applyObject } from '../../src/desired/spec-store';
import { decodeRolloutState, type RolloutState } from '../../src/plan/rollout';
import { parseStatus } from '../../src/status/object-status';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';
import type { WebhookCall } from '../../src/plan/rollout';

const quiet = pino({ level: 'silent' });
let docker: FakeDocker;
let clock: number;
const now = () => new Date(clock);

const edge = cluster('edge', { proxy: { replicas: 1, delivery: 'rolling', publish: { mode: 'host', http: 18080, https: 18443 } } });
const STEPS = [{ setWeight: 20 }, { pause: { duration: '30s' } }, { setWeight: 60 }, { pause: {} }];
const shop = (canary: Record<string, unknown> = {}) =>
  route('shop', {
    serviceCluster: 'edge',
    hosts: ['shop.test'],
    rules: [{ backends: [{ service: 'shop-v1', port: 8080 }] }],
    canary: { stable: { service: 'shop-v1', port: 8080 }, canary: { service: 'shop-v2', port: 8080 }, steps: STEPS, ...canary },
  });

const blueGreenShop = route('shop', {
  serviceCluster: 'edge',
  hosts: ['shop.test'],
  rules: [{ backends: [{ service: 'shop-v1', port: 8080 }] }],
  canary: { strategy: 'blueGreen', active: { service: 'shop-v1', port: 8080 }, preview: { service: 'shop-v2', port: 8080 }, previewHost: 'preview.shop.test', scaleDownDelay: '1m' },
});

async function routeLabels(): Promise<Record<string, string>> {
  const [c] = await docker.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=shop`]);
  return { ...(c?.Spec.Labels ?? {}) };
}

async function rollout(): Promise<RolloutState> {
  const d = decodeRolloutState((await routeLabels())[LABELS.rollout] ?? '');
  if (d._tag === 'Left') throw new Error(d.left);
  return d.right;
}

async function rolloutCondition() {
  return parseStatus((await routeLabels())[LABELS.status])?.conditions.find((c) => c.type === 'Rollout');
}

/** The NGINX config the proxy service mounts (rolling delivery). */
async function mountedConfig(): Promise<string> {
  const name = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName;
  const [c] = (await docker.listConfigs([`${LABELS.role}=proxy-config`])).filter((x) => x.Spec.Name === name);
  if (c === undefined) throw new Error('no mounted config');
  return Buffer.from((await docker.inspectConfig(c.ID)).Spec.Data ?? '', 'base64').toString('utf8');
}

async function command(cmd: string, id = 'c1'): Promise<void> {
  const [c] = await docker.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=shop`]);
  if (c === undefined) throw new Error('no route');
  await docker.updateConfigLabels(c.ID, c.Version.Index, { ...c.Spec, Labels: { ...(c.Spec.Labels ?? {}), [LABELS.rolloutCommand]: JSON.stringify({ id, command: cmd, at: now().toISOString() }) } });
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  for (const name of ['shop-v1', 'shop-v2']) {
    await docker.createService({ Name: name, TaskTemplate: { ContainerSpec: { Image: `${name}:1` }, Networks: [{ Target: 'app' }] } });
    docker.addTasks(name, 2);
  }
  clock = Date.UTC(2026, 10, 26, 12);
  await applyObject(docker, edge);
});

describe('a canary rollout run by the core', () => {
  it('shifts weights step by step into the rendered config and ends with a promote', async () => {
    await applyObject(docker, shop());
    const run = new CoreRun(docker, quiet, {}, now);
    await run.run(1);
    expect(await rollout()).toMatchObject({ phase: 'Progressing', step: 1, weight: 20 });
    expect(await rolloutCondition()).toMatchObject({ status: 'True', reason: 'Progressing' });
    const first = await mountedConfig();
    expect(first).toMatch(/split_clients "\$request_id" \$sg_split_\w+ \{\s+80\.00% u_\w+_shop_v1_8080;\s+\* u_\w+_shop_v2_8080;/);

    clock += 29_000;
    await run.run(2);
    expect((await rollout()).weight).toBe(20);
    clock += 2_000;
    await run.run(3);
    expect(await rollout()).toMatchObject({ phase: 'Paused', step: 3, weight: 60 });
    expect(await mountedConfig()).toMatch(/40\.00% u_\w+_shop_v1_8080;\s+\* u_\w+_shop_v2_8080;/);

    await command('promote');
    await run.run(4);
    const labels = await routeLabels();
    expect(labels[LABELS.rolloutCommand]).toBeUndefined();
    expect(JSON.parse(labels[LABELS.rolloutResult] ?? '{}')).toMatchObject({ id: 'c1', accepted: true });
    expect(await rollout()).toMatchObject({ phase: 'Succeeded', weight: 100 });
    const last = await mountedConfig();
    expect(last).not.toContain('split_clients');
    expect(last).toMatch(/upstream u_\w+_shop_v2_8080/);
    expect(last).not.toMatch(/upstream u_\w+_shop_v1_8080/);
  });

  it('resumes in a new core from the state in the labels, and keeps it across a spec edit', async () => {
    await applyObject(docker, shop());
    await new CoreRun(docker, quiet, {}, now).run(1);
    clock += 31_000;
    const second = new CoreRun(docker, quiet, {}, now);
    await second.run(1);
    expect(await rollout()).toMatchObject({ phase: 'Paused', step: 3, weight: 60 });
    // A new analysis threshold is a new generation, not a new rollout.
    await applyObject(docker, shop({ analysis: { interval: '10s', maxErrorRate: '5%' } }));
    await second.run(2);
    expect(await rollout()).toMatchObject({ phase: 'Paused', step: 3, weight: 60 });
    // A new image of the canary service is a new version: the rollout restarts at step 0.
    const v2 = docker.service('shop-v2');
    if (v2 === undefined) throw new Error('no shop-v2');
    await docker.updateService(v2.ID, v2.Version.Index, { ...v2.Spec, TaskTemplate: { ...v2.Spec.TaskTemplate, ContainerSpec: { ...v2.Spec.TaskTemplate.ContainerSpec, Image: 'shop-v2:2' } } });
    await second.run(3);
    expect(await rollout()).toMatchObject({ phase: 'Progressing', step: 1, weight: 20 });
    expect((await rollout()).history.map((t) => t.reason)).toContain('SpecChanged');
  });

  it('rejects a command it cannot apply and says why', async () => {
    await applyObject(docker, shop());
    const run = new CoreRun(docker, quiet, {}, now);
    await run.run(1);
    await command('retry', 'r1');
    await run.run(2);
    expect(JSON.parse((await routeLabels())[LABELS.rolloutResult] ?? '{}')).toMatchObject({ id: 'r1', accepted: false, message: expect.stringContaining('Failed or Aborted') });
    await command('abort', 'a1');
    await run.run(3);
    expect(await rollout()).toMatchObject({ phase: 'Aborted', weight: 0 });
    expect(await rolloutCondition()).toMatchObject({ status: 'False', reason: 'Aborted' });
    expect(await mountedConfig()).not.toContain('shop_v2');
  });

  it('fails a canary whose error rate is above the limit, back to 100 % stable', async () => {
    const plane = new ControlPlane(() => clock);
    await applyObject(docker, shop({ analysis: { interval: '10s', maxErrorRate: '5%', minRequests: 20, failureLimit: 0 } }));
    const run = new CoreRun(docker, quiet, { plane }, now);
    await run.run(1);
    const canaryUpstream = /upstream (u_\w+_shop_v2_8080)/.exec(await mountedConfig())?.[1] ?? '';
    expect(canaryUpstream).not.toBe('');
    // First reading: the baseline of this step.
    await run.run(2);
    const buckets = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
    buckets[2] = 40;
    plane.report({ cluster: 'edge', replicaId: 'task-1', appliedHash: '', lastReceivedHash: '', counters: { requests: 0, responses5xx: 0, activeConnections: 0 } }, [
      { upstream: canaryUpstream, requests: 40, responses5xx: 20, latencyBuckets: buckets },
    ]);
    clock += 10_000;
    await run.run(3);
    const s = await rollout();
    expect(s).toMatchObject({ phase: 'Failed', weight: 0, reason: 'AnalysisFailed' });
    expect(s.message).toContain('error rate 50%');
    expect(s.measurements.find((m) => m.step === 1)).toMatchObject({ requests: 40, errorRate: 0.5, failed: 1 });
    expect(await mountedConfig()).not.toContain('shop_v2');
  });

  it('calls pre-rollout webhooks in the background and moves no traffic until they pass', async () => {
    const calls: WebhookCall[] = [];
    let answer = 503;
    const caller = async (c: WebhookCall) => {
      calls.push(c);
      return answer;
    };
    await applyObject(docker, shop({ analysis: { interval: '5s', failureLimit: 3, maxErrorRate: '50%' }, webhooks: [{ name: 'smoke', type: 'preRollout', url: 'http://127.0.0.1:1/smoke' }] }));
    const run = new CoreRun(docker, quiet, { webhookCaller: caller }, now);
    let woken = 0;
    run.wakeAt$.subscribe(() => woken++);
    await run.run(1);
    expect(calls.map((c) => c.name)).toEqual(['smoke']);
    expect(await rollout()).toMatchObject({ phase: 'Progressing', weight: 0, gatePassed: false });
    await new Promise((r) => setTimeout(r, 10));
    expect(woken).toBeGreaterThan(0);
    await run.run(2);
    expect(await rollout()).toMatchObject({ weight: 0, failures: 1 });
    answer = 200;
    clock += 5_000;
    await run.run(3);
    await new Promise((r) => setTimeout(r, 10));
    await run.run(4);
    expect(await rollout()).toMatchObject({ phase: 'Progressing', gatePassed: true, weight: 20 });
    expect(calls.length).toBe(2);
  });

  it('serves a blue-green preview on its own host and switches all traffic on promote', async () => {
    await applyObject(docker, blueGreenShop);
    const run = new CoreRun(docker, quiet, {}, now);
    await run.run(1);
    expect(await rollout()).toMatchObject({ phase: 'Paused', weight: 0 });
    const serverOf = (conf: string, host: string) => conf.slice(conf.indexOf(`server_name "${host}"`)).split(/\n {4}server \{/)[0] ?? '';
    const before = await mountedConfig();
    expect(serverOf(before, 'preview.shop.test')).toMatch(/proxy_pass http:\/\/u_\w+_shop_v2_8080/);
    expect(serverOf(before, 'shop.test')).toMatch(/proxy_pass http:\/\/u_\w+_shop_v1_8080/);
    await command('promote');
    await run.run(2);
    expect(await rollout()).toMatchObject({ phase: 'Promoted', weight: 100 });
    expect(serverOf(await mountedConfig(), 'shop.test')).toMatch(/proxy_pass http:\/\/u_\w+_shop_v2_8080/);
    clock += 61_000;
    await run.run(3);
    expect(await rollout()).toMatchObject({ phase: 'Succeeded', weight: 100 });
  });

  it('leaves a Route named like the preview alone and says why the preview is not served', async () => {
    await applyObject(docker, route('shop-preview', { serviceCluster: 'edge', hosts: ['mine.shop.test'], rules: [{ backends: [{ service: 'shop-v1', port: 8080 }] }] }));
    await applyObject(docker, blueGreenShop);
    await new CoreRun(docker, quiet, {}, now).run(1);
    const conf = await mountedConfig();
    expect(conf).toContain('server_name "mine.shop.test"');
    expect(conf).not.toContain('preview.shop.test');
    expect((await rolloutCondition())?.message).toContain('the preview is not served: a Route named "shop-preview" exists');
    const [mine] = await docker.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=shop-preview`]);
    // The user's Route keeps its own status (accepted, its references resolved), not the preview's.
    const conditions = parseStatus(mine?.Spec.Labels?.[LABELS.status])?.conditions ?? [];
    expect(conditions.filter((c) => c.type === 'Accepted' || c.type === 'ResolvedRefs').map((c) => c.status)).toEqual(['True', 'True']);
  });
});
