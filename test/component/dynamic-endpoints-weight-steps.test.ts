/**
 * Issue 22's canary finding (ADR 0041), reproduced on the real agent and a real NGINX with the Lua
 * balancer and the drain flag, as in a hitless proxy task: a route's weights stepped 100/0 → 70/30 →
 * 30/70 → 0/100 → 30/70 → 70/30 → 100/0 → 30/70 → 0/100 → 100/0 while clients send requests without pause. With a
 * proxy-issued cookie (the one split that stays split_clients since ADR 0049) every step is a new
 * nginx.conf and a reload; a step to weight 0 drops that backend's upstream from the endpoint set. The agent pushed the new set before the reload, so the dropped upstream left the
 * balancer's dictionary while the old workers (for the drain lead, the reload, and until they exit)
 * still sent their share of requests to it: those got the 503 backup. No request may fail, and
 * after each reload the set is exactly the new one (the dropped upstream is removed, not kept).
 * Without the cookie (ADR 0049) the same steps change only the endpoint set: the agent pushes it and
 * NGINX is not reloaded (same worker PIDs), with no failed request either.
 */
import { readFileSync } from 'node:fs';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { coreConnection } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import type { CoreApi } from '../../src/api/server';
import { controlRequest } from '../../src/agent/nginx-endpoints';
import type { ProxyAgent } from '../../src/agent/proxy-agent';
import { buildModel } from '../../src/plan/build-model';
import { renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { ENDPOINTS_FILE } from '../../src/render/render-cluster';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { send } from '../helpers/http-client';
import { freePorts, loopbackRenderOptions } from '../helpers/nginx-process';
import { desired, route, snapshot, task } from '../helpers/specs';
import { pollUntilOk as until } from '../helpers/poll';
import { startEdgeAgent, stopEdgeAgent } from '../helpers/edge-agent';

const log = pino({ level: 'warn' });
const dir = mkdtempSync(join(tmpdir(), 'sg-dyn-steps-'));
const confDir = join(dir, 'live');
const plane = new ControlPlane();
const backends: Backend[] = [];
let api: CoreApi;
let agent: ProxyAgent;
let core: ReturnType<typeof coreConnection>;
let http = 0;
let control = 0;
let backendPort = 0;
let opts: Parameters<typeof renderNginxWithEndpoints>[1] = {};

const STABLE_IP = '127.0.58.1';
const CANARY_IP = '127.0.58.2';

/** The delivered files for one weight step: stable and canary, one task each; `pinned`: with a proxy-issued cookie. */
function files(stableWeight: number, pinned = true) {
  const snap = snapshot({
    services: [
      { name: 'stable', networks: ['app'] },
      { name: 'canary', networks: ['app'] },
    ],
    tasks: [task('stable', STABLE_IP), task('canary', CANARY_IP)],
    networks: [{ name: 'app', driver: 'overlay', scope: 'swarm' }],
  });
  const r = route('shop', {
    hosts: ['shop.test'],
    rules: [{ backends: [{ service: 'stable', port: backendPort, weight: stableWeight }, { service: 'canary', port: backendPort, weight: 100 - stableWeight }], ...(pinned ? { sessionAffinity: { cookie: { name: 'sg_shop', ttl: '10m' } } } : {}) }],
  });
  const m = buildModel(desired([r]), snap).clusters[0];
  if (m === undefined) throw new Error('no cluster');
  const out = renderNginxWithEndpoints(m, opts);
  return { config: out.config, endpoints: out.endpoints };
}

/** Clients sending requests back to back until stopped; every answer that is not 200 is counted. */
function load(clients: number): { stop: () => Promise<{ total: number; failed: Map<string, number> }> } {
  let running = true;
  let total = 0;
  const failed = new Map<string, number>();
  const client = async (): Promise<void> => {
    while (running) {
      total++;
      let what: string | undefined;
      try {
        const r = await send({ port: http, host: 'shop.test' });
        if (r.status !== 200) what = `${r.status} ${r.body.trim().slice(0, 60)}`;
        else if (!['stable-1', 'canary-1'].includes((JSON.parse(r.body) as EchoReply).task)) what = `200 from ${r.body.slice(0, 60)}`;
      } catch (err) {
        what = err instanceof Error ? err.message : String(err);
      }
      if (what !== undefined) failed.set(what, (failed.get(what) ?? 0) + 1);
    }
  };
  const running_ = Array.from({ length: clients }, client);
  return {
    stop: async () => {
      running = false;
      await Promise.all(running_);
      return { total, failed };
    },
  };
}

async function deliverAndWait(stableWeight: number, pinned = true): Promise<string> {
  const f = files(stableWeight, pinned);
  const v = plane.deliver('edge', 'nginx', [
    { path: 'nginx.conf', content: Buffer.from(f.config) },
    { path: ENDPOINTS_FILE, content: Buffer.from(f.endpoints) },
  ]);
  await until(`weights ${stableWeight}/${100 - stableWeight} applied`, () => plane.reportsOf('edge').find((r) => r.appliedHash === v.configHash), 20_000);
  return f.endpoints;
}

beforeAll(async () => {
  const ports = await freePorts(8);
  [http = 0, , , , , , control = 0, backendPort = 0] = ports;
  mkdirSync(confDir, { recursive: true });
  // NGINX's workers (nobody) test the drain flag in the config directory.
  chmodSync(dir, 0o755);
  chmodSync(confDir, 0o755);
  const render = loopbackRenderOptions(confDir, ports.slice(0, 6));
  opts = { ...render, dynamicEndpoints: { controlPort: control, endpointsPath: join(confDir, ENDPOINTS_FILE), modulesDir: '/usr/lib/nginx/modules' } };
  backends.push(await startEcho('stable', 'stable-1', STABLE_IP, backendPort), await startEcho('canary', 'canary-1', CANARY_IP, backendPort));
  // As in a proxy task: the drain flag held around every reload (its lead is when the old workers serve alone).
  const drainFlagPath = render.drainFlagPath ?? join(confDir, 'draining');
  ({ api, core, agent } = await startEdgeAgent({
    dir, confDir, plane, log, http, control,
    agent: { drainFlagPath, ...(render.trafficLogPort !== undefined ? { trafficPort: render.trafficLogPort } : {}), pacer: { calmMs: 0, quietMs: 0, maxWaitMs: 0 } },
  }));
  const first = await deliverAndWait(100);
  expect(first).toContain(STABLE_IP);
  expect(first).not.toContain(CANARY_IP);
}, 30_000);

afterAll(async () => {
  await stopEdgeAgent({ agent, core, api });
  await Promise.all(backends.map((b) => b.close()));
});

describe('weight steps on dynamic endpoints under load', () => {
  it('answers every request while weights step through 0 and back, and leaves exactly the new set', async () => {
    const rendered = files(100).config;
    // The layout under test: the Lua balancer with the drain flag (what a hitless cluster renders).
    expect(rendered).toContain('balancer_by_lua');
    expect(rendered).toContain('sg.draining()');
    const traffic = load(6);
    const seen: string[] = [];
    for (const w of [70, 30, 0, 30, 70, 100, 30, 0, 100]) {
      const set = await deliverAndWait(w);
      // After the reload the balancer holds exactly the new set: an upstream dropped at weight 0 is gone.
      const held = await controlRequest('GET', '', {}, control);
      expect(held.text.trim()).toBe(set.trim());
      seen.push(`${w}:${set.includes(STABLE_IP) ? 's' : ''}${set.includes(CANARY_IP) ? 'c' : ''}`);
      await new Promise((r) => setTimeout(r, 150));
    }
    const { total, failed } = await traffic.stop();
    console.log(`weight steps with a proxy-issued cookie ${seen.join(' ')}: ${total} requests, failed ${JSON.stringify(Object.fromEntries(failed))}`);
    // Both drops happened (the case under test), and traffic flowed throughout.
    expect(seen).toContain('0:c');
    expect(seen).toContain('100:s');
    expect(total).toBeGreaterThan(500);
    expect(Object.fromEntries(failed)).toEqual({});
  }, 120_000);

  it('steps a plain split through 0 and back with no reload: only the endpoint set changes (ADR 0049)', async () => {
    const master = Number(readFileSync(join(confDir, 'nginx.pid'), 'utf8').trim());
    const workers = (): string => readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim();
    await deliverAndWait(100, false);
    const config = files(100, false).config;
    const before = workers();
    const traffic = load(6);
    for (const w of [70, 30, 0, 30, 100]) {
      expect(files(w, false).config).toBe(config);
      const set = await deliverAndWait(w, false);
      const held = await controlRequest('GET', '', {}, control);
      expect(held.text.trim()).toBe(set.trim());
      await new Promise((r) => setTimeout(r, 150));
    }
    const { total, failed } = await traffic.stop();
    console.log(`weight steps as data: ${total} requests, failed ${JSON.stringify(Object.fromEntries(failed))}`);
    expect(workers()).toBe(before);
    expect(total).toBeGreaterThan(300);
    expect(Object.fromEntries(failed)).toEqual({});
  }, 60_000);
});
