/**
 * Automatic HTTPS on the two-node Swarm (issue 19's closing figures): two hitless NGINX clusters,
 * each with two host-mode proxy replicas (one per node), a route with an ACME issuer on each, and
 * pebble as the CA. Per round it measures: apply → first HTTPS 200 and → every replica of both
 * clusters serving, orders placed per certificate (the core's "ACME order placed" lines, pebble's
 * newOrder count as a cross-check), then a renewal under continuous HTTPS traffic to all four
 * replicas: failed requests and proxy task restarts (task IDs and service versions before/after).
 * Longer than a CI test should be (a renewal has to come), so it is a script; output: a table on
 * stdout and bench/results/acme-two-nodes-latest.json.
 *
 * Run (root, under the swarm lock, on the namespaced swarm): make swarm-up NODES=2 && make bench-acme-two-nodes
 * The script runs inside the client namespace (sg-cli, 10.210.0.20), where pebble,
 * pebble-challtestsrv and the DNS-01 webhook listen: the core's task on the manager dials pebble
 * there; pebble validates HTTP-01 (cluster A) on the worker's address, and DNS-01 (cluster B)
 * through challtestsrv, which the webhook feeds. Docker is reached through the manager's socket.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORE_SERVICE, runInstall, runUninstall } from '../src/cli/commands/install';
import { applyObject, deleteObject } from '../src/desired/spec-store';
import { LABELS } from '../src/domain/labels';
import { isServingTask } from '../src/observed/docker-port';
import { createDockerPort } from '../src/observed/dockerode-adapter';
import { startDns01Webhook } from '../test/helpers/dns01-webhook';
import { startPebble } from '../test/helpers/pebble';
import { cluster, object, route } from '../test/helpers/specs';
import { docker, until } from '../test/helpers/swarm';
import { assertNamespacedSwarm, CLIENT_ADDR, createEcho, MGR_ADDR, MGR_SOCKET, removeLabelled, waitForPlacement, WRK_ADDR } from '../test/multinode/nodes';

const ROUNDS = Number(process.argv.find((a) => a.startsWith('--rounds='))?.split('=')[1] ?? '3');
const PREFIX = `sgan${process.pid % 10000}`;
const LABEL = `io.swarmgate.test=${PREFIX}`;
const NET = `${PREFIX}-net`;
const ECHO = `${PREFIX}-echo`;
const A = `${PREFIX}-a`;
const B = `${PREFIX}-b`;
const ISSUER = `${PREFIX}-pebble`;
const CA_CONFIG = `${PREFIX}-pebble-ca`;
const PORTS = { aHttp: 18480, aHttps: 18943, bHttp: 18481, bHttps: 18944 };
const NODE_ADDRS = [MGR_ADDR, WRK_ADDR];
/** Short-lived certificates, renewed at half their life: one renewal per round within ~40 s. */
const VALIDITY_S = 60;
const io = { out: () => undefined, err: (t: string) => console.error(t) };
const port = createDockerPort();
const log = (t: string): void => void process.stderr.write(`${new Date().toISOString()} ${t}\n`);

function getHttps(addr: string, httpsPort: number, host: string, ca: string): Promise<{ status: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: addr, port: httpsPort, servername: host, headers: { host, connection: 'close' }, ca, path: '/', agent: false, timeout: 5_000 }, (res) => {
      const fingerprint = (res.socket as unknown as { getPeerCertificate(): { fingerprint256: string } }).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** GET over plain HTTP with a Host header (fetch drops Host: a forbidden header name). */
function getHttp(addr: string, httpPort: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: addr, port: httpPort, headers: { host, connection: 'close' }, path: '/', agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function coreLog(): string[] {
  const r = spawnSync('docker', ['service', 'logs', '--raw', CORE_SERVICE], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return `${r.stdout}${r.stderr}`.split('\n');
}

function ordersPlaced(routeName: string): { first: number; renewals: number } {
  const placed = coreLog().filter((l) => l.includes(`"route":"${routeName}"`) && l.includes('"msg":"ACME order placed"'));
  const renewals = placed.filter((l) => l.includes('"renewing":true')).length;
  return { first: placed.length - renewals, renewals };
}

async function proxyState(clusterName: string): Promise<{ version: number; tasks: string[] }> {
  const svc = (await port.listServices()).find((s) => s.Spec.Name === `sg-proxy-${clusterName}`);
  if (svc === undefined) throw new Error(`no proxy service for ${clusterName}`);
  const tasks = (await port.listTasks()).filter((t) => t.ServiceID === svc.ID && isServingTask(t)).map((t) => t.ID).sort();
  return { version: svc.Version.Index, tasks };
}

interface Target {
  readonly cluster: string;
  readonly addr: string;
  readonly port: number;
  readonly host: string;
}

interface Round {
  readonly round: number;
  readonly firstHttps200Ms: number;
  readonly allReplicasMs: number;
  readonly ordersPerCertificate: Record<string, number>;
  readonly sameCertificateOnBothReplicas: boolean;
  readonly renewal: { readonly requests: number; readonly failed: number; readonly failures: readonly string[]; readonly proxyRestarts: number; readonly serviceUpdates: number; readonly renewalOrders: number; readonly tookMs: number };
}

async function round(k: number, ca: string): Promise<Round> {
  const hostA = `r${k}.a.${PREFIX}.test`;
  const hostB = `r${k}.b.${PREFIX}.test`;
  const routeA = `${PREFIX}-r${k}-a`;
  const routeB = `${PREFIX}-r${k}-b`;
  const targets: Target[] = NODE_ADDRS.flatMap((addr) => [
    { cluster: A, addr, port: PORTS.aHttps, host: hostA },
    { cluster: B, addr, port: PORTS.bHttps, host: hostB },
  ]);
  const acme = (name: string, c: string, host: string) => route(name, { serviceCluster: c, hosts: [host], tls: { mode: 'Terminate', redirectHTTP: true, certificate: { issuer: ISSUER } }, rules: [{ backends: [{ service: ECHO, port: 8080 }] }] });
  const before = { a: await proxyState(A), b: await proxyState(B) };
  const t0 = Date.now();
  await applyObject(port, acme(routeA, A, hostA));
  await applyObject(port, acme(routeB, B, hostB));
  const served = (t: Target) => async () => ((await getHttps(t.addr, t.port, t.host, ca)).status === 200 ? true : undefined);
  await Promise.race(targets.map((t) => until(`HTTPS 200 ${t.host} via ${t.addr}`, served(t), 120_000, 200))).catch((e: unknown) => {
    // What the core said about its orders (no key material in its log).
    for (const l of coreLog().filter((x) => /acme|ACME/.test(x)).slice(-15)) log(l.slice(0, 400));
    throw e;
  });
  const firstHttps200Ms = Date.now() - t0;
  await Promise.all(targets.map((t) => until(`HTTPS 200 ${t.host} via ${t.addr}`, served(t), 120_000, 200)));
  const allReplicasMs = Date.now() - t0;
  log(`round ${k}: first HTTPS 200 after ${firstHttps200Ms} ms, all four replicas after ${allReplicasMs} ms`);
  const prints = await Promise.all(targets.map(async (t) => ({ t, fp: (await getHttps(t.addr, t.port, t.host, ca)).fingerprint })));
  const same = [A, B].every((c) => new Set(prints.filter((p) => p.t.cluster === c).map((p) => p.fp)).size === 1);
  const firstPrint = new Map(prints.map((p) => [`${p.t.addr}:${p.t.port}`, p.fp]));

  // Renewal under traffic: every replica must switch to a new certificate.
  const renewedBefore = ordersPlaced(routeA).renewals + ordersPlaced(routeB).renewals;
  const switched = new Set<string>();
  const failures: string[] = [];
  let requests = 0;
  let stop = false;
  const r0 = Date.now();
  const loads = targets.map(async (t) => {
    while (!stop) {
      requests++;
      try {
        const r = await getHttps(t.addr, t.port, t.host, ca);
        if (r.status !== 200) failures.push(`${t.addr}:${t.port} status ${r.status}`);
        else if (r.fingerprint !== firstPrint.get(`${t.addr}:${t.port}`)) switched.add(`${t.addr}:${t.port}`);
      } catch (e) {
        failures.push(`${t.addr}:${t.port} ${e instanceof Error ? e.message : String(e)}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  });
  await until('every replica serving its renewed certificate', async () => (switched.size === targets.length ? true : undefined), VALIDITY_S * 1_000 + 60_000, 250);
  // A little past the switch: old and new NGINX workers overlap there.
  await new Promise((r) => setTimeout(r, 2_000));
  stop = true;
  await Promise.all(loads);
  const after = { a: await proxyState(A), b: await proxyState(B) };
  const restarted = [...before.a.tasks, ...before.b.tasks].filter((id) => !after.a.tasks.includes(id) && !after.b.tasks.includes(id)).length;
  const renewal = {
    requests,
    failed: failures.length,
    failures: failures.slice(0, 10),
    proxyRestarts: restarted,
    serviceUpdates: after.a.version - before.a.version + (after.b.version - before.b.version),
    renewalOrders: ordersPlaced(routeA).renewals + ordersPlaced(routeB).renewals - renewedBefore,
    tookMs: Date.now() - r0,
  };
  log(`round ${k}: renewal under traffic: ${requests} requests, ${failures.length} failed, ${restarted} proxy restarts, ${renewal.serviceUpdates} service version changes`);
  const ordersPerCertificate = { [routeA]: ordersPlaced(routeA).first, [routeB]: ordersPlaced(routeB).first };
  await deleteObject(port, 'Route', routeA);
  await deleteObject(port, 'Route', routeB);
  return { round: k, firstHttps200Ms, allReplicasMs, ordersPerCertificate, sameCertificateOnBothReplicas: same, renewal };
}

function summary(xs: readonly number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const median = s.length % 2 === 1 ? (s[(s.length - 1) / 2] ?? 0) : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
  return `min ${s[0] ?? 0} / median ${median} / max ${s[s.length - 1] ?? 0}`;
}

async function main(): Promise<void> {
  assertNamespacedSwarm();
  const pebble = await startPebble({ httpPort: PORTS.aHttp, validitySeconds: VALIDITY_S, listen: CLIENT_ADDR, resolveTo: WRK_ADDR });
  const webhook = await startDns01Webhook(pebble, CLIENT_ADDR);
  const ca = await pebble.root();
  const rounds: Round[] = [];
  try {
    docker('network', 'create', '--driver', 'overlay', '--label', LABEL, NET);
    createEcho(ECHO, 1, ['--network', NET, '--constraint', 'node.role==manager'], LABEL);
    const dir = mkdtempSync(join(tmpdir(), 'sgan-'));
    writeFileSync(join(dir, 'ca.pem'), pebble.serverCa);
    docker('config', 'create', '--label', LABEL, CA_CONFIG, join(dir, 'ca.pem'));
    // Two replicas per cluster, one per node (host mode: MaxReplicas 1 per node).
    await applyObject(port, cluster(A, { proxy: { replicas: 2, delivery: 'hitless', constraints: ['node.platform.os==linux'], publish: { mode: 'host', http: PORTS.aHttp, https: PORTS.aHttps } } }));
    await applyObject(port, cluster(B, { proxy: { replicas: 2, delivery: 'hitless', constraints: ['node.platform.os==linux'], publish: { mode: 'host', http: PORTS.bHttp, https: PORTS.bHttps } } }));
    if ((await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info', dockerSocket: MGR_SOCKET }, io)) !== 0) throw new Error('install failed');
    // A plain route per cluster first: the proxies join the backend's network now, so the rounds measure ACME alone.
    await applyObject(port, route(`${PREFIX}-plain-a`, { serviceCluster: A, hosts: ['plain-a.test'], rules: [{ backends: [{ service: ECHO, port: 8080 }] }] }));
    await applyObject(port, route(`${PREFIX}-plain-b`, { serviceCluster: B, hosts: ['plain-b.test'], rules: [{ backends: [{ service: ECHO, port: 8080 }] }] }));
    for (const c of [A, B]) await waitForPlacement(port, `sg-proxy-${c}`, ['sg-mgr', 'sg-wrk'], 180_000);
    for (const [addr, p, host] of NODE_ADDRS.flatMap((a) => [[a, PORTS.aHttp, 'plain-a.test'], [a, PORTS.bHttp, 'plain-b.test']] as const)) {
      await until(`plain ${host} via ${addr}`, async () => ((await getHttp(addr, p, host)) === 200 ? true : undefined), 180_000, 250);
    }
    await applyObject(port, object({
      apiVersion: 'swarmgate.io/v1',
      kind: 'Issuer',
      metadata: { name: ISSUER },
      spec: {
        acme: { server: pebble.directory, email: 'ops@example.com', caBundle: { config: CA_CONFIG } },
        solvers: [{ selector: { hostSuffixes: [`b.${PREFIX}.test`] }, dns01: { webhook: { url: webhook.url } } }, { http01: {} }],
        renewal: { percentOfLifetime: 50, jitterPercent: 0 },
      },
    }));
    for (let k = 1; k <= ROUNDS; k++) rounds.push(await round(k, ca));
  } finally {
    const newOrders = pebble.logs().split('\n').filter((l) => /POST \/order-plz|newOrder/i.test(l)).length;
    log(`pebble saw ${newOrders} newOrder requests in all`);
    await runUninstall(port, true, io).catch((e: unknown) => log(`uninstall: ${String(e)}`));
    await removeLabelled(LABEL).catch((e: unknown) => log(`cleanup: ${String(e)}`));
    for (const s of (await port.listSecrets().catch(() => [])).filter((x) => x.Spec.Labels?.[LABELS.role] === 'acme-copy')) spawnSync('docker', ['secret', 'rm', s.ID]);
    await webhook.close();
    await pebble.stop();
  }
  const lines = [
    `rounds: ${rounds.length} (2 clusters × 2 host-mode replicas on 2 nodes; certificate validity ${VALIDITY_S} s, renewed at 50 %)`,
    `apply → first HTTPS 200 (ms): ${summary(rounds.map((r) => r.firstHttps200Ms))}`,
    `apply → all 4 replicas HTTPS 200 (ms): ${summary(rounds.map((r) => r.allReplicasMs))}`,
    `orders placed per certificate (first issuance): ${rounds.flatMap((r) => Object.values(r.ordersPerCertificate)).join(', ')}`,
    `both replicas of a cluster serve the same certificate: ${rounds.every((r) => r.sameCertificateOnBothReplicas)}`,
    `renewal under traffic: failed/requests ${rounds.map((r) => `${r.renewal.failed}/${r.renewal.requests}`).join(', ')}`,
    `proxy task restarts per renewal round: ${rounds.map((r) => r.renewal.proxyRestarts).join(', ')}; proxy service updates: ${rounds.map((r) => r.renewal.serviceUpdates).join(', ')}; renewal orders: ${rounds.map((r) => r.renewal.renewalOrders).join(', ')}`,
  ];
  console.log(lines.join('\n'));
  const resultsDir = join(__dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'acme-two-nodes-latest.json'), `${JSON.stringify({ at: new Date().toISOString(), validitySeconds: VALIDITY_S, rounds }, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
