/**
 * The core checks the exact bytes that ship, before anything ships: what the validator saw is
 * byte-identical to what the hitless agents get and to the Swarm config the tasks boot with, and
 * a config an extension submits over real gRPC is checked by the core itself — a submission that
 * fails `nginx -t` is never delivered, whatever the extension reported.
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
import { applyObject } from '../../src/desired/spec-store';
import { parseStatus } from '../../src/status/object-status';
import { validateFiles, type FilesValidator, type ShippedFile } from '../../src/validate/validate-files';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';
import { pollUntil as until } from '../helpers/poll';

const quiet = pino({ level: 'silent' });
const agents = { coreAddress: 'swarmgate-core:50051', controlNetwork: 'swarmgate-control', insecure: true };
const web = (...hosts: string[]) => route('web', { serviceCluster: 'edge', hosts, rules: [{ backends: [{ service: 'web', port: 8080 }] }] });

let docker: FakeDocker;
let plane: ControlPlane;
let api: CoreApi;
let core: CoreConnection;
let ext: Extension | undefined;
/** Every check the core ran: the files exactly as the validator received them. */
let checked: { kind: string; files: { path: string; bytes: Buffer }[] }[];

const recording: FilesValidator = (kind, files, secrets) => {
  checked.push({ kind, files: files.map((f: ShippedFile) => ({ path: f.path, bytes: Buffer.from(f.content) })) });
  return validateFiles(kind, files, { secrets });
};

async function programmed() {
  const [c] = await docker.listConfigs([`${LABELS.kind}=ServiceCluster`, `${LABELS.name}=edge`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions.find((x) => x.type === 'Programmed');
}

/** The bytes of the Swarm config the proxy service mounts (the boot config of hitless tasks). */
async function swarmConfigBytes(): Promise<Buffer | undefined> {
  const id = docker.service('sg-proxy-edge')?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigID;
  if (id === undefined) return undefined;
  return Buffer.from((await docker.inspectConfig(id)).Spec.Data ?? '', 'base64');
}

function submit(modelHash: string, content: string, reported: { ok: boolean; output: string }): Promise<boolean> {
  return new Promise((resolve, reject) =>
    core.client.SubmitConfig({ cluster: 'edge', modelHash, files: [{ path: 'nginx.conf', content: Buffer.from(content) }], validation: reported, proxyKind: 'nginx' }, (err, r) =>
      err !== null || r === undefined ? reject(err ?? new Error('no reply')) : resolve(r.accepted),
    ),
  );
}

beforeEach(async () => {
  checked = [];
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  docker.addNetwork('swarmgate-control');
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 2);
  await applyObject(docker, cluster('edge', { proxy: { replicas: 1, delivery: 'hitless' } }));
  await applyObject(docker, web('web.test'));
  plane = new ControlPlane();
  const socket = `unix://${mkdtempSync(join(tmpdir(), 'sg-validate-'))}/core.sock`;
  api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log: quiet });
  core = coreConnection(socket, grpc.credentials.createInsecure());
});

afterEach(async () => {
  ext?.stop();
  core.close();
  await api.close();
});

describe('the core validates the bytes that ship', () => {
  it('checks exactly the bytes it then delivers to agents and stores as the Swarm config', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents, validate: recording });
    await run.run(1);
    await applyObject(docker, web('web.test', 'www.test'));
    await run.run(2);
    expect(checked.length).toBeGreaterThanOrEqual(2);
    expect(checked.every((c) => c.kind === 'nginx' && c.files.length === 1 && c.files[0]?.path === 'nginx.conf')).toBe(true);
    const last = checked[checked.length - 1]?.files[0]?.bytes ?? Buffer.alloc(0);
    expect(last.toString()).toContain('www.test');
    // What the agents get is the last check's bytes, byte for byte.
    const delivered = plane.delivered('edge');
    // With Dynamic endpoints (the default with hitless delivery, ADR 0039) the set travels beside it.
    expect(delivered?.files.map((f) => f.path)).toEqual(['nginx.conf', 'endpoints.txt']);
    expect(delivered?.files[0]?.content.equals(last)).toBe(true);
    // The boot config (a Swarm config, written when the service was created) is one of the checked texts.
    const boot = await swarmConfigBytes();
    expect(boot).toBeDefined();
    expect(checked.some((c) => c.files[0]?.bytes.equals(boot ?? Buffer.alloc(0)))).toBe(true);
    expect(await programmed()).not.toMatchObject({ reason: 'Invalid' });
  });

  it('checks an extension\'s submission itself: the validated bytes are the submitted and delivered ones', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents, externalExtension: true, validate: recording });
    ext = new Extension({ core, cluster: 'edge', log: quiet });
    ext.start();
    await run.run(1);
    const sub = await until('submission', () => plane.submission('edge', plane.model('edge')?.modelHash ?? ''));
    expect(checked).toEqual([]);
    await run.run(2);
    expect(checked).toHaveLength(1);
    const submitted = sub.files[0]?.content ?? Buffer.alloc(0);
    expect(checked[0]?.files[0]?.bytes.equals(submitted)).toBe(true);
    expect(plane.delivered('edge')?.files[0]?.content.equals(submitted)).toBe(true);
    expect((await swarmConfigBytes())?.equals(submitted)).toBe(true);
  });

  it('never delivers a submission that fails nginx -t, although the extension reported it valid', async () => {
    const run = new CoreRun(docker, quiet, { plane, agents, externalExtension: true });
    ext = new Extension({ core, cluster: 'edge', log: quiet });
    ext.start();
    await run.run(1);
    await until('first submission', () => plane.submission('edge', plane.model('edge')?.modelHash ?? ''));
    await run.run(2);
    const good = plane.delivered('edge');
    expect(good?.files[0]?.content.toString()).toContain('web.test');
    const bootConfig = await swarmConfigBytes();
    // A misbehaving extension: renders nonsense for the next model and says it passed.
    ext.stop();
    ext = undefined;
    await applyObject(docker, web('web.test', 'www.test'));
    await run.run(3);
    const modelHash = plane.model('edge')?.modelHash ?? '';
    const bad = (good?.files[0]?.content.toString() ?? '').replace('http {', 'http {\n    bogus_directive on;');
    expect(await submit(modelHash, bad, { ok: true, output: '' })).toBe(true);
    await run.run(4);
    expect(plane.delivered('edge')).toEqual(good);
    expect((await swarmConfigBytes())?.equals(bootConfig ?? Buffer.alloc(1))).toBe(true);
    expect(await programmed()).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect((await programmed())?.message).toContain('unknown directive "bogus_directive" in /etc/nginx/nginx.conf');
  });
});
