/**
 * Sticky canary on a real NGINX: with a proxy-issued `sessionAffinity.cookie`, a client stays on
 * the version it landed on while the weights change (in both directions), new clients follow the
 * new weights, and clients of a version whose weight drops to 0 move to the remaining one.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import { renderNginx } from '../../src/render/nginx/render';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { send } from '../helpers/http-client';
import { freePorts, loopbackRenderOptions, startNginx, type RunningNginx } from '../helpers/nginx-process';
import { desired, route, snapshot, task } from '../helpers/specs';

let nginx: RunningNginx | undefined;
const backends: Backend[] = [];
let ports: number[] = [];
let http = 0;
let backendPort = 0;

async function serve(v1: number, v2: number): Promise<void> {
  await nginx?.stop();
  const backendsOf = [
    ...(v1 > 0 ? [{ service: 'v1', port: backendPort, weight: v1 }] : []),
    ...(v2 > 0 ? [{ service: 'v2', port: backendPort, weight: v2 }] : []),
  ];
  const r = route('shop', { hosts: ['shop.test'], rules: [{ backends: backendsOf, sessionAffinity: { cookie: { name: 'sg_v', ttl: '1h' } } }] });
  const snap = snapshot({ services: [{ name: 'v1', networks: ['app'] }, { name: 'v2', networks: ['app'] }], tasks: [task('v1', '127.0.10.1'), task('v2', '127.0.10.2')], networks: [{ name: 'app' }], secrets: [] });
  const model = buildModel(desired([r]), snap).clusters[0];
  if (model === undefined) throw new Error('no model');
  const dir = mkdtempSync(join(tmpdir(), 'sg-nginx-'));
  const config = renderNginx(model, loopbackRenderOptions(dir, ports));
  nginx = await startNginx(config, http, dir);
}

/** One request as a client with this cookie (or none): the version and the cookie it gets back. */
async function visit(cookie?: string): Promise<{ version: string; cookie: string }> {
  const r = await send({ port: http, host: 'shop.test', path: '/', headers: cookie !== undefined ? { cookie } : {} });
  expect(r.status).toBe(200);
  const set = r.headers['set-cookie']?.[0]?.split(';')[0] ?? '';
  return { version: (JSON.parse(r.body) as EchoReply).service, cookie: set };
}

async function newClients(n: number): Promise<{ version: string; cookie: string }[]> {
  const out: { version: string; cookie: string }[] = [];
  for (let i = 0; i < n; i++) out.push(await visit());
  return out;
}

const share = (clients: readonly { version: string }[], v: string) => clients.filter((c) => c.version === v).length / clients.length;

beforeAll(async () => {
  ports = await freePorts(7);
  http = ports[0] ?? 0;
  backendPort = ports[6] ?? 0;
  backends.push(await startEcho('v1', 't1', '127.0.10.1', backendPort), await startEcho('v2', 't2', '127.0.10.2', backendPort));
}, 30_000);

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(backends.map((b) => b.close()));
});

describe('sticky canary', () => {
  it('keeps every client on its version while weights change, and moves them off a version at weight 0', async () => {
    await serve(80, 20);
    const clients = await newClients(300);
    expect(share(clients, 'v2')).toBeGreaterThan(0.1);
    expect(share(clients, 'v2')).toBeLessThan(0.3);
    for (const c of clients) expect(c.cookie).toMatch(/^sg_v=[0-9a-f]+\.[0-9a-f]{8}$/);

    for (const [v1, v2] of [[20, 80], [95, 5], [50, 50]] as const) {
      await serve(v1, v2);
      for (const c of clients) expect((await visit(c.cookie)).version).toBe(c.version);
      const fresh = await newClients(300);
      expect(Math.abs(share(fresh, 'v2') - v2 / 100)).toBeLessThan(0.1);
    }

    // v1 at weight 0: its clients move to v2, and get a cookie naming v2 once the split is back.
    await serve(0, 100);
    for (const c of clients) expect((await visit(c.cookie)).version).toBe('v2');
    await serve(50, 50);
    const moved = clients.filter((c) => c.version === 'v1');
    expect(moved.length).toBeGreaterThan(100);
    // Their old cookie still names v1, which has weight again: they return to it (the pin holds while v1 is routed).
    for (const c of moved.slice(0, 20)) expect((await visit(c.cookie)).version).toBe('v1');
  }, 60_000);
});
