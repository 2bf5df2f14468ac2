/**
 * The boot endpoint set of a dynamic-endpoints proxy service (ADR 0035): the set rendered with the
 * boot config is stored as its own Swarm config and mounted beside it when the service is created or
 * updated anyway — never a service update (a restart of every proxy task) for a task change alone —
 * and pruned once no task mounts it; it is never a revision.
 */
import { describe, expect, it } from 'vitest';
import { LABELS } from '../../src/domain/labels';
import type { ConfigInfo, ServiceSpec, TaskInfo } from '../../src/observed/docker-port';
import type { LiveState } from '../../src/observed/live-state';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { BOOT_ENDPOINTS_PATH } from '../../src/plan/proxy-runtime';
import { clusterRevisions } from '../../src/plan/revisions';
import { decodeStoredConfig } from '../../src/plan/stored-config';
import { BOOT_ENDPOINTS_STEP, bootEndpointsConfigName } from '../../src/plan/writes/boot-endpoints';
import { planProxy, PROXY_CONFIG_STEP } from '../../src/plan/writes/proxy-writes';
import { labelledServiceSpec, unlabelledServiceSpec } from '../../src/plan/writes/service-labels';
import type { Step } from '../../src/plan/writes/steps';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';
import { mainFile } from '../../src/plan/pipeline';
import { ENDPOINTS_FILE, renderCluster } from '../../src/render/render-cluster';

const agent = { coreAddress: 'swarmgate-core:50051', controlNetworkId: 'id-ctl' };
const RENDERED = 'events {}\nhttp {}\n';
const SET_A = 'sg_u_web 1 10 - 10.0.0.5:80 10.0.0.6:80\n';
const SET_B = 'sg_u_web 1 10 - 10.0.0.5:80 10.0.0.7:80\n';

function model(proxy: Record<string, unknown>, tasks: unknown[] = []): ProxyModel {
  const snap = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks, networks: [{ name: 'app' }] });
  const m = buildModel(desired([route('shop', { hosts: ['shop.test'], rules: [{ backends: [{ service: 'app', port: 80 }] }] })], [cluster('default', { proxy })]), snap).clusters.find((c) => c.cluster === 'default');
  if (m === undefined) throw new Error('no model');
  return m;
}

const dynamic = model({ delivery: 'hitless', endpoints: 'Dynamic' });

function config(id: string, name: string, labels: Record<string, string>, data = ''): ConfigInfo {
  return { ID: id, Version: { Index: 1 }, Spec: { Name: name, Labels: { [LABELS.owner]: 'swarmgate', [LABELS.role]: 'proxy-config', [LABELS.cluster]: 'default', ...labels }, Data: Buffer.from(data).toString('base64') } };
}

function live(configs: ConfigInfo[], service?: ServiceSpec, tasks: TaskInfo[] = []): LiveState {
  return {
    services: service !== undefined ? [{ ID: 'svc', Version: { Index: 7 }, Spec: service }] : [],
    tasks,
    networks: [{ Id: 'id-app', Name: 'app', Driver: 'overlay', Scope: 'swarm' }, { Id: 'id-ctl', Name: 'swarmgate-control', Driver: 'overlay', Scope: 'swarm' }],
    secrets: [],
    nodes: [],
    proxyConfigs: configs,
  };
}

const serviceStep = (steps: readonly Step[]) => steps.find((s): s is Extract<Step, { op: 'createService' | 'updateService' }> => s.op === 'createService' || s.op === 'updateService');
const createdConfigs = (steps: readonly Step[]) => steps.filter((s): s is Extract<Step, { op: 'createConfig' }> => s.op === 'createConfig');
const mountOf = (spec: ServiceSpec | undefined) => (spec?.TaskTemplate.ContainerSpec.Configs ?? []).find((c) => c.File?.Name === BOOT_ENDPOINTS_PATH);

/** The service a service step wrote, as Docker lists it (step references resolved to IDs). */
function asListed(steps: readonly Step[], ids: Readonly<Record<string, string>>): ServiceSpec {
  const s = serviceStep(steps);
  if (s === undefined) throw new Error('no service step');
  const bare = unlabelledServiceSpec(s.spec);
  const configs = (bare.TaskTemplate.ContainerSpec.Configs ?? []).map((c) => ({ ...c, ConfigID: ids[c.ConfigID ?? ''] ?? c.ConfigID }));
  return labelledServiceSpec({ ...bare, TaskTemplate: { ...bare.TaskTemplate, ContainerSpec: { ...bare.TaskTemplate.ContainerSpec, Configs: configs } } });
}

const mainName = (steps: readonly Step[]) => createdConfigs(steps).find((s) => s.id === PROXY_CONFIG_STEP)?.spec.Name ?? '';

describe('the boot endpoint set of a Dynamic proxy service', () => {
  const first = planProxy({ model: dynamic, rendered: RENDERED, bootEndpoints: SET_A, live: live([]), agent });
  const epA = bootEndpointsConfigName('default', SET_A);
  const spec = asListed(first.steps, { [`ref:${PROXY_CONFIG_STEP}`]: 'cfg1', [`ref:${BOOT_ENDPOINTS_STEP}`]: 'epA' });
  const configs = [config('cfg1', mainName(first.steps), createdConfigs(first.steps)[0]?.spec.Labels ?? {}, RENDERED), config('epA', epA, { [LABELS.bootEndpoints]: 'true' }, SET_A)];

  it('a new service mounts the set beside its boot config, created before the service, content-addressed and no revision', () => {
    const created = createdConfigs(first.steps);
    expect(created.map((s) => s.spec.Name)).toEqual([mainName(first.steps), epA]);
    expect(epA).toMatch(/^sg-ep-default-[0-9a-f]{12}$/);
    const ep = created[1];
    expect(Buffer.from(ep?.spec.Data ?? '', 'base64').toString()).toBe(SET_A);
    expect(ep?.spec.Labels?.[LABELS.revision]).toBeUndefined();
    expect(first.steps.findIndex((s) => s.op === 'createService')).toBeGreaterThan(first.steps.findIndex((s) => s.op === 'createConfig' && s.id === BOOT_ENDPOINTS_STEP));
    expect(mountOf(serviceStep(first.steps)?.spec)).toMatchObject({ ConfigID: `ref:${BOOT_ENDPOINTS_STEP}`, ConfigName: epA, File: { Name: BOOT_ENDPOINTS_PATH, Mode: 0o444 } });
    expect(clusterRevisions(configs, 'default').map((r) => r.config.Spec.Name)).toEqual([mainName(first.steps)]);
  });

  it('a task change (another set, same config) writes nothing: no Swarm config, no service update, the mounted set stays', () => {
    const p = planProxy({ model: dynamic, rendered: RENDERED, bootEndpoints: SET_B, live: live(configs, spec), agent });
    expect(p.steps.filter((s) => s.op !== 'deliver')).toEqual([]);
  });

  it('a service update for another reason mounts the current set; the old one goes once no task mounts it', () => {
    const updated = model({ delivery: 'hitless', endpoints: 'Dynamic', stopGracePeriod: '17s' });
    const running: TaskInfo = { ID: 't1', ServiceID: 'svc', DesiredState: 'running', Status: { State: 'running' }, Spec: { ContainerSpec: { Configs: spec.TaskTemplate.ContainerSpec.Configs ?? [] } } };
    const p = planProxy({ model: updated, rendered: RENDERED, bootEndpoints: SET_B, live: live(configs, spec, [running]), agent });
    const epB = bootEndpointsConfigName('default', SET_B);
    expect(createdConfigs(p.steps).map((s) => s.spec.Name)).toEqual([epB]);
    expect(mountOf(serviceStep(p.steps)?.spec)?.ConfigName).toBe(epB);
    expect(p.steps.filter((s) => s.op === 'removeConfig')).toEqual([]);
    const after = asListed(p.steps, { [`ref:${BOOT_ENDPOINTS_STEP}`]: 'epB' });
    const next = planProxy({ model: updated, rendered: RENDERED, bootEndpoints: SET_B, live: live([...configs, config('epB', epB, { [LABELS.bootEndpoints]: 'true' }, SET_B)], after), agent });
    expect(next.steps.filter((s) => s.op !== 'deliver').map((s) => [s.op, 'name' in s ? s.name : ''])).toEqual([['removeConfig', epA]]);
  });

  it('a service from before boot endpoint sets (none mounted) is not restarted to mount one', () => {
    const bare = unlabelledServiceSpec(spec);
    const old = labelledServiceSpec({ ...bare, TaskTemplate: { ...bare.TaskTemplate, ContainerSpec: { ...bare.TaskTemplate.ContainerSpec, Configs: (bare.TaskTemplate.ContainerSpec.Configs ?? []).filter((c) => c.File?.Name !== BOOT_ENDPOINTS_PATH) } } });
    const p = planProxy({ model: dynamic, rendered: RENDERED, bootEndpoints: SET_A, live: live([configs[0] as ConfigInfo], old), agent });
    expect(p.steps.filter((s) => s.op !== 'deliver')).toEqual([]);
  });

  it('a set larger than a Swarm config is stored gzip; one that does not fit even so is not mounted', () => {
    const big = Array.from({ length: 400 }, (_, i) => `sg_u_${i} 1 10 - 10.0.${i % 250}.${i % 200}:80\n`).join('');
    const gz = planProxy({ model: dynamic, rendered: RENDERED, bootEndpoints: big, live: live([]), agent, configLimit: 8_000 });
    const ep = createdConfigs(gz.steps).find((s) => s.id === BOOT_ENDPOINTS_STEP);
    expect(ep?.spec.Labels?.[LABELS.encoding]).toBe('gzip');
    expect(decodeStoredConfig([Buffer.from(ep?.spec.Data ?? '', 'base64')])).toBe(big);
    const none = planProxy({ model: dynamic, rendered: RENDERED, bootEndpoints: big, live: live([]), agent, configLimit: 300 });
    expect(createdConfigs(none.steps).some((s) => s.id === BOOT_ENDPOINTS_STEP)).toBe(false);
    expect(mountOf(serviceStep(none.steps)?.spec)).toBeUndefined();
  });

  it('an empty set (no HTTP backend yet) is not mounted: nothing to seed, and Swarm refuses a 0-byte config', () => {
    const p = planProxy({ model: dynamic, rendered: RENDERED, bootEndpoints: '', live: live([]), agent });
    expect(createdConfigs(p.steps).map((s) => s.id)).toEqual([PROXY_CONFIG_STEP]);
    expect(serviceStep(p.steps)?.op).toBe('createService');
    expect(mountOf(serviceStep(p.steps)?.spec)).toBeUndefined();
  });

  it('the default becoming Dynamic (ADR 0039) restarts no proxy: the config is delivered, the service stays as it is', () => {
    // Before: the cluster rendered Static (the old default) and its service was created with that config.
    const before = model({ endpoints: 'Static' }, [task('app', '10.0.1.5')]);
    const staticFiles = renderCluster(before);
    const created = planProxy({ model: before, rendered: mainFile(staticFiles), live: live([]), agent });
    const listed = asListed(created.steps, { [`ref:${PROXY_CONFIG_STEP}`]: 'cfgS' });
    const stored = [config('cfgS', mainName(created.steps), createdConfigs(created.steps)[0]?.spec.Labels ?? {}, mainFile(staticFiles))];
    // After the core upgrade: the same spec, no proxy.endpoints, renders Dynamic.
    const after = model({}, [task('app', '10.0.1.5')]);
    expect(after.spec.proxy.endpoints).toBe('Dynamic');
    const files = renderCluster(after);
    const set = files.files.find((f) => f.path === ENDPOINTS_FILE)?.content ?? '';
    // The host's line (its locations, ADR 0050), then the upstream's.
    expect(set).toMatch(/^@shop\.test \^ \/ shop u_\w+\nu_\w+ 1 1 - 10\.0\.1\.5:80\n$/);
    expect(mainFile(staticFiles)).toContain('server 10.0.1.5:80');
    expect(mainFile(files)).not.toBe(mainFile(staticFiles));
    const delivery = { proxyKind: 'nginx' as const, files: files.files.map((f) => ({ path: f.path, content: Buffer.from(f.content) })), configHash: 'h-dynamic', immediate: false, deliveredHash: 'h-static' };
    const p = planProxy({ model: after, rendered: mainFile(files), bootEndpoints: set, live: live(stored, listed), agent, delivery });
    expect(serviceStep(p.steps)).toBeUndefined();
    expect(createdConfigs(p.steps).some((s) => s.id === BOOT_ENDPOINTS_STEP)).toBe(false);
    expect(p.steps.filter((s) => s.op === 'deliver')).toHaveLength(1);
  });

  it('rolling delivery mounts no set (no agent to install it)', () => {
    const p = planProxy({ model: model({ delivery: 'rolling' }), rendered: RENDERED, bootEndpoints: SET_A, live: live([]) });
    expect(createdConfigs(p.steps).map((s) => s.id)).toEqual([PROXY_CONFIG_STEP]);
    expect(mountOf(serviceStep(p.steps)?.spec)).toBeUndefined();
  });
});
