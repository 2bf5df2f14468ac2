/**
 * The extension half of the API over a real gRPC socket: the core publishes a cluster's model,
 * the extension (no Docker access) renders and validates it and submits the result, and a core run
 * in external-extension mode delivers exactly what was submitted — or, for a submission that failed
 * validation, keeps the proxies on the last good config and says why.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coreConnection, type CoreConnection } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi, type CoreApi } from '../../src/api/server';
import { CoreRun } from '../../src/core/core-run';
import { Extension } from '../../src/extension/extension';
import { LABELS } from '../../src/domain/labels';
import { encodeModel } from '../../src/api/model-json';
import { applyObject } from '../../src/desired/spec-store';
import { buildModel } from '../../src/plan/build-model';
import { parseStatus } from '../../src/status/object-status';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';
import { pollUntil as until } from '../helpers/poll';

const quiet = pino({ level: 'silent' });
let docker: FakeDocker;
let plane: ControlPlane;
let api: CoreApi;
let core: CoreConnection;
let ext: Extension | undefined;

async function clusterProgrammed() {
  const [c] = await docker.listConfigs([`${LABELS.kind}=ServiceCluster`, `${LABELS.name}=edge`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions.find((x) => x.type === 'Programmed');
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 2);
  await applyObject(docker, cluster('edge', { proxy: { replicas: 1 } }));
  await applyObject(docker, route('web', { serviceCluster: 'edge', hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
  plane = new ControlPlane();
  const socket = `unix://${mkdtempSync(join(tmpdir(), 'sg-ext-'))}/core.sock`;
  api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log: quiet });
  core = coreConnection(socket, grpc.credentials.createInsecure());
});

afterEach(async () => {
  ext?.stop();
  core.close();
  await api.close();
});

describe('extension over gRPC', () => {
  it('renders what the core publishes; the core delivers exactly the submission', async () => {
    const run = new CoreRun(docker, quiet, { plane, externalExtension: true });
    await run.run(1);
    // Nothing rendered yet: no proxy service, and the cluster says what it waits for.
    expect(docker.service('sg-proxy-edge')).toBeUndefined();
    expect((await clusterProgrammed())?.message).toContain('waiting for the extension');
    ext = new Extension({ core, cluster: 'edge', log: quiet });
    ext.start();
    const modelHash = plane.model('edge')?.modelHash ?? '';
    const sub = await until('submission', () => plane.submission('edge', modelHash));
    expect(sub.validation.ok).toBe(true);
    await run.run(2);
    const svc = docker.service('sg-proxy-edge');
    const config = await docker.inspectConfig(svc?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigID ?? '');
    expect(Buffer.from(config.Spec.Data ?? '', 'base64').toString()).toBe(sub.files[0]?.content.toString());
    expect(sub.files[0]?.content.toString()).toContain('web.test');
  });

  it('keeps the last good config when the extension reports a validation failure', async () => {
    const run = new CoreRun(docker, quiet, { plane, externalExtension: true });
    ext = new Extension({ core, cluster: 'edge', log: quiet });
    ext.start();
    await run.run(1);
    await until('first submission', () => plane.submission('edge', plane.model('edge')?.modelHash ?? ''));
    await run.run(2);
    const before = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName;
    ext.stop();
    ext = new Extension({ core, cluster: 'edge', log: quiet, validate: () => ({ ok: false, output: 'nginx: [emerg] pretend failure' }) });
    ext.start();
    await applyObject(docker, route('web', { serviceCluster: 'edge', hosts: ['web.test', 'www.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
    await run.run(3);
    await until('failed submission', () => plane.submission('edge', plane.model('edge')?.modelHash ?? ''));
    await run.run(4);
    expect(docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName).toBe(before);
    expect(await clusterProgrammed()).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect((await clusterProgrammed())?.message).toContain('pretend failure');
  });

  it('renders and validates an HAProxy cluster\'s model as haproxy.cfg and submits it as haproxy', async () => {
    const snap = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: [task('web', '10.0.0.2')], networks: [{ name: 'app' }], secrets: [{ name: 'web-cert' }, { name: 'web-key' }] });
    const web = route('web', {
      serviceCluster: 'lb',
      hosts: ['web.test'],
      tls: { mode: 'Terminate', certificate: { certSecret: 'web-cert', keySecret: 'web-key' } },
      rules: [{ backends: [{ service: 'web', port: 8080 }] }],
    });
    const model = buildModel(desired([web], [cluster('lb', { proxy: { kind: 'haproxy', endpoints: 'Dynamic' } })]), snap).clusters.find((c) => c.cluster === 'lb');
    if (model === undefined) throw new Error('no cluster lb');
    const { json, hash } = encodeModel(model);
    plane.publishModel('lb', hash, json);
    ext = new Extension({ core, cluster: 'lb', log: quiet });
    ext.start();
    const sub = await until('haproxy submission', () => plane.submission('lb', hash));
    expect(sub.proxyKind).toBe('haproxy');
    expect(sub.validation, sub.validation.output).toEqual({ ok: true, output: '' });
    // Dynamic endpoints (opt-in on HAProxy, ADR 0039): the members travel beside the config.
    expect(sub.files.map((f) => f.path)).toEqual(['haproxy.cfg', 'endpoints.txt']);
    const cfg = sub.files[0]?.content.toString() ?? '';
    expect(cfg).toContain('frontend sg_http');
    expect(cfg).toContain('crt "/run/swarmgate/haproxy/certs/web-cert+web-key.pem"');
    expect(cfg).not.toMatch(/PRIVATE KEY/);
  });

  it('submits a failed haproxy -c as an invalid haproxy submission', async () => {
    const model = buildModel(desired([], [cluster('lb', { proxy: { kind: 'haproxy' } })]), snapshot({})).clusters.find((c) => c.cluster === 'lb');
    if (model === undefined) throw new Error('no cluster lb');
    const { json, hash } = encodeModel(model);
    plane.publishModel('lb', hash, json);
    ext = new Extension({ core, cluster: 'lb', log: quiet, validate: () => ({ ok: false, output: '[ALERT] pretend failure' }) });
    ext.start();
    const sub = await until('haproxy submission', () => plane.submission('lb', hash));
    expect(sub).toMatchObject({ proxyKind: 'haproxy', validation: { ok: false, output: '[ALERT] pretend failure' } });
  });

  it('refuses a submission for a model that is no longer current', async () => {
    plane.publishModel('edge', 'a'.repeat(64), '{}');
    const res = await new Promise<{ accepted: boolean }>((resolve, reject) =>
      core.client.SubmitConfig({ cluster: 'edge', modelHash: 'b'.repeat(64), files: [], validation: { ok: true, output: '' }, proxyKind: 'nginx' }, (err, r) => (err !== null || r === undefined ? reject(err ?? new Error('no reply')) : resolve(r))),
    );
    expect(res.accepted).toBe(false);
  });
});
