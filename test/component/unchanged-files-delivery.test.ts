/**
 * ADR 0042 through the real gRPC server, the real proxy agent and a real NGINX (Lua balancer): a
 * task change in a Dynamic cluster reaches an agent that resolves references without nginx.conf's
 * bytes (the stream carries it as `unchanged`), the agent verifies the delivery hash over the
 * resolved files and pushes the endpoints (served by the new task, same NGINX workers). A stream
 * whose agent did not ask (every agent before this change) gets every file whole; a new stream starts
 * whole, so an agent whose stream was cut (here: the core's API restarted) still applies the next
 * task change.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreConnection } from '../../src/api/client';
import { ControlPlane, deliveryHash } from '../../src/api/control-plane';
import type { ProxyConfig__Output } from '../../src/api/generated/swarmgate/v1/ProxyConfig';
import { startCoreApi, type CoreApi } from '../../src/api/server';
import type { ProxyAgent } from '../../src/agent/proxy-agent';
import { buildModel } from '../../src/plan/build-model';
import { renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { ENDPOINTS_FILE } from '../../src/render/render-cluster';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { send } from '../helpers/http-client';
import { freePorts, loopbackRenderOptions } from '../helpers/nginx-process';
import { desired, route, snapshot, task } from '../helpers/specs';
import { pollUntilOk as until } from '../helpers/poll';
import { nginxWorkerPids, startEdgeAgent, stopEdgeAgent } from '../helpers/edge-agent';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'sg-unchanged-'));
const confDir = join(dir, 'live');
const socket = `unix://${dir}/core.sock`;
const plane = new ControlPlane();
const backends: Backend[] = [];
let api: CoreApi;
let agent: ProxyAgent;
let core: ReturnType<typeof coreConnection>;
let http = 0;
let backendPort = 0;
let opts: Parameters<typeof renderNginxWithEndpoints>[1] = {};

function files(webIps: readonly string[]) {
  const snap = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: webIps.map((ip) => task('web', ip)), networks: [{ name: 'app', driver: 'overlay', scope: 'swarm' }] });
  const m = buildModel(desired([route('a', { hosts: ['a.test'], rules: [{ backends: [{ service: 'web', port: backendPort }] }] })]), snap).clusters[0];
  if (m === undefined) throw new Error('no cluster');
  const r = renderNginxWithEndpoints(m, opts);
  return [
    { path: 'nginx.conf', content: Buffer.from(r.config) },
    { path: ENDPOINTS_FILE, content: Buffer.from(r.endpoints) },
  ];
}

/** A raw WatchProxyConfig stream (as an agent of either version opens it), recording every message as it arrives. */
function watch(resolvesUnchangedFiles: boolean): { messages: ProxyConfig__Output[]; close(): void } {
  const c = coreConnection(socket, grpc.credentials.createInsecure());
  const messages: ProxyConfig__Output[] = [];
  const s = c.client.WatchProxyConfig({ cluster: 'edge', replicaId: resolvesUnchangedFiles ? 'watch-new' : 'watch-old', resolvesUnchangedFiles });
  s.on('data', (m: ProxyConfig__Output) => void messages.push(m));
  s.on('error', () => undefined);
  return {
    messages,
    close: () => {
      s.cancel();
      c.close();
    },
  };
}

const shape = (m: ProxyConfig__Output | undefined) => m?.files.map((f) => ({ path: f.path, unchanged: f.unchanged, bytes: f.content.length }));
const messageFor = (w: { messages: ProxyConfig__Output[] }, hash: string) => until(`message ${hash.slice(0, 12)}`, () => w.messages.find((m) => m.configHash === hash));

async function tasksServing(n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await send({ port: http, host: 'a.test' });
    seen.add(r.status === 200 ? (JSON.parse(r.body) as EchoReply).task : `status ${r.status}`);
  }
  return seen;
}

const workers = (): number[] => nginxWorkerPids(confDir);

const applied = (hash: string) => until(`${hash.slice(0, 12)} applied`, () => plane.reportsOf('edge').find((r) => r.replicaId === 'task-1' && r.appliedHash === hash));

beforeAll(async () => {
  const ports = await freePorts(8);
  const control = ports[6] ?? 0;
  [http = 0, , , , , , , backendPort = 0] = ports;
  opts = {
    ...loopbackRenderOptions(confDir, ports.slice(0, 6)),
    dynamicEndpoints: { controlPort: control, endpointsPath: join(confDir, ENDPOINTS_FILE), modulesDir: '/usr/lib/nginx/modules' },
  };
  for (const ip of ['127.0.58.1', '127.0.58.2', '127.0.58.3']) backends.push(await startEcho('web', ip, ip, backendPort));
  ({ api, core, agent } = await startEdgeAgent({ dir, confDir, plane, log, http, control }));
}, 30_000);

afterAll(async () => {
  await stopEdgeAgent({ agent, core, api });
  await Promise.all(backends.map((b) => b.close()));
});

describe('unchanged files by reference (ADR 0042)', () => {
  it('a task change carries nginx.conf as a reference to an agent that asks, whole to one that does not', async () => {
    const fresh = watch(true);
    const old = watch(false);
    try {
      const v1 = plane.deliver('edge', 'nginx', files(['127.0.58.1']));
      await applied(v1.configHash);
      expect(await tasksServing(4)).toEqual(new Set(['127.0.58.1']));
      const before = workers();

      const v2 = plane.deliver('edge', 'nginx', files(['127.0.58.1', '127.0.58.2']));
      const conf = v2.files.find((f) => f.path === 'nginx.conf')?.content.length ?? 0;
      const endpoints = v2.files.find((f) => f.path === ENDPOINTS_FILE)?.content.length ?? 0;
      expect(conf).toBeGreaterThan(0);
      // The first message of a stream is whole, the task change only carries the endpoints.
      expect(shape(await messageFor(fresh, v1.configHash))).toEqual([{ path: 'nginx.conf', unchanged: false, bytes: v1.files[0]?.content.length }, { path: ENDPOINTS_FILE, unchanged: false, bytes: v1.files[1]?.content.length }]);
      expect(shape(await messageFor(fresh, v2.configHash))).toEqual([{ path: 'nginx.conf', unchanged: true, bytes: 0 }, { path: ENDPOINTS_FILE, unchanged: false, bytes: endpoints }]);
      // An agent from before this change: whole files, which verify against the hash as they are.
      const whole = await messageFor(old, v2.configHash);
      expect(shape(whole)).toEqual([{ path: 'nginx.conf', unchanged: false, bytes: conf }, { path: ENDPOINTS_FILE, unchanged: false, bytes: endpoints }]);
      expect(deliveryHash(whole.files, [])).toBe(v2.configHash);

      // The real agent resolved the reference, verified the hash and pushed: new task served, no reload.
      await applied(v2.configHash);
      expect(await tasksServing(10)).toEqual(new Set(['127.0.58.1', '127.0.58.2']));
      expect(workers()).toEqual(before);
    } finally {
      fresh.close();
      old.close();
    }
  });

  it('a stream opened later starts whole; after the core API restarted the agent applies the next task change', async () => {
    const current = plane.delivered('edge');
    if (current === undefined) throw new Error('nothing delivered');
    const late = watch(true);
    try {
      expect(shape(await messageFor(late, current.configHash))?.map((f) => f.unchanged)).toEqual([false, false]);
    } finally {
      late.close();
    }
    await api.close();
    api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
    const before = workers();
    const v3 = plane.deliver('edge', 'nginx', files(['127.0.58.3']));
    await applied(v3.configHash);
    expect(await tasksServing(6)).toEqual(new Set(['127.0.58.3']));
    expect(workers()).toEqual(before);
  }, 30_000);
});
