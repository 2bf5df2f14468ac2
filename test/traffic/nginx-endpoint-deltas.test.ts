/**
 * Endpoint deltas on a real NGINX with Debian's Lua module (ADR 0038): the agent's client of the
 * balancer (NginxEndpoints) pushes the whole set once, then only the upstreams whose lines changed.
 * A delta adds or removes one backend's task with no reload (same worker PIDs) and leaves every
 * other upstream's line as it was; any sequence of changes leaves the balancer holding exactly the
 * final set (what a whole push of it gives); a delta on another set than the balancer holds is
 * refused (409), so after a restart — NGINX seeded from a file the agent did not push — the agent
 * pushes the whole set; the set and its version survive a reload (HUP).
 */
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_HEADER, controlRequest, endpointLines, NginxEndpoints, setVersion, VERSION_HEADER } from '../../src/agent/nginx-endpoints';
import { buildModel } from '../../src/plan/build-model';
import { renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { send } from '../helpers/http-client';
import { dynamicNginxSetup } from '../helpers/dynamic-nginx-traffic';
import { startNginx, type RunningNginx } from '../helpers/nginx-process';
import { desired, route, snapshot, task } from '../helpers/specs';

const dir = mkdtempSync(join(tmpdir(), 'sg-dyn-delta-'));
const endpointsPath = join(dir, 'endpoints.txt');
let nginx: RunningNginx;
let http = 0;
let control = 0;
let backendPort = 0;
let opts: Parameters<typeof renderNginxWithEndpoints>[1] = {};
let config = '';
const backends: Backend[] = [];
const [W1, W2, W3, O1] = ['127.0.58.1', '127.0.58.2', '127.0.58.3', '127.0.58.9'];

/** Two routes: web (its tasks vary) and other (one task, never changed). */
function render(webIps: readonly string[]): { config: string; endpoints: string } {
  const routes = [
    route('web', { hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port: backendPort }] }] }),
    route('other', { hosts: ['other.test'], rules: [{ backends: [{ service: 'other', port: backendPort }] }] }),
  ];
  const snap = snapshot({
    services: ['web', 'other'].map((name) => ({ name, networks: ['app'] })),
    tasks: [...webIps.map((ip) => task('web', ip)), task('other', O1 ?? '')],
    networks: [{ name: 'app', driver: 'overlay', scope: 'swarm' }],
  });
  const m = buildModel(desired(routes), snap).clusters[0];
  if (m === undefined) throw new Error('no cluster');
  return renderNginxWithEndpoints(m, opts);
}

/** The balancer's set as it answers GET: sorted lines, and its version. */
async function held(): Promise<{ lines: string[]; version: string | undefined }> {
  const a = await controlRequest('GET', '', {}, control);
  expect(a.status).toBe(200);
  return { lines: a.text.split('\n').filter((l) => l !== ''), version: a.version };
}
const sorted = (text: string): string[] => [...endpointLines(text).values()].sort();

async function tasksServing(host: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await send({ port: http, host });
    out.push(r.status === 200 ? (JSON.parse(r.body) as EchoReply).task : `status ${r.status}`);
  }
  return out;
}

function workerPids(): number[] {
  const master = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim());
  return readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).map(Number).sort();
}

async function hup(): Promise<void> {
  const before = workerPids();
  process.kill(Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim()), 'SIGHUP');
  const until = Date.now() + 10_000;
  while (Date.now() < until && workerPids().some((p) => before.includes(p))) await new Promise((r) => setTimeout(r, 50));
  expect(workerPids().some((p) => before.includes(p))).toBe(false);
}

const agent = (): NginxEndpoints => new NginxEndpoints(control);
let balancer: NginxEndpoints;

beforeAll(async () => {
  ({ http, control, backendPort, opts } = await dynamicNginxSetup(dir));
  for (const ip of [W1, W2, W3, O1]) backends.push(await startEcho('svc', ip ?? '', ip ?? '', backendPort));
  const first = render([W1 ?? '']);
  config = first.config;
  writeFileSync(endpointsPath, first.endpoints);
  nginx = await startNginx(config, http, dir);
  balancer = agent();
}, 30_000);

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(backends.map((b) => b.close()));
});

describe('NGINX endpoint deltas (Lua balancer)', () => {
  it('pushes the whole set first, then only the changed upstream: served at once, no reload, the other upstream untouched', async () => {
    const first = render([W1 ?? '']);
    expect(await balancer.push(dir, first.endpoints)).toMatchObject({ ok: true, sent: 'whole' });
    const before = await held();
    expect(before).toEqual({ lines: sorted(first.endpoints), version: setVersion(first.endpoints) });
    const pids = workerPids();

    const next = render([W1 ?? '', W2 ?? '']);
    expect(next.config).toBe(config);
    expect(await balancer.push(dir, next.endpoints)).toMatchObject({ ok: true, sent: 'delta', upstreams: 1 });
    const after = await held();
    expect(after).toEqual({ lines: sorted(next.endpoints), version: setVersion(next.endpoints) });
    // Exactly one line differs (web's); the other upstream's line is the one it had.
    expect(after.lines.filter((l) => !before.lines.includes(l))).toHaveLength(1);
    expect(after.lines.find((l) => l.includes(`${O1}:`))).toBe(before.lines.find((l) => l.includes(`${O1}:`)));
    expect(new Set(await tasksServing('web.test', 10))).toEqual(new Set([W1, W2]));
    expect(new Set(await tasksServing('other.test', 4))).toEqual(new Set([O1]));
    expect(workerPids()).toEqual(pids);
    // The file a restarted NGINX seeds from holds the whole set.
    expect(readFileSync(endpointsPath, 'utf8')).toBe(next.endpoints);
  });

  it('removes a task with a delta, with no reload', async () => {
    const pids = workerPids();
    const next = render([W2 ?? '']);
    expect(await balancer.push(dir, next.endpoints)).toMatchObject({ ok: true, sent: 'delta', upstreams: 1 });
    expect((await held()).lines).toEqual(sorted(next.endpoints));
    expect(new Set(await tasksServing('web.test', 10))).toEqual(new Set([W2]));
    expect(workerPids()).toEqual(pids);
  });

  it('refuses a delta on another set (409) and a malformed one (400), keeping what it holds', async () => {
    const before = await held();
    const stale = await controlRequest('PATCH', `-${before.lines[0]?.split(' ')[0] ?? ''}\n`, { [BASE_HEADER]: 'feedfeed', [VERSION_HEADER]: 'cafecafe' }, control);
    expect(stale.status).toBe(409);
    const bad = await controlRequest('PATCH', 'u_x 1 1 - not-an-address\n', { [BASE_HEADER]: before.version ?? '', [VERSION_HEADER]: 'cafecafe' }, control);
    expect(bad.status).toBe(400);
    expect(await held()).toEqual(before);
  });

  it('leaves the balancer holding exactly the final set after any sequence of deltas (= a whole push of it)', async () => {
    const base = render([W2 ?? '']).endpoints;
    const names = ['u_p0', 'u_p1', 'u_p2', 'u_p3', 'u_p4', 'u_p5'];
    const line = fc
      .record({ maxFails: fc.integer({ min: 0, max: 5 }), affinity: fc.constantFrom('-', 'remote_addr'), members: fc.subarray(['10.9.0.1:80', '10.9.0.2:80', '10.9.0.3:8080', '[fd00::4]:80']) })
      .map((l) => [String(l.maxFails), '10', l.affinity, ...l.members].join(' '));
    // A set: the real upstreams (so the routes keep serving) plus any subset of the probe upstreams, each with any line.
    const set = fc.dictionary(fc.constantFrom(...names), line, { maxKeys: names.length }).map((d) => `${base}${Object.entries(d).map(([n, l]) => `${n} ${l}\n`).join('')}`);
    await fc.assert(
      fc.asyncProperty(fc.array(set, { minLength: 1, maxLength: 6 }), async (sets) => {
        const pushes = [];
        for (const s of sets) pushes.push(await balancer.push(dir, s));
        expect(pushes.every((p) => p.ok && p.sent !== 'whole')).toBe(true);
        const final = sets[sets.length - 1] ?? '';
        const afterDeltas = await held();
        expect(afterDeltas).toEqual({ lines: sorted(final), version: setVersion(final) });
        expect(await agent().push(undefined, final)).toMatchObject({ ok: true, sent: 'whole' });
        expect((await held()).lines).toEqual(afterDeltas.lines);
      }),
      { numRuns: 25 },
    );
    expect(await balancer.push(dir, base)).toMatchObject({ ok: true });
    expect(new Set(await tasksServing('web.test', 6))).toEqual(new Set([W2]));
  }, 60_000);

  it('keeps the set and its version across a reload (HUP): the next push is still a delta', async () => {
    const before = await held();
    await hup();
    expect(await held()).toEqual(before);
    const next = render([W2 ?? '', W3 ?? '']);
    expect(await balancer.push(dir, next.endpoints)).toMatchObject({ ok: true, sent: 'delta', upstreams: 1 });
    expect(new Set(await tasksServing('web.test', 10))).toEqual(new Set([W2, W3]));
  }, 30_000);

  it('after a restart seeded from a file it did not push, the agent pushes the whole set', async () => {
    // A file from elsewhere (a boot set): an upstream the agent's set does not have, web at W1 only.
    const boot = `${render([W1 ?? '']).endpoints}u_stale 1 10 - 10.9.9.9:80\n`;
    writeFileSync(endpointsPath, boot);
    await nginx.stop();
    nginx = await startNginx(config, http, dir);
    expect(await held()).toEqual({ lines: sorted(boot), version: undefined });

    const next = render([W3 ?? '']);
    expect(await balancer.push(dir, next.endpoints)).toMatchObject({ ok: true, sent: 'whole' });
    expect(await held()).toEqual({ lines: sorted(next.endpoints), version: setVersion(next.endpoints) });
    expect(new Set(await tasksServing('web.test', 10))).toEqual(new Set([W3]));
  }, 30_000);
});
