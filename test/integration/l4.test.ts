/**
 * Listeners and TCPRoutes on the real local Swarm, in the production layout (`swarmgate install`,
 * hitless delivery): a host-mode cluster with an extra TCP listener routes a TCP service (NGINX's
 * stream `return`, one line per connection) 50/50 across two backend services, beside an HTTP
 * Route on the same cluster. Then a second listener is added: the core updates the proxy service's
 * published ports, which makes Swarm replace the proxy task (stop-first in host mode). The test
 * measures how long until the new port answers and how many requests on the existing ports (HTTP
 * and the first listener) fail meanwhile, and prints the figures (docs/reference/service-cluster.md
 * says what users should expect).
 * Needs the images (make images). Run: flock /tmp/swarm.lock npx vitest run --config vitest.integration.mts test/integration/l4.test.ts
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, route, streamRoute } from '../helpers/specs';
import { docker, isProgrammed, removeWhenReleased, until } from '../helpers/swarm';

const PREFIX = `l4${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const A = `${PREFIX}-a`;
const B = `${PREFIX}-b`;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let http = 0;
let https = 0;
let first = 0;
let second = 0;

/** A backend answering HTTP on 80 and, on TCP 7000, one line with its name per connection (NGINX stream `return`). */
function createTcpBackend(name: string): void {
  const image = docker('image', 'inspect', '--format', '{{.Id}}', 'swarmgate/proxy:latest');
  const dir = mkdtempSync(join(tmpdir(), 'sg-l4-backend-'));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `load_module /usr/lib/nginx/modules/ngx_stream_module.so;\nevents {}\nstream { server { listen 7000; return "${name}\\n"; } }\nhttp { access_log off; default_type text/plain; server { listen 80; location / { return 200 "${name}\\n"; } } }\n`,
  );
  docker('config', 'create', `${name}-conf`, join(dir, 'nginx.conf'));
  docker('service', 'create', '--detach', '--quiet', '--no-resolve-image', '--name', name, '--replicas', '1', '--network', NET, '--config', `src=${name}-conf,target=/etc/nginx/nginx.conf`, image);
}

/** The first line a TCP connection to the port gets, or undefined (refused, reset, nothing within 2 s). */
function tcpLine(p: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let data = '';
    const sock = connect(p, '127.0.0.1');
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(undefined);
    }, 2000);
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(data.split('\n')[0] || undefined);
    });
    sock.on('error', () => undefined);
  });
}

const clusterSpec = (listeners: readonly { name: string; port: number }[]) =>
  cluster(CLUSTER, { proxy: { replicas: 1, publish: { mode: 'host', http, https } }, listeners: listeners.map((l) => ({ ...l, protocol: 'TCP' })) });

beforeAll(async () => {
  [http = 0, https = 0, first = 0, second = 0] = await freePorts(4);
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  createTcpBackend(A);
  createTcpBackend(B);
  await applyObject(port, clusterSpec([{ name: 'first', port: first }]));
  await applyObject(port, route(PREFIX, { serviceCluster: CLUSTER, hosts: [`${PREFIX}.localhost`], rules: [{ backends: [{ service: A, port: 80 }] }] }));
  await applyObject(port, streamRoute('TCPRoute', `${PREFIX}-first`, { serviceCluster: CLUSTER, listener: 'first', backends: [{ service: A, port: 7000, weight: 50 }, { service: B, port: 7000, weight: 50 }] }));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
}, 180_000);

afterAll(async () => {
  for (const name of [`${PREFIX}-first`, `${PREFIX}-second`]) await deleteObject(port, 'TCPRoute', name).catch(() => undefined);
  await deleteObject(port, 'Route', PREFIX).catch(() => undefined);
  await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  await removeWhenReleased([['service', 'rm', A, B], ['config', 'rm', `${A}-conf`, `${B}-conf`], ['network', 'rm', NET]]);
}, 180_000);

describe('a TCP service through a listener of a host-mode cluster on a real Swarm', () => {
  it('splits TCP connections 50/50 across two services, with the TCPRoute Programmed', async () => {
    await until('TCPRoute programmed', () => isProgrammed(port, 'TCPRoute', `${PREFIX}-first`), 150_000);
    await until('both services answer on the listener', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) seen.add((await tcpLine(first)) ?? '-');
      return seen.has(A) && seen.has(B) ? true : undefined;
    }, 120_000);
    const n = 200;
    let a = 0;
    for (let i = 0; i < n; i++) if ((await tcpLine(first)) === A) a++;
    console.log(`TCP 50/50 on the Swarm over ${n} connections: ${A} ${a}, ${B} ${n - a}`);
    expect(a / n).toBeGreaterThan(0.35);
    expect(a / n).toBeLessThan(0.65);
    const svc = (await port.listServices()).find((s) => s.Spec.Name === `sg-proxy-${CLUSTER}`);
    expect(svc?.Spec.EndpointSpec?.Ports?.map((p) => `${p.Protocol}/${p.PublishedPort}/${p.PublishMode}`)).toEqual([`tcp/${http}/host`, `tcp/${https}/host`, `tcp/${first}/host`]);
  }, 300_000);

  it('publishes an added listener: measures until it answers and what the existing ports lose meanwhile', async () => {
    expect((await send({ port: http, host: `${PREFIX}.localhost`, path: '/' })).body.trim()).toBe(A);
    const failures = { http: 0, tcp: 0 };
    const totals = { http: 0, tcp: 0 };
    let firstFailure: number | undefined;
    let lastFailure: number | undefined;
    let probing = true;
    const started = Date.now();
    const note = (ok: boolean, which: 'http' | 'tcp'): void => {
      totals[which]++;
      if (ok) return;
      failures[which]++;
      firstFailure ??= Date.now() - started;
      lastFailure = Date.now() - started;
    };
    // Existing ports, probed every 100 ms each while the listener is added.
    const probe = (async () => {
      while (probing) {
        const [h, t] = await Promise.all([
          send({ port: http, host: `${PREFIX}.localhost`, path: '/' }).then((r) => r.status === 200, () => false),
          tcpLine(first).then((l) => l === A || l === B),
        ]);
        note(h, 'http');
        note(t, 'tcp');
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await applyObject(port, clusterSpec([{ name: 'first', port: first }, { name: 'second', port: second }]));
    await applyObject(port, streamRoute('TCPRoute', `${PREFIX}-second`, { serviceCluster: CLUSTER, listener: 'second', backends: [{ service: B, port: 7000 }] }));
    const answered = await until('the new listener answers', async () => ((await tcpLine(second)) === B ? Date.now() - started : undefined), 180_000, 200);
    // Keep probing a little: the existing ports must be back too.
    await until('existing ports answer again', async () => ((await tcpLine(first)) !== undefined && (await send({ port: http, host: `${PREFIX}.localhost`, path: '/' })).status === 200 ? true : undefined), 60_000, 200);
    await new Promise((r) => setTimeout(r, 3000));
    probing = false;
    await probe;
    const window = firstFailure === undefined || lastFailure === undefined ? 'none' : `${firstFailure}..${lastFailure} ms after the apply`;
    console.log(
      `Adding a listener on the Swarm: new port answered after ${answered} ms; existing ports failed http ${failures.http}/${totals.http}, tcp ${failures.tcp}/${totals.tcp} probes (every ~100 ms), failures ${window}`,
    );
    const svc = (await port.listServices()).find((s) => s.Spec.Name === `sg-proxy-${CLUSTER}`);
    // http and https first, then the listeners by port.
    expect(svc?.Spec.EndpointSpec?.Ports?.map((p) => `${p.Protocol}/${p.PublishedPort}`)).toEqual([`tcp/${http}`, `tcp/${https}`, ...[first, second].sort((x, y) => x - y).map((p) => `tcp/${p}`)]);
    expect(answered).toBeLessThan(180_000);
    // After the change everything answers again: the old listener kept its route.
    expect(await tcpLine(first)).toMatch(new RegExp(`^(${A}|${B})$`));
    await until('second TCPRoute programmed', () => isProgrammed(port, 'TCPRoute', `${PREFIX}-second`), 60_000);
  }, 400_000);
});
