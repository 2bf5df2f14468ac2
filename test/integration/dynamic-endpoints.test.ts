/**
 * Dynamic endpoints on the real local Swarm (ADR 0016, 0031, 0035): a hitless NGINX cluster with
 * `proxy.endpoints: Dynamic` and 1,000 other routes, and a hitless HAProxy cluster with Dynamic
 * endpoints (ADR 0031) routing to the same backend; scaling the backend 2 → 4 → 1 under keep-alive
 * traffic on both reaches the proxies as endpoint pushes — no NGINX or HAProxy reload, no failed
 * request — and the new tasks serve. A new path and a new route on an existing host are served with no
 * reload (routes as data, ADR 0050), a new host after one. Then, with the core scaled to 0 and each proxy's node record
 * removed, a killed proxy task's replacement boots from its mounted Swarm configs alone and serves a
 * backend from the boot endpoint set (ADR 0035; before it: 503). Needs the images (make images).
 * Run under the Swarm lock.
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
import { createBackend, docker, isProgrammed, removeWhenReleased, tryDocker, until } from '../helpers/swarm';
import { CORE_SERVICE } from '../../src/plan/core-service-spec';
import { BOOT_ENDPOINTS_PATH, LAST_APPLIED_DIR } from '../../src/plan/proxy-runtime';

const PREFIX = `scale${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const PROXY = `sg-proxy-${CLUSTER}`;
const APP = `${PREFIX}-app`;
const BACKEND_CONF = `${PREFIX}-backend`;
const HOST = `${PREFIX}.localhost`;
/** The HAProxy Dynamic cluster: one route to APP (scaled with the NGINX one), one to STEADY. */
const HAP_CLUSTER = `${PREFIX}-hap`;
const HAP_PROXY = `sg-proxy-${HAP_CLUSTER}`;
const HAP_HOST = `${PREFIX}-hap.localhost`;
/** A backend that runs unchanged from before the proxies exist: in their boot endpoint sets (ADR 0035). */
const STEADY = `${PREFIX}-steady`;
const STEADY_HOST = `${PREFIX}-steady.localhost`;
const OTHER_ROUTES = Number(process.env['SG_DYNAMIC_OTHER_ROUTES'] ?? '1000');
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let httpPort = 0;
let hapPort = 0;

function agentLog(service = PROXY): string {
  const r = spawnSync('docker', ['service', 'logs', '--raw', service], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return `${r.stdout}${r.stderr}`;
}
const reloads = (service = PROXY): number => agentLog(service).split('\n').filter((l) => l.includes('configuration applied')).length;
const pushes = (service = PROXY): number => agentLog(service).split('\n').filter((l) => l.includes('endpoints applied (no reload)')).length;

/** The distinct task hostnames among `n` answers. */
async function servingTasks(n: number, on = { port: httpPort, host: HOST }): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await send({ port: on.port, host: on.host, path: '/' });
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
  await waitOrExplain(`${replicas} tasks serve through HAProxy`, async () => ((await servingTasks(4 * replicas + 8, { port: hapPort, host: HAP_HOST })).size === replicas ? true : undefined), 30_000);
}

/** The running container of a service's one task ('' when none runs). */
const containerOf = (service: string): string => docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`).split('\n')[0] ?? '';

beforeAll(async () => {
  const [h, hs, hh, hhs] = await freePorts(4);
  if (h === undefined || hs === undefined || hh === undefined || hhs === undefined) throw new Error('no free ports');
  httpPort = h;
  hapPort = hh;
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
  createBackend(STEADY, NET, 1, 'location / { return 200 "$hostname\\n"; }');
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, delivery: 'hitless', endpoints: 'Dynamic', publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(port, route(PREFIX, { serviceCluster: CLUSTER, hosts: [HOST], rules: [{ backends: [{ service: APP, port: 80 }] }] }));
  await applyObject(port, route(STEADY, { serviceCluster: CLUSTER, hosts: [STEADY_HOST], rules: [{ backends: [{ service: STEADY, port: 80 }] }] }));
  await applyObject(port, cluster(HAP_CLUSTER, { proxy: { kind: 'haproxy', replicas: 1, delivery: 'hitless', endpoints: 'Dynamic', publish: { mode: 'host', http: hh, https: hhs } } }));
  await applyObject(port, route(`${PREFIX}-hap`, { serviceCluster: HAP_CLUSTER, hosts: [HAP_HOST], rules: [{ backends: [{ service: APP, port: 80 }] }] }));
  await applyObject(port, route(`${PREFIX}-hap-steady`, { serviceCluster: HAP_CLUSTER, hosts: [STEADY_HOST], rules: [{ backends: [{ service: STEADY, port: 80 }] }] }));
  // 1,000 other routes in the same cluster, on the same backend (their tasks churn with it).
  // Stored 8 at a time: one after another they took most of this file's time on the Docker API's round trips.
  await forEachIndex(OTHER_ROUTES, 8, (i) =>
    applyObject(port, route(`${PREFIX}-o${i}`, { serviceCluster: CLUSTER, hosts: [`${PREFIX}-o${i}.localhost`], rules: [{ backends: [{ service: APP, port: 80 }] }] })),
  );
  // The boot endpoint sets are those of the proxies' first config: STEADY must be running by then.
  await until('the steady backend runs', async () => (docker('service', 'ps', '-q', '--filter', 'desired-state=running', STEADY) !== '' && containerOf(STEADY) !== '' ? true : undefined), 60_000);
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
  await until('the last route programmed', () => isProgrammed(port, 'Route', OTHER_ROUTES > 0 ? `${PREFIX}-o${OTHER_ROUTES - 1}` : PREFIX), 300_000);
  await waitOrExplain('2 tasks serve', async () => ((await servingTasks(16)).size === 2 ? true : undefined), Number(process.env['SG_DYNAMIC_FIRST_WAIT_MS'] ?? '120000'));
  await waitOrExplain('2 tasks serve through HAProxy', async () => ((await servingTasks(16, { port: hapPort, host: HAP_HOST })).size === 2 ? true : undefined), 60_000);
}, 900_000);

afterAll(async () => {
  // The core goes first and the purge takes the 1,001 specs with it: deleted one by one under a running
  // core, each delete cost a reconcile of the whole cluster, and a kept spec is a status write each.
  await runUninstall(port, true, io).catch(() => undefined);
  tryDocker('service', 'rm', APP, STEADY);
  await removeWhenReleased([['config', 'rm', BACKEND_CONF, `${STEADY}-conf`], ['network', 'rm', NET]]);
}, 900_000);

describe('dynamic endpoints on a real Swarm', () => {
  it('scales a backend 2 → 4 → 1 under traffic with no NGINX or HAProxy reload and no failed request', async () => {
    // Let the core settle on the final config of the 1,000 routes before counting.
    await new Promise((r) => setTimeout(r, 5_000));
    const reloadsBefore = reloads();
    const pushesBefore = pushes();
    const hapReloadsBefore = reloads(HAP_PROXY);
    const hapPushesBefore = pushes(HAP_PROXY);
    const workersBefore = workerPids();
    const load = startKeepAliveLoad(httpPort, HOST, 8);
    const hapLoad = startKeepAliveLoad(hapPort, HAP_HOST, 4);
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
    const hapLoaded = await hapLoad.stop();
    console.log(`workers ${workersBefore}; 2→4 served by 4 tasks after ${upMs} ms (${failedUp} failed), 4→1 after ${downMs} ms (${failedDown} failed); ${loaded.ok} requests, ${pushes() - pushesBefore} endpoint pushes, ${reloads() - reloadsBefore} reloads`);
    console.log(`HAProxy: ${hapLoaded.ok} requests, ${hapLoaded.failures.length} failed, ${pushes(HAP_PROXY) - hapPushesBefore} endpoint pushes, ${reloads(HAP_PROXY) - hapReloadsBefore} reloads`);
    expect(hapLoaded.failures).toEqual([]);
    expect(hapLoaded.ok).toBeGreaterThan(50);
    expect(reloads(HAP_PROXY)).toBe(hapReloadsBefore);
    expect(pushes(HAP_PROXY)).toBeGreaterThan(hapPushesBefore);
    expect(loaded.failures).toEqual([]);
    expect(loaded.ok).toBeGreaterThan(100);
    expect(reloads()).toBe(reloadsBefore);
    expect(workersBefore).not.toBe('');
    expect(workerPids()).toBe(workersBefore);
    expect(pushes()).toBeGreaterThan(pushesBefore);
  }, 300_000);

  it('serves a new path and a new route on an existing host with no NGINX reload, a new host after one (ADR 0050)', async () => {
    // Every route of this cluster only proxies: its hosts are lines of the endpoint set (routes as data).
    const reloadsBefore = reloads();
    const workersBefore = workerPids();
    const load = startKeepAliveLoad(httpPort, HOST, 4);
    const steadyAt = async (host: string, path: string): Promise<true | undefined> => {
      const r = await send({ port: httpPort, host, path }).catch(() => undefined);
      return r?.status === 200 && r.body.trim() === `${STEADY}.1` ? true : undefined;
    };
    const t0 = Date.now();
    await applyObject(port, route(PREFIX, { serviceCluster: CLUSTER, hosts: [HOST], rules: [{ backends: [{ service: APP, port: 80 }] }, { match: { pathPrefix: '/steady' }, backends: [{ service: STEADY, port: 80 }] }] }));
    await until('the new path serves the steady backend', () => steadyAt(HOST, '/steady/x'), 60_000, 100);
    const pathMs = Date.now() - t0;
    const t1 = Date.now();
    await applyObject(port, route(`${PREFIX}-more`, { serviceCluster: CLUSTER, hosts: [HOST], rules: [{ match: { path: '/more' }, backends: [{ service: STEADY, port: 80 }] }] }));
    await until('the new route serves the steady backend', () => steadyAt(HOST, '/more'), 60_000, 100);
    const routeMs = Date.now() - t1;
    expect(reloads()).toBe(reloadsBefore);
    expect(workerPids()).toBe(workersBefore);
    expect((await send({ port: httpPort, host: HOST, path: '/' })).body.trim()).toMatch(new RegExp(`^${APP}\\.\\d+$`));
    // A new host joins its table server's names: one reload, of a config that does not grow with the routes.
    const t2 = Date.now();
    await applyObject(port, route(`${PREFIX}-new`, { serviceCluster: CLUSTER, hosts: [`${PREFIX}-new.localhost`], rules: [{ backends: [{ service: STEADY, port: 80 }] }] }));
    await until('the new host serves', () => steadyAt(`${PREFIX}-new.localhost`, '/'), 60_000, 100);
    const hostMs = Date.now() - t2;
    const loaded = await load.stop();
    // The agent logs the reload once its drain is over, which can be after the new host answers.
    await until('the agent reports the reload', async () => (reloads() > reloadsBefore ? true : undefined), 30_000);
    console.log(`routes as data: new path served after ${pathMs} ms, new route on the host after ${routeMs} ms (no reload), new host after ${hostMs} ms; ${loaded.ok} requests, ${loaded.failures.length} failed, ${reloads() - reloadsBefore} reloads`);
    expect(loaded.failures).toEqual([]);
    expect(loaded.ok).toBeGreaterThan(50);
  }, 240_000);

  it('a proxy task started while the core is down and its node keeps no config serves from the boot endpoint set', async () => {
    const t0 = Date.now();
    docker('service', 'scale', '--detach', `${CORE_SERVICE}=0`);
    await until('the core stopped', async () => {
      const core = (await port.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
      return (await port.listTasks()).some((t) => t.ServiceID === core?.ID && t.Status.State === 'running') ? undefined : true;
    }, 60_000, 250);
    const before = [PROXY, HAP_PROXY].map(containerOf);
    for (const [i, kind] of (['nginx', 'haproxy'] as const).entries()) {
      // No last-applied config on the node: the new task can only boot from its mounted Swarm configs.
      docker('exec', before[i] ?? '', 'rm', '-f', `${LAST_APPLIED_DIR}/${kind}.json`);
      docker('kill', before[i] ?? '');
    }
    for (const [i, on] of [{ service: PROXY, port: httpPort }, { service: HAP_PROXY, port: hapPort }].entries()) {
      const served = await waitOrExplain(`${on.service}: a new task serves ${STEADY_HOST}`, async () => {
        const now = containerOf(on.service);
        if (now === '' || now === before[i]) return undefined;
        const r = await send({ port: on.port, host: STEADY_HOST, path: '/' }).catch(() => undefined);
        return r?.status === 200 ? r.body.trim() : undefined;
      }, 60_000);
      expect(served).toMatch(new RegExp(`^${STEADY}\\.1$`));
      const log = spawnSync('docker', ['logs', containerOf(on.service)], { encoding: 'utf8' });
      expect(`${log.stdout}${log.stderr}`).toContain('booting on the mounted one');
      expect(`${log.stdout}${log.stderr}`).toContain(BOOT_ENDPOINTS_PATH);
    }
    console.log(`core down, proxy tasks killed → both new tasks served ${STEADY_HOST} from the boot endpoint set after ${Date.now() - t0} ms`);
  }, 120_000);
});
