/**
 * Splits as data (ADR 0049) on a real NGINX with Debian's Lua module: with dynamic endpoints a rule
 * over several backends picks its upstream per request from a line of the endpoint set, so a weight
 * step, a backend's first or last task and a canary's start or end change no config byte and reload
 * nothing (same worker PIDs), with no failed request; the shares follow the weights, a client-address
 * split keeps a client on one member, and a set with no member left answers the 503 backup.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { startEcho, type Backend } from '../helpers/echo-backends';
import { dynamicNginxSetup, nginxWorkerPids, putEndpointSet, servedBy, statusesUntilStopped } from '../helpers/dynamic-nginx-traffic';
import { nginxTest, startNginx, type RunningNginx } from '../helpers/nginx-process';
import { desired, route, snapshot, task } from '../helpers/specs';

const STABLE = '127.0.58.1';
const CANARY = '127.0.58.2';
const dir = mkdtempSync(join(tmpdir(), 'sg-dsplit-'));
const endpointsPath = join(dir, 'endpoints.txt');
let nginx: RunningNginx;
let http = 0;
let control = 0;
let backendPort = 0;
let opts: Parameters<typeof renderNginxWithEndpoints>[1] = {};
const backends: Backend[] = [];
let firstConfig = '';

interface Step {
  readonly stable: number;
  readonly canary: number;
  /** The canary's running tasks. */
  readonly canaryTasks: readonly string[];
  readonly stableTasks?: readonly string[];
}

/** `pinned`: one more route whose proxy-issued cookie keeps split_clients (its config follows its targets). */
function model(s: Step, pinned = false): ProxyModel {
  const two = (name: string, extra: Record<string, unknown> = {}) => route(name, { hosts: [`${name}.test`], rules: [{ backends: [{ service: 'stable', port: backendPort, weight: s.stable }, { service: 'canary', port: backendPort, weight: s.canary }], ...extra }] });
  const snap = snapshot({
    services: ['stable', 'canary'].map((name) => ({ name, networks: ['app'] })),
    tasks: [...(s.stableTasks ?? [STABLE]).map((ip) => task('stable', ip)), ...s.canaryTasks.map((ip) => task('canary', ip))],
    networks: [{ name: 'app', driver: 'overlay', scope: 'swarm' }],
  });
  const m = buildModel(desired([two('weighted'), two('byip', { sessionAffinity: { clientIP: true } }), ...(pinned ? [two('pinned', { sessionAffinity: { cookie: { name: 'sg_v', ttl: '10m' } } })] : [])]), snap).clusters[0];
  if (m === undefined) throw new Error('no cluster');
  return m;
}

const render = (s: Step): { config: string; endpoints: string } => renderNginxWithEndpoints(model(s), opts);

const put = (body: string): Promise<number> => putEndpointSet(control, body);
const served = (host: string, n: number, headers: Record<string, string> = {}): Promise<{ statuses: number[]; tasks: string[] }> => servedBy(http, host, n, headers);
const workerPids = (): number[] => nginxWorkerPids(dir);
const background = (host: string): { stop: () => Promise<number[]> } => statusesUntilStopped(http, host);

/** Renders `s`, checks the config did not change, pushes the set under load: the statuses seen meanwhile. */
async function step(s: Step): Promise<number[]> {
  const next = render(s);
  expect(next.config).toBe(firstConfig);
  const load = background('weighted.test');
  await new Promise((r) => setTimeout(r, 50));
  expect(await put(next.endpoints)).toBe(204);
  writeFileSync(endpointsPath, next.endpoints);
  await new Promise((r) => setTimeout(r, 50));
  return load.stop();
}

const share = (tasks: readonly string[], ip: string): number => tasks.filter((t) => t === ip).length / tasks.length;

beforeAll(async () => {
  ({ http, control, backendPort, opts } = await dynamicNginxSetup(dir));
  for (const ip of [STABLE, CANARY]) backends.push(await startEcho('svc', ip, ip, backendPort));
  // A canary declared at weight 0 with no task yet: how a rollout starts.
  const first = render({ stable: 100, canary: 0, canaryTasks: [] });
  firstConfig = first.config;
  writeFileSync(endpointsPath, first.endpoints);
  nginx = await startNginx(first.config, http, dir);
}, 30_000);

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(backends.map((b) => b.close()));
});

describe('NGINX splits as data (ADR 0049)', () => {
  it('renders a split line per weighted rule, split_clients only for the proxy-issued cookie, and passes nginx -t', () => {
    const lines = render({ stable: 100, canary: 0, canaryTasks: [] }).endpoints.split('\n').filter((l) => l.startsWith('='));
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => l.split(' ')[1]).sort()).toEqual(['remote_addr', 'request_id']);
    // Both hosts only proxy: their locations are host lines naming the splits (routes as data, ADR 0050).
    const first = render({ stable: 100, canary: 0, canaryTasks: [] }).endpoints;
    expect(first.split('\n').filter((l) => l.startsWith('@')).map((l) => l.replace(/=sg_ds_\w+/, '=SPLIT'))).toEqual(['@byip.test ^ / byip =SPLIT', '@weighted.test ^ / weighted =SPLIT']);
    expect(firstConfig).not.toMatch(/set_by_lua \$sg_upstream/);
    expect(firstConfig).not.toMatch(/^\s*split_clients /m);
    const withPinned = renderNginxWithEndpoints(model({ stable: 50, canary: 50, canaryTasks: [CANARY] }, true), opts);
    expect(withPinned.config.match(/^\s*split_clients /gm)).toHaveLength(1);
    // The data splits of a block: set_by_lua picks the upstream (the table's hosts leave for one).
    expect(renderNginxWithEndpoints(model({ stable: 50, canary: 50, canaryTasks: [CANARY] }), { ...opts, routeTable: false }).config.match(/set_by_lua \$sg_upstream "return sg\.split\(ngx\.arg\[1\]\)" "=sg_ds_\w+";/g)).toHaveLength(2);
    expect(withPinned.endpoints.split('\n').filter((l) => l.startsWith('='))).toHaveLength(2);
    const path = join(dir, 'check.conf');
    writeFileSync(path, firstConfig);
    expect(nginxTest(path)).toMatchObject({ ok: true });
  });

  it('serves the only member with a weight and a task', async () => {
    const r = await served('weighted.test', 20);
    expect(r.statuses.every((s) => s === 200)).toBe(true);
    expect(new Set(r.tasks)).toEqual(new Set([STABLE]));
  });

  it('steps a canary through its weights with no config change, no reload and no failed request', async () => {
    const before = workerPids();
    for (const [stable, canary, low, high] of [[90, 10, 0.04, 0.18], [50, 50, 0.4, 0.6], [0, 100, 1, 1]] as const) {
      const statuses = await step({ stable, canary, canaryTasks: [CANARY] });
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.filter((s) => s !== 200), `${stable}/${canary}`).toEqual([]);
      const r = await served('weighted.test', 400);
      expect(r.statuses.every((s) => s === 200)).toBe(true);
      const c = share(r.tasks, CANARY);
      expect(c, `${stable}/${canary}: canary share`).toBeGreaterThanOrEqual(low);
      expect(c, `${stable}/${canary}: canary share`).toBeLessThanOrEqual(high);
    }
    expect(workerPids()).toEqual(before);
  }, 60_000);

  it('keeps a client on one member of a client-address split', async () => {
    await step({ stable: 50, canary: 50, canaryTasks: [CANARY] });
    const r = await served('byip.test', 40);
    expect(r.statuses.every((s) => s === 200)).toBe(true);
    expect(new Set(r.tasks).size).toBe(1);
  });

  it('leaves out a backend that lost its last task, and answers the 503 backup when no member is left', async () => {
    const before = workerPids();
    const statuses = await step({ stable: 50, canary: 50, canaryTasks: [] });
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const r = await served('weighted.test', 40);
    expect(r.statuses.every((s) => s === 200)).toBe(true);
    expect(new Set(r.tasks)).toEqual(new Set([STABLE]));
    const none = render({ stable: 50, canary: 50, canaryTasks: [], stableTasks: [] });
    expect(none.config).toBe(firstConfig);
    expect(await put(none.endpoints)).toBe(204);
    const gone = await served('weighted.test', 3);
    expect(gone.statuses).toEqual([503, 503, 503]);
    expect(workerPids()).toEqual(before);
    expect(await put(render({ stable: 50, canary: 50, canaryTasks: [CANARY] }).endpoints)).toBe(204);
  });

  it('refuses a malformed split line and keeps the set it has', async () => {
    const good = render({ stable: 0, canary: 100, canaryTasks: [CANARY] }).endpoints;
    expect(await put(good)).toBe(204);
    const bad = good.replace(/^(=sg_ds_\w+ request_id \S+):\d+/m, '$1:heavy');
    expect(bad).not.toBe(good);
    expect(await put(bad)).toBe(400);
    const r = await served('weighted.test', 20);
    expect(new Set(r.tasks)).toEqual(new Set([CANARY]));
  });
});
