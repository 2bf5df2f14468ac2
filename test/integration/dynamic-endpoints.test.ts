/**
 * Dynamic endpoints on the real local Swarm (ADR 0016): a hitless NGINX cluster with
 * `proxy.endpoints: Dynamic` and 1,000 other routes; scaling a backend 2 → 4 → 1 under keep-alive
 * traffic reaches the proxy as endpoint pushes — no NGINX reload, no failed request — and the
 * new tasks serve. Needs the images (make images). Run under the Swarm lock.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { applyObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { send } from '../helpers/http-client';
import { startKeepAliveLoad } from '../helpers/keepalive-load';
import { forEachIndex } from '../helpers/in-parallel';
import { freePorts } from '../helpers/nginx-process';
import { cluster, route } from '../helpers/specs';
import { docker, isProgrammed, removeWhenReleased, tryDocker, until } from '../helpers/swarm';

const PREFIX = `scale${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const PROXY = `sg-proxy-${CLUSTER}`;
const APP = `${PREFIX}-app`;
const BACKEND_CONF = `${PREFIX}-backend`;
const HOST = `${PREFIX}.localhost`;
const OTHER_ROUTES = Number(process.env['SG_DYNAMIC_OTHER_ROUTES'] ?? '1000');
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let httpPort = 0;

function agentLog(): string {
  const r = spawnSync('docker', ['service', 'logs', '--raw', PROXY], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return `${r.stdout}${r.stderr}`;
}
const reloads = (): number => agentLog().split('\n').filter((l) => l.includes('configuration applied')).length;
const pushes = (): number => agentLog().split('\n').filter((l) => l.includes('endpoints applied (no reload)')).length;

/** The distinct task hostnames among `n` answers. */
async function servingTasks(n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await send({ port: httpPort, host: HOST, path: '/' });
    if (r.status === 200) seen.add(r.body.trim());
  }
  return seen;
}

/** What the proxy task holds, printed when a wait times out: the agent's own log lines, NGINX's errors and endpoint set, the endpoints file. */
function diagnostics(): string {
  const ids = docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${PROXY}`).split('\n').filter((x) => x !== '');
  const get = "require('http').get('http://127.0.0.1:18083/endpoints',(r)=>{let b='';r.on('data',(c)=>b+=c);r.on('end',()=>console.log('GET /endpoints', r.statusCode, b.length, 'bytes:', b.slice(0, 600)))}).on('error',(e)=>console.log(String(e)))";
  const inside = ids.map((id) => {
    const g = spawnSync('docker', ['exec', id, 'node', '-e', get], { encoding: 'utf8' });
    const f = spawnSync('docker', ['exec', id, 'sh', '-c', 'ls -la /run/swarmgate/nginx; head -c 600 /run/swarmgate/nginx/endpoints.txt; grep -c "" /run/swarmgate/nginx/endpoints.txt'], { encoding: 'utf8' });
    return `${g.stdout}${g.stderr}\n${f.stdout}${f.stderr}`;
  });
  const own = agentLog().split('\n').filter((l) => !l.startsWith('{"time"'));
  return `agent and NGINX log (no access lines):\n${own.slice(-60).join('\n')}\nin the proxy task:\n${inside.join('\n')}`;
}

/** The NGINX worker PIDs in the proxy task (children of the master in /run/nginx.pid): a reload replaces them all. */
function workerPids(): string {
  const [id = ''] = docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${PROXY}`).split('\n');
  return docker('exec', id, 'sh', '-c', 'm=$(cat /run/nginx.pid); cat /proc/$m/task/$m/children').split(' ').filter((x) => x !== '').sort().join(' ');
}

async function waitOrExplain<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  try {
    return await until(what, f, timeoutMs);
  } catch (err) {
    console.log(diagnostics());
    throw err;
  }
}

async function scaleTo(replicas: number): Promise<void> {
  docker('service', 'scale', '--detach', `${APP}=${replicas}`);
  await waitOrExplain(`${replicas} tasks serve`, async () => ((await servingTasks(4 * replicas + 8)).size === replicas ? true : undefined), 90_000);
}

beforeAll(async () => {
  const [h, hs] = await freePorts(2);
  if (h === undefined || hs === undefined) throw new Error('no free ports');
  httpPort = h;
  const image = docker('image', 'inspect', '--format', '{{.Id}}', 'swarmgate/proxy:latest');
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  const dir = mkdtempSync(join(tmpdir(), 'sgscale-'));
  writeFileSync(join(dir, 'backend.conf'), 'events {}\nhttp { access_log off; server { listen 80; location / { default_type text/plain; return 200 "$hostname\\n"; } } }\n');
  docker('config', 'create', BACKEND_CONF, join(dir, 'backend.conf'));
  docker('service', 'create', '--detach', '--quiet', '--no-resolve-image', '--name', APP, '--replicas', '2', '--network', NET, '--hostname', `${APP}.{{.Task.Slot}}`,
    // A backend that drains like a well-behaved app (Kubernetes' preStop sleep): on the stop signal it
    // keeps serving until Swarm kills it 10 s later, while the core takes the task out of the endpoint set.
    // NGINX's default (SIGTERM: exit at once) drops its address mid-request, which no proxy can hide.
    '--stop-signal', 'SIGUSR1', '--stop-grace-period', '10s', '--config', `src=${BACKEND_CONF},target=/etc/nginx/nginx.conf`, image);
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, delivery: 'hitless', endpoints: 'Dynamic', publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(port, route(PREFIX, { serviceCluster: CLUSTER, hosts: [HOST], rules: [{ backends: [{ service: APP, port: 80 }] }] }));
  // 1,000 other routes in the same cluster, on the same backend (their tasks churn with it).
  // Stored 8 at a time: one after another they took most of this file's time on the Docker API's round trips.
  await forEachIndex(OTHER_ROUTES, 8, (i) =>
    applyObject(port, route(`${PREFIX}-o${i}`, { serviceCluster: CLUSTER, hosts: [`${PREFIX}-o${i}.localhost`], rules: [{ backends: [{ service: APP, port: 80 }] }] })),
  );
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
  await until('the last route programmed', () => isProgrammed(port, 'Route', OTHER_ROUTES > 0 ? `${PREFIX}-o${OTHER_ROUTES - 1}` : PREFIX), 300_000);
  await waitOrExplain('2 tasks serve', async () => ((await servingTasks(16)).size === 2 ? true : undefined), Number(process.env['SG_DYNAMIC_FIRST_WAIT_MS'] ?? '120000'));
}, 900_000);

afterAll(async () => {
  // The core goes first and the purge takes the 1,001 specs with it: deleted one by one under a running
  // core, each delete cost a reconcile of the whole cluster, and a kept spec is a status write each.
  await runUninstall(port, true, io).catch(() => undefined);
  tryDocker('service', 'rm', APP);
  await removeWhenReleased([['config', 'rm', BACKEND_CONF], ['network', 'rm', NET]]);
}, 900_000);

describe('dynamic endpoints on a real Swarm', () => {
  it('scales a backend 2 → 4 → 1 under traffic with no NGINX reload and no failed request', async () => {
    // Let the core settle on the final config of the 1,000 routes before counting.
    await new Promise((r) => setTimeout(r, 5_000));
    const reloadsBefore = reloads();
    const pushesBefore = pushes();
    const workersBefore = workerPids();
    const load = startKeepAliveLoad(httpPort, HOST, 8);
    const t0 = Date.now();
    await scaleTo(4);
    const upMs = Date.now() - t0;
    const failedUp = load.failuresSoFar();
    const t1 = Date.now();
    await scaleTo(1);
    const downMs = Date.now() - t1;
    const failedDown = load.failuresSoFar() - failedUp;
    await new Promise((r) => setTimeout(r, 3_000));
    const loaded = await load.stop();
    console.log(`workers ${workersBefore}; 2→4 served by 4 tasks after ${upMs} ms (${failedUp} failed), 4→1 after ${downMs} ms (${failedDown} failed); ${loaded.ok} requests, ${pushes() - pushesBefore} endpoint pushes, ${reloads() - reloadsBefore} reloads`);
    expect(loaded.failures).toEqual([]);
    expect(loaded.ok).toBeGreaterThan(100);
    expect(reloads()).toBe(reloadsBefore);
    expect(workersBefore).not.toBe('');
    expect(workerPids()).toBe(workersBefore);
    expect(pushes()).toBeGreaterThan(pushesBefore);
  }, 300_000);
});
