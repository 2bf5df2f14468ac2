/**
 * Two replicas of one cluster with an ACME route, without Docker: the core's issuer actor, the real
 * gRPC server, and two ProxyAgents of cluster "default", each with its own real NGINX — the second
 * in a network namespace of its own, so both listen on the same ports as two nodes' tasks would,
 * and with its own ACME directory bound at the config's path (each task has its own tmpfs).
 * pebble (on loopback) validates HTTP-01 through replica 1. Measured: orders placed at the CA (its
 * newOrder requests) and the certificate each replica serves. The real-Swarm two-node measure is
 * not done (ADR 0027). Needs root (ip netns), pebble and curl/openssl.
 */
import * as grpc from '@grpc/grpc-js';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreConnection } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi } from '../../src/api/server';
import { ProxyAgent } from '../../src/agent/proxy-agent';
import { IssuerActor } from '../../src/core/acme/issuer-actor';
import { memoryStore } from '../../src/core/acme/acme-state-store';
import { withIssuerConditions } from '../../src/core/acme/issuer-status';
import { desiredConfig } from '../../src/plan/pipeline';
import { renderNginx } from '../../src/render/nginx/render';
import { startEcho } from '../helpers/echo-backends';
import { freePorts, loopbackRenderOptions } from '../helpers/nginx-process';
import { startPebble, type Pebble } from '../helpers/pebble';
import { desired, route, snapshot, task } from '../helpers/specs';
import { capturingLog, pebbleIssuer } from '../helpers/acme-harness';
import { pollUntilOk as until } from '../helpers/poll';


const NETNS = `sg-acme2-${process.pid}`;
const HOST = 'shop.example.test';
const cleanups: (() => Promise<void> | void)[] = [];
const logLines: string[] = [];
let pebble: Pebble;
let root = '';
let https = 0;
let actor: IssuerActor;
const agents: ProxyAgent[] = [];
let applyStarted = 0;
let dir = '';


/** The SHA-256 fingerprint of the certificate replica 1 (this namespace) serves, trusting pebble's root only. */
function fingerprintHere(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = httpsRequest({ host: '127.0.0.1', port: https, servername: HOST, headers: { host: HOST, connection: 'close' }, ca: root, path: '/', agent: false, timeout: 5_000 }, (res) => {
      const fp = (res.socket as unknown as { getPeerCertificate(): { fingerprint256: string } }).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? fp.replaceAll(':', '').toLowerCase() : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** The same, through replica 2 in its network namespace (curl + openssl there), undefined until it answers 200 with a certificate pebble's root verifies. */
function fingerprintThere(): string | undefined {
  const rootFile = join(dir, 'root.pem');
  const curl = spawnSync('ip', ['netns', 'exec', NETNS, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', rootFile, '--resolve', `${HOST}:${https}:127.0.0.1`, `https://${HOST}:${https}/`], { encoding: 'utf8', timeout: 10_000 });
  if (curl.stdout.trim() !== '200') return undefined;
  const pem = spawnSync('ip', ['netns', 'exec', NETNS, 'sh', '-c', `openssl s_client -connect 127.0.0.1:${https} -servername ${HOST} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`], { encoding: 'utf8', timeout: 10_000 });
  const fp = /=([0-9A-F:]+)/.exec(pem.stdout)?.[1];
  return fp?.replaceAll(':', '').toLowerCase();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-acme2-'));
  chmodSync(dir, 0o711);
  const [pHttp, pHttps, pTls, pPt, pStatus, pUnavailable, pTraffic, pBackend] = await freePorts(8);
  https = pHttps ?? 0;
  const http = pHttp ?? 0;
  // Replica 2 runs its NGINX in a network namespace of its own: the same ports, as a second node's task would.
  expect(spawnSync('ip', ['netns', 'add', NETNS]).status).toBe(0);
  cleanups.push(() => void spawnSync('ip', ['netns', 'del', NETNS]));
  expect(spawnSync('ip', ['netns', 'exec', NETNS, 'ip', 'link', 'set', 'lo', 'up']).status).toBe(0);
  const wrapper = join(dir, 'nginx-in-netns');
  // …and a directory of its own at the config's ACME path (its agent writes there), as each task has its own tmpfs.
  mkdirSync(join(dir, 'acme'), { mode: 0o711 });
  mkdirSync(join(dir, 'acme-2'), { mode: 0o711 });
  writeFileSync(wrapper, `#!/bin/sh\nexec unshare -m sh -c 'mount --bind ${join(dir, 'acme-2')} ${join(dir, 'acme')} && exec ip netns exec ${NETNS} nginx "$@"' nginx "$@"\n`, { mode: 0o755 });
  pebble = await startPebble({ httpPort: http, validitySeconds: 3_600 });
  cleanups.push(() => pebble.stop());
  root = await pebble.root();
  writeFileSync(join(dir, 'root.pem'), root);
  const backend = await startEcho('web', 't1', '127.0.0.1', pBackend ?? 0);
  cleanups.push(() => backend.close());
  // Replica 2's backend: the same port in its namespace.
  const echo2 = spawn('ip', ['netns', 'exec', NETNS, process.execPath, '-e', `require('http').createServer((q, s) => s.end('web')).listen(${pBackend ?? 0}, '127.0.0.1')`], { stdio: 'ignore' });
  cleanups.push(() => void echo2.kill('SIGTERM'));
  const issuer = pebbleIssuer(pebble.directory);
  const snap = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: [task('web', '127.0.0.1')], networks: [{ name: 'app' }] });
  const options = { ...loopbackRenderOptions(dir, [http, pTls ?? 0, pPt ?? 0, pStatus ?? 0, pUnavailable ?? 0, pTraffic ?? 0]), httpsPort: https, acmeDir: join(dir, 'acme') };
  const routes = [route('shop', { hosts: [HOST], tls: { mode: 'Terminate', redirectHTTP: true, certificate: { issuer: 'pebble' } }, rules: [{ backends: [{ service: 'web', port: pBackend ?? 0 }] }] })];

  const plane = new ControlPlane();
  const socket = `unix://${dir}/core.sock`;
  const api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log: pino({ level: 'silent' }) });
  cleanups.push(() => api.close());
  const log = capturingLog(logLines, 'info');
  actor = new IssuerActor({ store: memoryStore(), log, plane, readSecret: (n) => (n === 'pebble-ca' ? pebble.serverCa : undefined), tokenSettleMs: 300, backoff: { firstMs: 2_000, maxMs: 5_000 } });
  cleanups.push(() => actor.stop());
  const render = () => {
    const specs = { ...desired(routes), issuers: [{ object: issuer, generation: 1 }] };
    const built = withIssuerConditions(desiredConfig({ specs, snapshot: snap, acme: actor.certificates(), render: false }), actor);
    const model = built.result.clusters.find((c) => c.cluster === 'default');
    if (model === undefined) throw new Error('no default cluster');
    return { model, conf: renderNginx(model, options) };
  };
  const reconcile = () => {
    const { model, conf } = render();
    plane.deliver('default', 'nginx', [{ path: 'nginx.conf', content: Buffer.from(conf) }], false, actor.filesFor(model.acme?.files));
  };
  const sub = actor.changes$.subscribe(() => reconcile());
  cleanups.push(() => sub.unsubscribe());
  const boot = join(dir, 'boot.conf');
  writeFileSync(boot, render().conf);
  // Two replicas of the cluster: two agents on the core's stream, each with its own NGINX.
  for (const [i, bin, acmeDir] of [[1, 'nginx', join(dir, 'acme')], [2, wrapper, join(dir, 'acme-2')]] as const) {
    const core = coreConnection(socket, grpc.credentials.createInsecure());
    cleanups.push(() => core.close());
    const agent = new ProxyAgent({ core, cluster: 'default', replicaId: `task-${i}`, confDir: join(dir, `live-${i}`), bootConfigs: [boot], log, heartbeatMs: 200, nginx: bin, acmeDir, drainFlagPath: join(dir, 'draining'), pacer: { calmMs: 0, quietMs: 0, maxWaitMs: 0 } });
    agent.start();
    agents.push(agent);
    cleanups.push(async () => {
      agent.stop('SIGTERM');
      await agent.exited;
    });
  }
  await until('both replicas connected', () => (plane.connectedAgents('default').size === 2 ? true : undefined));
  applyStarted = Date.now();
  await actor.start();
  reconcile();
}, 60_000);

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('one ACME certificate for two replicas of one cluster (pebble, two NGINX)', () => {
  it('orders once and both replicas serve the same certificate', async () => {
    // Generous: on a loaded machine a first order that fails (pebble refuses 5 % of nonces) waits for
    // the issuer's back-off; the log says what happened when it still times out.
    const withLog = async <T>(p: Promise<T>): Promise<T> => {
      try {
        return await p;
      } catch (err) {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; issuer log:\n${logLines.filter((l) => /ACME|HTTP-01|certificate/i.test(l)).slice(-30).join('\n')}`);
      }
    };
    const here = await withLog(until('replica 1 serves HTTPS', () => fingerprintHere(), 60_000));
    const there = await withLog(until('replica 2 serves HTTPS', () => fingerprintThere(), 60_000));
    const orders = pebble.ordersCreated();
    console.info(`two replicas: first HTTPS 200 after ${Date.now() - applyStarted} ms; ${orders} order at pebble; same certificate on both: ${here === there}`);
    for (const l of logLines.filter((x) => /ACME order failed|could not write/.test(x))) console.info(l);
    expect(there).toBe(here);
    expect(orders).toBe(1);
    expect(actor.held()).toEqual([expect.objectContaining({ route: 'shop', orders: 1 })]);
    expect(logLines.filter((l) => l.includes('"msg":"ACME order placed"'))).toHaveLength(1);
    // The CA was asked to validate once both agents ran the config with the challenge location.
    expect(logLines.find((l) => l.includes('HTTP-01 token presented to the agents'))).toMatch(/"agents":2,"reports":2,"caughtUp":true/);
    for (const a of agents) expect(a.restarts).toBe(0);
  }, 150_000);
});
