/**
 * `make bench-reload`: reconfiguration under load on the real local Swarm (needs make swarm-up
 * images, and Debian's wrk). wrk -c50 runs against one route while 100 route changes are applied
 * 200 ms apart (alternately a new route on another host and an edit of the loaded route itself),
 * once with keep-alive clients and once with `Connection: close`. Counts non-2xx responses, socket
 * errors and proxy reloads (the agents' "configuration applied" log lines; hitless delivery).
 * DELIVERY=rolling measures rolling delivery instead (reloads are then proxy task restarts);
 * KIND=haproxy an HAProxy cluster instead of NGINX; GAP_MS the time between changes (default 200).
 * Prints a table and saves bench/results/reload-<delivery>[-haproxy]-latest.json.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { runInstall, runUninstall } from '../src/cli/commands/install';
import { applyObject, deleteObject } from '../src/desired/spec-store';
import { decodeObject } from '../src/domain/object';
import { createDockerPort } from '../src/observed/dockerode-adapter';

const DELIVERY = process.env['DELIVERY'] === 'rolling' ? 'rolling' : 'hitless';
const KIND = process.env['KIND'] === 'haproxy' ? 'haproxy' : 'nginx';
const CHANGES = Number(process.env['CHANGES'] ?? 100);
const GAP_MS = Number(process.env['GAP_MS'] ?? 200);
const P = `sgr${process.pid % 10000}`;
const NET = `${P}-net`;
const CLUSTER = `${P}-edge`;
const SVC = `${P}-svc`;
const HOST = `${P}.localhost`;
const HTTP_PORT = 18880;
const port = createDockerPort();
const quietIo = { out: () => undefined, err: (t: string) => process.stderr.write(`${t}\n`) };

const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function object(u: unknown) {
  const r = decodeObject(u);
  if (r._tag === 'Left') throw new Error(JSON.stringify(r.left));
  return r.right;
}

const route = (name: string, host: string, tag: string) =>
  object({
    apiVersion: 'swarmgate.io/v1',
    kind: 'Route',
    metadata: { name },
    spec: { serviceCluster: CLUSTER, hosts: [host], rules: [{ responseHeaders: { set: [{ name: 'X-Change', value: tag }] }, backends: [{ service: SVC, port: 80 }] }] },
  });

function status(): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: HTTP_PORT, path: '/', headers: { host: HOST }, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

interface WrkResult {
  readonly requests: number;
  readonly non2xx: number;
  readonly socketErrors: number;
}

function parseWrk(out: string): WrkResult {
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = se === null ? 0 : Number(se[1]) + Number(se[2]) + Number(se[3]) + Number(se[4]);
  return { requests, non2xx, socketErrors };
}

function reloadsSince(sinceIso: string): number {
  if (DELIVERY === 'rolling') return Number.NaN;
  // The agent logs to stderr, which `docker service logs` passes on as its own stderr.
  const r = spawnSync('docker', ['service', 'logs', '--raw', '--since', sinceIso, `sg-proxy-${CLUSTER}`], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('configuration applied')).length;
}

interface Row extends WrkResult {
  readonly reloads: number;
  /** How long applying the changes took (each apply is a few Docker API calls). */
  readonly changesSeconds: number;
}

async function underChanges(keepAlive: boolean, round: number): Promise<Row> {
  const durationS = Math.ceil((CHANGES * GAP_MS) / 1000) + 6;
  const since = new Date().toISOString();
  const args = ['-c50', '-t2', `-d${durationS}s`, '-H', `Host: ${HOST}`, ...(keepAlive ? [] : ['-H', 'Connection: close']), `http://127.0.0.1:${HTTP_PORT}/`];
  const wrk = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  wrk.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<void>((resolve) => wrk.on('exit', () => resolve()));
  await sleep(2000);
  const started = Date.now();
  for (let i = 0; i < CHANGES; i++) {
    // Alternate: another host (new route), and the loaded route itself (a header edit).
    if (i % 2 === 0) await applyObject(port, route(`${P}-x${round}-${i}`, `x${i}.${HOST}`, `r${round}c${i}`));
    else await applyObject(port, route(P, HOST, `r${round}c${i}`));
    await sleep(GAP_MS);
  }
  const changesSeconds = (Date.now() - started) / 1000;
  await done;
  return { ...parseWrk(out), reloads: reloadsSince(since), changesSeconds };
}

async function main(): Promise<void> {
  const image = docker('image', 'inspect', '--format', '{{.Id}}', 'swarmgate/proxy:latest');
  const dir = mkdtempSync(join(tmpdir(), 'sgr-'));
  writeFileSync(join(dir, 'backend.conf'), 'events {}\nhttp { access_log off; server { listen 80; location / { return 200 "ok\\n"; } } }\n');
  docker('network', 'create', '--driver', 'overlay', NET);
  docker('config', 'create', `${P}-backend`, join(dir, 'backend.conf'));
  docker('service', 'create', '--detach', '--quiet', '--no-resolve-image', '--name', SVC, '--replicas', '2', '--network', NET, '--config', `src=${P}-backend,target=/etc/nginx/nginx.conf`, image);
  await applyObject(port, object({ apiVersion: 'swarmgate.io/v1', kind: 'ServiceCluster', metadata: { name: CLUSTER }, spec: { proxy: { kind: KIND, replicas: 1, delivery: DELIVERY, publish: { mode: 'host', http: HTTP_PORT, https: HTTP_PORT + 1 } } } }));
  await applyObject(port, route(P, HOST, 'start'));
  if ((await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'warn' }, quietIo)) !== 0) throw new Error('install failed');
  const rows: Record<string, Row> = {};
  try {
    const end = Date.now() + 120_000;
    while ((await status()) !== 200) {
      if (Date.now() > end) throw new Error('route never answered 200');
      await sleep(200);
    }
    await sleep(3000);
    for (const [i, keepAlive] of [true, false].entries()) {
      process.stderr.write(`wrk -c50 with ${keepAlive ? 'keep-alive' : 'Connection: close'} while ${CHANGES} changes are applied\n`);
      rows[keepAlive ? 'keep-alive' : 'connection-close'] = await underChanges(keepAlive, i);
    }
    const lines = Object.entries(rows).map(
      ([k, r]) => `  ${k.padEnd(18)} requests ${String(r.requests).padStart(9)}  non-2xx ${String(r.non2xx).padStart(5)}  socket errors ${String(r.socketErrors).padStart(5)} (${((r.socketErrors * 100_000) / Math.max(1, r.requests)).toFixed(2)} per 100k)  reloads ${r.reloads} while the changes took ${r.changesSeconds.toFixed(1)} s`,
    );
    process.stdout.write(`\nreconfiguration under load, ${KIND}, ${DELIVERY} delivery, ${CHANGES} changes ${GAP_MS} ms apart\n${lines.join('\n')}\n  targets (hitless): 0 non-2xx, ≤ 1 socket error per 100k requests, ≤ 3 reloads per 100 changes in 10 s\n`);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(`bench/results/reload-${DELIVERY}${KIND === 'haproxy' ? '-haproxy' : ''}-latest.json`, `${JSON.stringify({ date: new Date().toISOString(), kind: KIND, delivery: DELIVERY, changes: CHANGES, gapMs: GAP_MS, results: rows }, null, 2)}\n`);
  } finally {
    process.stderr.write('cleaning up\n');
    for (const name of (await port.listConfigs(['io.swarmgate.kind=Route'])).map((c) => c.Spec.Labels?.['io.swarmgate.name'] ?? '').filter((n) => n.startsWith(P))) {
      await deleteObject(port, 'Route', name).catch(() => undefined);
    }
    await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
    await runUninstall(port, false, quietIo).catch(() => undefined);
    for (const args of [['service', 'rm', SVC], ['config', 'rm', `${P}-backend`], ['network', 'rm', NET]]) {
      for (let i = 0; i < 20; i++) {
        try {
          docker(...args);
          break;
        } catch {
          await sleep(500);
        }
      }
    }
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`bench-reload failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
