/**
 * Automatic HTTPS on HAProxy (ADR 0032) end to end without Docker, against a real ACME server
 * (Debian's pebble, on loopback): the core's issuer actor and the pure pipeline as a core run uses
 * them, the real gRPC server, and a ProxyAgent running a real HAProxy (master-worker, as in a proxy
 * task) on the rendered config. The HTTP-01 token reaches HAProxy through the agent's map update
 * (runtime API, no reload); the route then serves HTTPS with pebble's certificate from the
 * crt-list; the short-lived certificate is renewed under continuous HTTPS traffic with no failed
 * request and the same HAProxy master (no restart: the renewal is one hitless reload); no PEM marker
 * reaches a log line or a condition. Last, a new task booting while the core is down (ADR 0033): a
 * fresh agent with empty tmpfs directories, the node's last applied config and the route's durable
 * copy mounted, serves the issued certificate over HTTPS.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { X509Certificate } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreConnection } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi } from '../../src/api/server';
import { ProxyAgent } from '../../src/agent/proxy-agent';
import { IssuerActor } from '../../src/core/acme/issuer-actor';
import { memoryStore } from '../../src/core/acme/acme-state-store';
import { withIssuerConditions } from '../../src/core/acme/issuer-status';
import type { Condition } from '../../src/domain/conditions';
import type { IssuerObject } from '../../src/domain/object';
import { desiredConfig } from '../../src/plan/pipeline';
import { renderHaproxy } from '../../src/render/haproxy/render';
import { startEcho } from '../helpers/echo-backends';
import { haproxyAvailable } from '../helpers/haproxy-check';
import { freePorts } from '../helpers/nginx-process';
import { startPebble, type Pebble } from '../helpers/pebble';
import { cluster, desired, object, route, snapshot, task } from '../helpers/specs';
import { pollUntilOk as until } from '../helpers/poll';

const VALIDITY_S = 30;
const cleanups: (() => Promise<void> | void)[] = [];
const logLines: string[] = [];
const seenConditions: Condition[] = [];
let pebble: Pebble;
let root = '';
let https = 0;
let http = 0;
let agent: ProxyAgent;
let actor: IssuerActor;
let reconcile: () => void;
let routes = [] as ReturnType<typeof route>[];
let applyStarted = 0;
let acmeDir = '';
let certDir = '';
let http01Reloads = 0;
let testDir = '';
/** A new task's agent: same cluster, ports and node volume, fresh tmpfs directories, the core as given. */
let newTaskAgent: (core: ReturnType<typeof coreConnection>, name: string) => ProxyAgent;

/** GET over HTTPS through the proxy's SNI listener, trusting pebble's root only. */
function getHttps(host: string): Promise<{ status: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: https, servername: host, headers: { host, connection: 'close' }, ca: root, path: '/', agent: false, timeout: 5_000 }, (res) => {
      const fingerprint = (res.socket as unknown as { getPeerCertificate(): { fingerprint256: string } }).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function getHttp(host: string, path: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: http, headers: { host, connection: 'close' }, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location !== undefined ? { location: res.headers.location } : {}) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function acmeRoute(name: string, host: string, backendPort: number) {
  return route(name, { serviceCluster: 'edge', hosts: [host], tls: { mode: 'Terminate', redirectHTTP: true, certificate: { issuer: 'pebble' } }, rules: [{ backends: [{ service: 'web', port: backendPort }] }] });
}

let lastConditions: Readonly<Record<string, readonly Condition[]>> = {};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-acme-haproxy-'));
  testDir = dir;
  certDir = join(dir, 'certs');
  const runtimeDir = join(dir, 'run');
  const secretsDir = join(dir, 'secrets');
  mkdirSync(secretsDir);
  const [pHttp, pHttps, pStatus, pTraffic, pBackend] = await freePorts(5);
  http = pHttp ?? 0;
  https = pHttps ?? 0;
  pebble = await startPebble({ httpPort: http, validitySeconds: VALIDITY_S });
  cleanups.push(() => pebble.stop());
  root = await pebble.root();
  const backend = await startEcho('web', 't1', '127.0.0.1', pBackend ?? 0);
  cleanups.push(() => backend.close());
  const issuer = object({
    apiVersion: 'swarmgate.io/v1',
    kind: 'Issuer',
    metadata: { name: 'pebble' },
    spec: { acme: { server: pebble.directory, email: 'ops@example.com', caBundle: { secret: 'pebble-ca' } }, solvers: [{ http01: {} }] },
  }) as IssuerObject;
  const snap = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: [task('web', '127.0.0.1')], networks: [{ name: 'app' }] });
  const options = { certDir, runtimeDir, bindAddress: '127.0.0.1', httpPort: http, httpsPort: https, statusPort: pStatus ?? 0, trafficLogPort: pTraffic ?? 0, logTarget: '/dev/null' };
  routes = [acmeRoute('shop', 'shop.example.test', pBackend ?? 0)];

  const plane = new ControlPlane();
  const socket = `unix://${dir}/core.sock`;
  const api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log: pino({ level: 'silent' }) });
  cleanups.push(() => api.close());
  const capture = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  const log = pino({ level: 'debug' }, capture);
  actor = new IssuerActor({ store: memoryStore(), log, plane, readSecret: (n) => (n === 'pebble-ca' ? pebble.serverCa : undefined), tokenSettleMs: 300, backoff: { firstMs: 2_000, maxMs: 5_000 } });
  cleanups.push(() => actor.stop());
  // What a core run does with the issuer: build with its certificates, add its conditions, deliver with its files.
  const render = () => {
    const specs = { ...desired(routes, [cluster('edge', { proxy: { kind: 'haproxy', delivery: 'hitless' } })]), issuers: [{ object: issuer, generation: 1 }] };
    const built = withIssuerConditions(desiredConfig({ specs, snapshot: snap, acme: actor.certificates(), render: false }), actor);
    const model = built.result.clusters.find((c) => c.cluster === 'edge');
    if (model === undefined) throw new Error('no cluster edge');
    lastConditions = built.result.conditions;
    for (const cs of Object.values(built.result.conditions)) seenConditions.push(...cs);
    return { model, conf: renderHaproxy(model, options) };
  };
  reconcile = () => {
    const { model, conf } = render();
    plane.deliver('edge', 'haproxy', [{ path: 'haproxy.cfg', content: Buffer.from(conf) }], false, actor.filesFor(model.acme?.files));
  };
  const sub = actor.changes$.subscribe(() => reconcile());
  cleanups.push(() => sub.unsubscribe());

  const boot = join(dir, 'boot.cfg');
  writeFileSync(boot, render().conf);
  const core = coreConnection(socket, grpc.credentials.createInsecure());
  cleanups.push(() => core.close());
  newTaskAgent = (c, name) =>
    new ProxyAgent({
      core: c,
      kind: 'haproxy',
      haproxy: { certDir, runtimeDir, secretsDir, quiet: process.env['SG_DEBUG'] !== '1' },
      cluster: 'edge',
      replicaId: name,
      confDir: join(dir, `live-${name}`),
      lastAppliedDir: join(dir, 'node-volume'),
      bootConfigs: [boot],
      log,
      heartbeatMs: 200,
      acmeDir: join(dir, `acme-${name}`),
      acmeCopiesDir: join(dir, 'copies'),
      pacer: { calmMs: 0, quietMs: 0, maxWaitMs: 0 },
    });
  acmeDir = join(dir, 'acme-task-1');
  agent = newTaskAgent(core, 'task-1');
  agent.start();
  cleanups.push(async () => {
    agent.stop('SIGTERM');
    await agent.exited;
  });
  await until('haproxy listening', async () => ((await getHttp('none.test', '/')).status > 0 ? true : undefined));
  applyStarted = Date.now();
  await actor.start();
  reconcile();
}, 60_000);

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.runIf(haproxyAvailable())('automatic HTTPS on HAProxy with pebble', () => {
  it('orders the certificate once and serves the route over HTTPS with it', async () => {
    const first = await until('HTTPS 200 for shop.example.test', async () => ((await getHttps('shop.example.test')).status === 200 ? true : undefined), 30_000);
    expect(first).toBe(true);
    console.info(`apply → first HTTPS 200: ${Date.now() - applyStarted} ms`);
    const held = actor.held();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ route: 'shop', issuer: 'pebble', hosts: ['shop.example.test'], orders: 1 });
    const ready = lastConditions['Route/shop']?.find((c) => c.type === 'CertificateReady');
    expect(ready).toMatchObject({ status: 'True', reason: 'Issued' });
    expect(lastConditions['Issuer/pebble']?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'AccountRegistered' });
  }, 40_000);

  it('keeps the HTTP->HTTPS redirect, except for HTTP-01 tokens', async () => {
    // The HTTPS check above can pass on the new workers while an old one (a reload in progress)
    // still takes the next plain-HTTP connection: wait until the config is live on every worker.
    const redirect = await until('HTTP redirected', async () => {
      const r = await getHttp('shop.example.test', '/cart');
      return r.status === 308 ? r : undefined;
    }, 5_000);
    expect(redirect.status).toBe(308);
    expect(redirect.location).toContain('https://shop.example.test');
    // A token that is not (or no longer) pending is not in the map: 404, as NGINX answers (not the route's redirect).
    expect((await getHttp('shop.example.test', '/.well-known/acme-challenge/not-a-token')).status).toBe(404);
    expect((await getHttp('other.example.test', '/.well-known/acme-challenge/not-a-token')).status).toBe(404);
    // The token was answered from the map: every 'tokens updated' line came without a restart.
    http01Reloads = agent.restarts;
    expect(logLines.some((l) => l.includes('ACME HTTP-01 tokens updated (HAProxy map)'))).toBe(true);
    expect(http01Reloads).toBe(0);
  });

  it('renews the short-lived certificate under traffic with no failed request and no HAProxy restart', async () => {
    const pid = agent.proxyPid;
    const before = (await getHttps('shop.example.test')).fingerprint;
    let ok = 0;
    let failed = 0;
    const fingerprints = new Set<string>();
    let stop = false;
    const load = (async () => {
      while (!stop) {
        try {
          const r = await getHttps('shop.example.test');
          if (r.status === 200) ok++;
          else failed++;
          fingerprints.add(r.fingerprint);
        } catch {
          failed++;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await until('the renewed certificate served', () => (fingerprints.size > 1 ? true : undefined), VALIDITY_S * 1_000 + 10_000);
    stop = true;
    await load;
    console.info(`renewal under traffic: ${ok} ok, ${failed} failed, HAProxy restarts ${agent.restarts}, orders ${actor.held()[0]?.orders}`);
    expect(failed).toBe(0);
    expect(ok).toBeGreaterThan(10);
    expect(fingerprints.has(before)).toBe(true);
    expect(agent.proxyPid).toBe(pid);
    expect(agent.restarts).toBe(0);
    expect(actor.held()[0]?.orders).toBe(2);
  }, VALIDITY_S * 1_000 + 20_000);

  it('never writes a PEM marker into a log line or a condition', () => {
    expect(logLines.length).toBeGreaterThan(5);
    expect(logLines.filter((l) => l.includes('-----BEGIN'))).toEqual([]);
    expect(seenConditions.filter((c) => c.message.includes('-----BEGIN'))).toEqual([]);
    // The key reached the agent's directory as for NGINX (root:nogroup 0440), and the combined PEM
    // HAProxy loads (as root: the proxy image runs it as root, no `user` in the config) is root-only 0600.
    expect(readFileSync(join(acmeDir, 'acme-shop.key'), 'utf8')).toContain('PRIVATE KEY');
    const key = statSync(join(acmeDir, 'acme-shop.key'));
    expect({ mode: key.mode & 0o777, uid: key.uid, gid: key.gid }).toEqual({ mode: 0o440, uid: 0, gid: 65534 });
    const pem = join(certDir, 'acme', 'acme-shop.crt+acme-shop.key.pem');
    expect(readFileSync(pem, 'utf8')).toMatch(/BEGIN CERTIFICATE[\s\S]*PRIVATE KEY/);
    const st = statSync(pem);
    expect({ mode: st.mode & 0o777, uid: st.uid }).toEqual({ mode: 0o600, uid: 0 });
  });

  it('a new task booting while the core is down serves the issued certificate from its durable copy', async () => {
    // The core's durable copy of the current certificate (ADR 0024): the chain, then the key, as the
    // Docker secret mounted at /run/secrets/swarmgate-acme/<route>.pem holds it.
    mkdirSync(join(testDir, 'copies'), { recursive: true });
    const copy = `${readFileSync(join(acmeDir, 'acme-shop.crt'), 'utf8').trimEnd()}\n${readFileSync(join(acmeDir, 'acme-shop.key'), 'utf8').trimEnd()}\n`;
    writeFileSync(join(testDir, 'copies', 'shop.pem'), copy, { mode: 0o400 });
    const copyFingerprint = new X509Certificate(copy).fingerprint256;
    // The task dies; its tmpfs goes with it (the combined PEMs HAProxy loads included).
    agent.stop('SIGTERM');
    await agent.exited;
    rmSync(join(certDir, 'acme'), { recursive: true, force: true });
    const killed = Date.now();
    // The core is down: nothing answers on its socket.
    const deadCore = coreConnection(`unix://${testDir}/no-core.sock`, grpc.credentials.createInsecure());
    cleanups.push(() => deadCore.close());
    agent = newTaskAgent(deadCore, 'task-2');
    // The node's last applied config names the ACME PEM (its record's hash covers the delivered
    // certificates, which it does not keep: it must still be taken).
    expect(await agent.bootFromCore(500)).toBe('node');
    agent.start();
    const served = await until('HTTPS 200 from the new task', async () => {
      const r = await getHttps('shop.example.test').catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    }, 20_000);
    console.info(`core down, task replaced → HTTPS 200 on HAProxy: ${Date.now() - killed} ms`);
    expect(served.fingerprint).toBe(copyFingerprint);
    expect(readFileSync(join(testDir, 'acme-task-2', 'acme-shop.key'), 'utf8')).toContain('PRIVATE KEY');
    expect(logLines.some((l) => l.includes('serve the certificate of their durable copy') && l.includes('"shop"'))).toBe(true);
    expect(logLines.filter((l) => l.includes('-----BEGIN'))).toEqual([]);
  }, 30_000);
});
