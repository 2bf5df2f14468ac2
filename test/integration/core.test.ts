/**
 * The core against the real single-node Swarm of this machine: apply specs, run the reconcile pass
 * until the route is Programmed, and send real HTTP through the proxy's host-mode published port.
 * Needs the images (make images). Run: make test-int
 *
 * Everything is named with PREFIX and removed in afterAll. Services name images by ID: with a tag,
 * the Swarm agent tries a registry pull at every task start.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRun } from '../../src/core/core-run';
import { runHistory, runRollback } from '../../src/cli/commands/history';
import { LABELS } from '../../src/domain/labels';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import type { DockerPort } from '../../src/observed/docker-port';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { isOutOfSequence } from '../../src/observed/docker-errors';
import { parseStatus } from '../../src/status/object-status';
import { peerCertificate, send } from '../helpers/http-client';
import { selfSigned } from '../helpers/tls-material';
import { cluster, route } from '../helpers/specs';
import { converge } from '../helpers/swarm';
import { freePorts } from '../helpers/nginx-process';

const PREFIX = `sgic${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const V1 = `${PREFIX}-v1`;
const V2 = `${PREFIX}-v2`;
const BACKEND_CONF = `${PREFIX}-backend`;
const CERT = `${PREFIX}.crt`;
const KEY = `${PREFIX}.key`;
const TLS_HOST = `${PREFIX}-tls.localhost`;
const quiet = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });

let port: DockerPort;
let core: CoreRun;
let httpPort = 0;
let httpsPort = 0;
let proxyImage = '';
/** The core always converges the implicit "default" cluster too; remove its proxy afterwards if this test made it. */
let defaultProxyExisted = true;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function tryDocker(...args: string[]): void {
  try {
    docker(...args);
  } catch {
    // already gone
  }
}

async function statusOf(kind: string, name: string) {
  const [c] = await port.listConfigs([`${LABELS.kind}=${kind}`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status]);
}

/** One reconcile pass, retried on version conflicts as the loop does. */
async function runOnce(run: CoreRun, seq: number): Promise<Awaited<ReturnType<CoreRun['run']>>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run.run(seq);
    } catch (e) {
      if (!isOutOfSequence(e) || attempt >= 5) throw e;
    }
  }
}


async function programmed(name: string): Promise<boolean> {
  return (await statusOf('Route', name))?.conditions.some((c) => c.type === 'Programmed' && c.status === 'True') ?? false;
}

/**
 * Reconcile until the route is Programmed and `path` answers 200: Programmed says the proxies serve the
 * route; the backend's tasks may still be starting (the proxy answers 503 until one listens).
 */
async function getOk(path: string): Promise<{ status: number; body: string }> {
  let last = { status: 0, body: '' };
  await converge(core, 'reconcile', async () => {
    if (!(await programmed(PREFIX))) return false;
    last = await get(path);
    return last.status === 200;
  });
  return last;
}

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send({ port: httpPort, host: `${PREFIX}.localhost`, path, headers });
    } catch (e) {
      if (attempt > 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function backendService(name: string, replicas: number): void {
  docker('service', 'create', '--detach', '--quiet', '--no-resolve-image', '--name', name, '--replicas', String(replicas), '--network', NET, '--hostname', `${name}.{{.Task.Slot}}`,
    '--config', `src=${BACKEND_CONF},target=/etc/nginx/nginx.conf`, '--label', `io.swarmgate.test=${PREFIX}`, proxyImage);
}

beforeAll(async () => {
  port = createDockerPort();
  defaultProxyExisted = (await port.listServices()).some((s) => s.Spec.Name === 'sg-proxy-default');
  core = new CoreRun(port, quiet, { localImages: true });
  proxyImage = docker('image', 'inspect', '--format', '{{.Id}}', 'swarmgate/proxy:latest');
  const [h, hs] = await freePorts(2);
  if (h === undefined || hs === undefined) throw new Error('no free ports');
  httpPort = h;
  httpsPort = hs;
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  const dir = mkdtempSync(join(tmpdir(), 'sgic-'));
  writeFileSync(join(dir, 'backend.conf'), 'events {}\nhttp { access_log off; server { listen 80; location / { default_type text/plain; return 200 "$hostname $request_uri\\n"; } } }\n');
  docker('config', 'create', BACKEND_CONF, join(dir, 'backend.conf'));
  backendService(V1, 2);
  backendService(V2, 1);
  const pair = selfSigned(TLS_HOST);
  docker('secret', 'create', '--label', `io.swarmgate.test=${PREFIX}`, CERT, pair.certPath);
  docker('secret', 'create', '--label', `io.swarmgate.test=${PREFIX}`, KEY, pair.keyPath);
  await applyObject(port, route(`${PREFIX}-tls`, {
    serviceCluster: CLUSTER,
    hosts: [TLS_HOST],
    tls: { mode: 'Terminate', certificate: { certSecret: CERT, keySecret: KEY }, redirectHTTP: true },
    rules: [{ backends: [{ service: V1, port: 80 }] }],
  }));
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, image: 'swarmgate/proxy:latest', publish: { mode: 'host', http: httpPort, https: httpsPort } } }));
  await applyObject(port, route(PREFIX, {
    serviceCluster: CLUSTER,
    hosts: [`${PREFIX}.localhost`],
    rules: [
      { match: { pathPrefix: '/v2' }, rewrite: { stripPrefix: true }, backends: [{ service: V2, port: 80 }] },
      { backends: [{ service: V1, port: 80 }] },
    ],
  }));
}, 180_000);

afterAll(async () => {
  for (const name of [PREFIX, `${PREFIX}-bad`, `${PREFIX}-tls`, `${PREFIX}-extra`]) await deleteObject(port, 'Route', name).catch(() => undefined);
  await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
  tryDocker('service', 'rm', `sg-proxy-${CLUSTER}`, V1, V2);
  if (!defaultProxyExisted) tryDocker('service', 'rm', 'sg-proxy-default');
  // Configs can be removed once the tasks that mount them are gone.
  for (let i = 0; i < 40; i++) {
    const left = docker('config', 'ls', '--format', '{{.Name}}')
      .split('\n')
      .filter((n) => n.startsWith(`sg-nginx-${CLUSTER}-`) || n === BACKEND_CONF || (!defaultProxyExisted && n.startsWith('sg-nginx-default-')));
    if (left.length === 0) break;
    for (const n of left) tryDocker('config', 'rm', n);
    await new Promise((r) => setTimeout(r, 500));
  }
  for (let i = 0; i < 20; i++) {
    try {
      tryDocker('secret', 'rm', CERT, KEY);
      docker('network', 'rm', NET);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}, 120_000);

describe('core on a real Swarm', () => {
  it('programs the route and routes by host and path through the host-mode port', async () => {
    await converge(core, 'reconcile', () => programmed(PREFIX));
    const root = await getOk('/hello');
    expect(root.status).toBe(200);
    expect(root.body).toMatch(new RegExp(`^${V1}\\.[12] /hello$`, 'm'));
    const v2 = await getOk('/v2/x?y=1');
    expect(v2.body.trim()).toBe(`${V2}.1 /x?y=1`);
    const unknown = await send({ port: httpPort, host: 'nobody.localhost', path: '/' });
    expect(unknown.status).toBe(503);
  });

  it('terminates TLS with the certificate and key from Docker secrets, and redirects HTTP', async () => {
    await converge(core, 'reconcile', () => programmed(`${PREFIX}-tls`));
    const cert = await peerCertificate(httpsPort, TLS_HOST);
    expect(cert instanceof Error ? cert.message : cert.subject.CN).toBe(TLS_HOST);
    let r = await send({ port: httpsPort, host: TLS_HOST, path: '/secure', tls: true });
    for (let i = 0; i < 50 && r.status !== 200; i++) {
      await new Promise((res) => setTimeout(res, 200));
      r = await send({ port: httpsPort, host: TLS_HOST, path: '/secure', tls: true });
    }
    expect(r.status).toBe(200);
    expect(r.body).toMatch(new RegExp(`^${V1}\\.\\d+ /secure$`, 'm'));
    const plain = await send({ port: httpPort, host: TLS_HOST, path: '/x' });
    expect(plain.status).toBe(308);
    expect(plain.headers.location).toBe(`https://${TLS_HOST}:${httpsPort}/x`);
  });

  it('writes nothing on a converged Swarm, also after a core restart', async () => {
    await converge(core, 'reconcile', () => programmed(PREFIX));
    // Settle: one more pass may still record status.
    await runOnce(core, 1000);
    const again = await runOnce(core, 1001);
    expect(again.result).toBe('unchanged');
    const restarted = new CoreRun(port, quiet, { localImages: true });
    expect((await runOnce(restarted, 1)).result).toBe('unchanged');
  });

  it('follows a scale-up with every request succeeding', async () => {
    docker('service', 'scale', '--detach', `${V1}=4`);
    const seen = new Set<string>();
    await converge(core, 'reconcile', async () => {
      const r = await get('/');
      expect(r.status).toBe(200);
      seen.add(r.body.split(' ')[0] ?? '');
      for (let i = 0; i < 8; i++) seen.add((await get('/')).body.split(' ')[0] ?? '');
      return seen.size >= 4;
    }, 120_000);
    expect([...seen].sort()).toEqual([1, 2, 3, 4].map((i) => `${V1}.${i}`));
  });

  it('follows a scale-down: drained tasks leave the upstream, requests keep succeeding', async () => {
    let failures = 0;
    let done = false;
    const traffic = (async () => {
      while (!done) {
        const r = await get('/').catch(() => ({ status: 0, body: '' }));
        if (r.status !== 200) failures++;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    docker('service', 'scale', '--detach', `${V1}=1`);
    const seen = new Set<string>();
    await converge(core, 'reconcile', async () => {
      seen.clear();
      for (let i = 0; i < 10; i++) seen.add((await get('/')).body.split(' ')[0] ?? '');
      return seen.size === 1;
    }, 120_000);
    done = true;
    await traffic;
    expect([...seen]).toEqual([`${V1}.1`]);
    // Clients here retry on connection errors (host-mode proxies update stop-first); no request may fail otherwise.
    expect(failures).toBe(0);
  });

  it('rejects a conflicting route alone while the good one keeps routing', async () => {
    await applyObject(port, route(`${PREFIX}-bad`, { serviceCluster: CLUSTER, hosts: [`${PREFIX}.localhost`], rules: [{ backends: [{ service: V2, port: 80 }] }] }));
    await converge(core, 'reconcile', async () => (await statusOf('Route', `${PREFIX}-bad`))?.conditions.some((c) => c.type === 'Accepted' && c.reason === 'HostConflict') ?? false);
    expect((await get('/')).body).toMatch(new RegExp(`^${V1}\\.`));
  });

  it('rolls the proxies back to the previous revision and marks the newer route RolledBack until the next apply', async () => {
    await converge(core, 'reconcile', () => programmed(PREFIX));
    const extra = `${PREFIX}-extra`;
    // Rolling delivery restarts the proxy (stop-first): a request may meet a closed port meanwhile.
    const statusOfHost = (host: string) => send({ port: httpPort, host, path: '/' }).then((r) => r.status, () => 0);
    await applyObject(port, route(extra, { serviceCluster: CLUSTER, hosts: [`${extra}.localhost`], rules: [{ backends: [{ service: V1, port: 80 }] }] }));
    await converge(core, 'reconcile', async () => (await programmed(extra)) && (await statusOfHost(`${extra}.localhost`)) === 200);
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t) };
    expect(await runRollback(port, 'cluster', CLUSTER, undefined, io)).toBe(0);
    // The previous revision does not know the extra route: it stops being served, the others keep working.
    await converge(core, 'reconcile', async () => (await statusOf('Route', extra))?.conditions.some((c) => c.type === 'Programmed' && c.reason === 'RolledBack') === true && ![0, 200].includes(await statusOfHost(`${extra}.localhost`)));
    expect((await getOk('/hello')).status).toBe(200);
    lines.length = 0;
    expect(await runHistory(port, 'cluster', CLUSTER, undefined, io)).toBe(0);
    expect(lines.join('\n')).toMatch(/REVISION/);
    // The next apply of a route of the cluster ends the rollback.
    await applyObject(port, route(extra, { serviceCluster: CLUSTER, hosts: [`${extra}.localhost`, `${extra}2.localhost`], rules: [{ backends: [{ service: V1, port: 80 }] }] }));
    await converge(core, 'reconcile', async () => (await programmed(extra)) && (await statusOfHost(`${extra}2.localhost`)) === 200);
    await deleteObject(port, 'Route', extra);
    await converge(core, 'reconcile', async () => (await programmed(PREFIX)) && (await statusOfHost(`${extra}2.localhost`)) !== 200);
  });

  it('answers 503 with BackendNotFound after the backend service is removed, and no 502 on the way', async () => {
    const statuses = new Map<number, number>();
    let done = false;
    const traffic = (async () => {
      while (!done) {
        const r = await get('/v2/').catch(() => ({ status: 0, body: '' }));
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    docker('service', 'rm', V2);
    await converge(core, 'reconcile', async () => (await statusOf('Route', PREFIX))?.conditions.some((c) => c.type === 'ResolvedRefs' && c.reason === 'BackendNotFound') ?? false);
    await converge(core, 'reconcile', () => programmed(PREFIX));
    done = true;
    await traffic;
    const r = await get('/v2/');
    expect(r.status).toBe(503);
    // Only successes before the removal and 503s after it: dead task addresses must not surface as
    // 502/504, also for a request in flight while the rolling update stops the old proxy (its 503
    // backup listener is already closed then: the config maps that 502 to 503, nginx-shutdown.test.ts).
    expect([...statuses.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([]);
  });
});
