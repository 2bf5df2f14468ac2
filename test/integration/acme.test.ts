/**
 * Automatic HTTPS on the real local Swarm, against a real ACME server that runs offline.
 *
 * How pebble is reached: Debian's `pebble` and `pebble-challtestsrv` run on this host, started by
 * the test (test/helpers/pebble.ts). pebble's ACME directory listens on the host's docker_gwbridge
 * address — the address of this machine that a Swarm task attached to overlay networks (the core's)
 * can dial; its HTTPS certificate names that address and is handed to the Issuer as `caBundle`
 * (a Docker config). pebble validates HTTP-01 against 127.0.0.1 on cluster A's host-mode HTTP port
 * (challtestsrv resolves every test host to 127.0.0.1), and DNS-01 against challtestsrv, where a
 * webhook stub (test/helpers/dns01-webhook.ts, also on the docker_gwbridge address) puts the TXT
 * records the core asks for through the documented webhook contract.
 *
 * The core runs as `swarmgate install` makes it; two hitless NGINX clusters and a hitless HAProxy one
 * (one host-mode replica each: two replicas cannot share a host port on one node,
 * docs/reference/test-environment; the HAProxy route proves its hosts by DNS-01, as pebble validates
 * HTTP-01 on cluster A's port only; HTTP-01 on HAProxy: test/component/acme-haproxy.test.ts). It
 * checks: apply → first HTTPS 200 with pebble's certificate, one order per certificate across the
 * two clusters, a renewal under continuous HTTPS traffic with no failed request and no proxy task
 * restart, a wildcard through DNS-01, the core restarted in the middle of an order (resumed: one
 * order placed, one certificate issued), the delivered key on the proxy task's tmpfs, ChallengeFailed with pebble's detail while the other routes serve,
 * a proxy task that boots while the core is down serving the certificate's durable copy (ADR 0024; HAProxy too, ADR 0033), and no PEM marker in
 * the core's or the agents' logs. Needs the images (make images) and pebble (deploy/scripts/system-deps.sh test).
 */
import { spawnSync } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_SERVICE, runInstall, runUninstall } from '../../src/cli/commands/install';
import { runTlsList } from '../../src/cli/commands/tls';
import { LABELS } from '../../src/domain/labels';
import type { Condition } from '../../src/domain/conditions';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { isServingTask } from '../../src/observed/docker-port';
import { parseStatus } from '../../src/status/object-status';
import { startDns01Webhook, type Dns01Webhook } from '../helpers/dns01-webhook';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { startPebble, type Pebble } from '../helpers/pebble';
import { cluster, object, route } from '../helpers/specs';
import { createBackend, backendRemoval, docker, removeWhenReleased, tryDocker, until } from '../helpers/swarm';

const PREFIX = `sgac${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const WEB = `${PREFIX}-web`;
const A = `${PREFIX}-a`;
const B = `${PREFIX}-b`;
/** The HAProxy cluster. */
const C = `${PREFIX}-c`;
const CA_CONFIG = `${PREFIX}-pebble-ca`;
const ISSUER = `${PREFIX}-pebble`;
const DOMAIN = `${PREFIX}.test`;
const SHOP = `shop.${DOMAIN}`;
const WILD = `*.wild.${DOMAIN}`;
const LATE = `late.${DOMAIN}`;
const BROKEN = `broken.${DOMAIN}`;
const HAP = `hap.${DOMAIN}`;
/** Short-lived certificates, renewed at half their life: a renewal is seen within a minute. */
const VALIDITY_S = 80;
const io = { out: () => undefined, err: (t: string) => console.error(t) };
const port = createDockerPort();
const ports = { aHttp: 0, aHttps: 0, bHttp: 0, bHttps: 0, cHttp: 0, cHttps: 0 };
let pebble: Pebble;
let webhook: Dns01Webhook;
let root = '';

/** GET over HTTPS on a host-mode port, SNI = host, trusting pebble's root only. */
function getHttps(httpsPort: number, host: string, o: { verify?: boolean } = {}): Promise<{ status: number; fingerprint: string; issuer: string }> {
  return new Promise((resolve, reject) => {
    // verify false: a short-lived certificate kept as a durable copy may have expired; the test compares fingerprints instead.
    const req = httpsRequest({ host: '127.0.0.1', port: httpsPort, servername: host, headers: { host, connection: 'close' }, ca: root, rejectUnauthorized: o.verify !== false, path: '/', agent: false, timeout: 5_000 }, (res) => {
      const peer = (res.socket as unknown as { getPeerCertificate(): { fingerprint256: string; issuer?: { CN?: string } } }).getPeerCertificate();
      const fingerprint = peer.fingerprint256;
      const issuer = peer.issuer?.CN ?? '';
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint, issuer }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

const served = async (httpsPort: number, host: string): Promise<true | undefined> => ((await getHttps(httpsPort, host)).status === 200 ? true : undefined);

async function conditionOf(kind: string, name: string, type: string): Promise<Condition | undefined> {
  const [c] = await port.listConfigs([`${LABELS.kind}=${kind}`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions.find((x) => x.type === type);
}

/**
 * A service's logs. Bounded: `docker service logs` can hang on a task whose container was killed
 * (seen once here), and a synchronous call that hangs also stops this process's pebble webhook.
 */
function serviceLogs(service: string): string {
  const r = spawnSync('docker', ['service', 'logs', '--raw', service], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, timeout: 20_000 });
  return `${r.stdout}${r.stderr}`;
}

/** The logs of a running container (its stdout and stderr), bounded like serviceLogs. */
function containerLogs(id: string): string {
  const r = spawnSync('docker', ['logs', id], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, timeout: 20_000 });
  return `${r.stdout}${r.stderr}`;
}

/** The core's log lines about orders for a route: placed at the CA (first issuance or renewal), resumed after a restart, issued. */
function ordersOf(routeName: string): { placed: number; renewals: number; resumed: number; issued: number } {
  const lines = serviceLogs(CORE_SERVICE)
    .split('\n')
    .filter((l) => l.includes(`"route":"${routeName}"`));
  const placed = lines.filter((l) => l.includes('"msg":"ACME order placed"'));
  return {
    placed: placed.length,
    renewals: placed.filter((l) => l.includes('"renewing":true')).length,
    resumed: lines.filter((l) => l.includes('resuming the ACME order placed before')).length,
    issued: lines.filter((l) => l.includes('ACME certificate issued')).length,
  };
}

/**
 * The proxy service's spec and serving tasks: equal before and after means swarmgate wrote no service
 * update and no task restarted. Not the version index: Swarm bumps it by itself when an earlier
 * update's status turns "completed", which can land in the middle of a test (same spec, same tasks).
 */
async function proxyState(clusterName: string): Promise<{ spec: string; tasks: string[] }> {
  const svc = (await port.listServices()).find((s) => s.Spec.Name === `sg-proxy-${clusterName}`);
  if (svc === undefined) throw new Error(`no proxy service for ${clusterName}`);
  const tasks = (await port.listTasks()).filter((t) => t.ServiceID === svc.ID && isServingTask(t)).map((t) => t.ID).sort();
  return { spec: JSON.stringify(svc.Spec), tasks };
}

/** Cluster C: HAProxy, hitless, on the backend's network up front; `stopGracePeriod` forces an update. */
function haproxyCluster(stopGracePeriod?: string) {
  return cluster(C, { networks: [NET], proxy: { kind: 'haproxy', replicas: 1, delivery: 'hitless', ...(stopGracePeriod !== undefined ? { stopGracePeriod } : {}), publish: { mode: 'host', http: ports.cHttp, https: ports.cHttps } } });
}

function acmeRoute(name: string, clusterName: string, host: string) {
  return route(name, { serviceCluster: clusterName, hosts: [host], tls: { mode: 'Terminate', redirectHTTP: true, certificate: { issuer: ISSUER } }, rules: [{ backends: [{ service: WEB, port: 80 }] }] });
}

beforeAll(async () => {
  const [aHttp, aHttps, bHttp, bHttps, cHttp, cHttps] = await freePorts(6);
  Object.assign(ports, { aHttp, aHttps, bHttp, bHttps, cHttp, cHttps });
  const gateway = docker('network', 'inspect', 'docker_gwbridge', '--format', '{{(index .IPAM.Config 0).Gateway}}');
  pebble = await startPebble({ httpPort: ports.aHttp, validitySeconds: VALIDITY_S, listen: gateway });
  root = await pebble.root();
  webhook = await startDns01Webhook(pebble, gateway);
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  createBackend(WEB, NET, 1, 'location / { return 200 "hello from $hostname\\n"; }');
  const dir = mkdtempSync(join(tmpdir(), 'sgac-'));
  writeFileSync(join(dir, 'ca.pem'), pebble.serverCa);
  docker('config', 'create', CA_CONFIG, join(dir, 'ca.pem'));
  await applyObject(port, cluster(A, { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: ports.aHttp, https: ports.aHttps } } }));
  await applyObject(port, cluster(B, { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: ports.bHttp, https: ports.bHttps } } }));
  // On the backend's network from its creation (allow-list): its ACME route then restarts no task.
  await applyObject(port, haproxyCluster());
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
  // A plain HTTP route to the backend on each cluster first: the proxies join the backend's network
  // now (a service update, a new task), so the measures below are about ACME alone.
  for (const [name, c, p] of [['plain-a', A, ports.aHttp], ['plain-b', B, ports.bHttp]] as const) {
    await applyObject(port, route(`${PREFIX}-${name}`, { serviceCluster: c, hosts: [`${name}.${DOMAIN}`], rules: [{ backends: [{ service: WEB, port: 80 }] }] }));
    await until(`${name} served`, async () => ((await send({ port: p, host: `${name}.${DOMAIN}`, path: '/' })).status === 200 ? true : undefined), 120_000, 250);
  }
}, 300_000);

afterAll(async () => {
  // For a failed run: what the core said (no key material: the last test checks that).
  writeFileSync(join(tmpdir(), `${PREFIX}-core.log`), serviceLogs(CORE_SERVICE));
  for (const c of [A, B, C]) writeFileSync(join(tmpdir(), `${PREFIX}-proxy-${c}.log`), serviceLogs(`sg-proxy-${c}`));
  for (const name of ['shop', 'wild', 'late', 'broken', 'hap', 'plain-a', 'plain-b']) await deleteObject(port, 'Route', `${PREFIX}-${name}`).catch(() => undefined);
  await deleteObject(port, 'Issuer', ISSUER).catch(() => undefined);
  for (const name of [A, B, C]) await deleteObject(port, 'ServiceCluster', name).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  // The core's encrypted ACME state (role acme-state) goes with the install it belongs to.
  for (const c of await port.listConfigs([`${LABELS.role}=acme-state`]).catch(() => [])) tryDocker('config', 'rm', c.ID);
  // The certificates' durable copies (ADR 0024): uninstall removes them; a failed run may leave some.
  for (const x of (await port.listSecrets().catch(() => [])).filter((y) => y.Spec.Labels?.[LABELS.role] === 'acme-copy')) tryDocker('secret', 'rm', x.ID);
  await removeWhenReleased([...backendRemoval([WEB], NET), ['config', 'rm', CA_CONFIG]]);
  await webhook?.close();
  await pebble?.stop();
}, 180_000);

describe('automatic HTTPS on a real Swarm with pebble', () => {
  it('serves an ACME route over HTTPS with a pebble-issued certificate soon after apply', async () => {
    await until('the core running', async () => {
      const core = (await port.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
      return (await port.listTasks()).some((t) => t.ServiceID === core?.ID && t.Status.State === 'running') ? true : undefined;
    }, 60_000);
    const tasksBefore = { a: await proxyState(A), b: await proxyState(B) };
    const started = Date.now();
    await applyObject(
      port,
      object({
        apiVersion: 'swarmgate.io/v1',
        kind: 'Issuer',
        metadata: { name: ISSUER },
        spec: {
          acme: { server: pebble.directory, email: 'ops@example.com', caBundle: { config: CA_CONFIG } },
          solvers: [{ selector: { hostSuffixes: [`wild.${DOMAIN}`, LATE, HAP] }, dns01: { webhook: { url: webhook.url } } }, { http01: {} }],
          renewal: { percentOfLifetime: 50, jitterPercent: 0 },
        },
      }),
    );
    await applyObject(port, acmeRoute(`${PREFIX}-shop`, A, SHOP));
    await until('HTTPS 200 for shop', () => served(ports.aHttps, SHOP), 120_000, 250);
    console.log(`apply → first HTTPS 200 (real Swarm, pebble): ${Date.now() - started} ms`);
    // The order is placed once and succeeds: the CA is asked to validate only once the proxy runs the
    // config with the challenge location (a failed first order would cost 30 s of backoff).
    expect(serviceLogs(CORE_SERVICE).split('\n').filter((l) => l.includes('ACME order failed'))).toEqual([]);
    await until('CertificateReady Issued', async () => ((await conditionOf('Route', `${PREFIX}-shop`, 'CertificateReady'))?.reason === 'Issued' ? true : undefined), 30_000);
    expect((await conditionOf('Issuer', ISSUER, 'Ready'))?.status).toBe('True');
    // tls list shows it (the facts the core saved beside its encrypted state); describe shows the renewal.
    const listed: string[] = [];
    expect(await runTlsList(port, 'json', { out: (t) => listed.push(t), err: (t) => listed.push(t) })).toBe(0);
    expect((JSON.parse(listed.join('')) as { acme: unknown[] }).acme).toContainEqual(expect.objectContaining({ route: `${PREFIX}-shop`, issuer: ISSUER, hosts: [SHOP], orders: 1 }));
    expect((await conditionOf('Route', `${PREFIX}-shop`, 'CertificateReady'))?.message).toMatch(/valid until \d{4}-.*next renewal at \d{4}-/);
    // Issuing restarted no proxy task (the proxies joined the backend's network before).
    expect({ a: await proxyState(A), b: await proxyState(B) }).toEqual(tasksBefore);
    // The key the core delivered is on the task's tmpfs (ADR 0027), never on the node's disk, readable by root and NGINX's workers' group only.
    const [container = ''] = docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=sg-proxy-${A}`).split('\n');
    const key = `/run/swarmgate/acme/acme-${PREFIX}-shop.key`;
    expect(docker('exec', container, 'stat', '-f', '-c', '%T', key).trim()).toBe('tmpfs');
    expect(docker('exec', container, 'stat', '-c', '%a %U %g', key).trim()).toBe('440 root 65534');
  }, 180_000);

  it('issues a wildcard through the DNS-01 webhook for the second cluster; one order per certificate', async () => {
    await applyObject(port, acmeRoute(`${PREFIX}-wild`, B, WILD));
    await until('HTTPS 200 for a host under the wildcard', () => served(ports.bHttps, `x.wild.${DOMAIN}`), 90_000, 250);
    expect(webhook.calls).toContainEqual({ action: 'present', fqdn: `_acme-challenge.wild.${DOMAIN}` });
    await until('the TXT record cleaned up', async () => (webhook.calls.some((c) => c.action === 'cleanup' && c.fqdn === `_acme-challenge.wild.${DOMAIN}`) ? true : undefined), 10_000);
    // Each certificate was ordered once for its first issuance, whatever the clusters (renewals apart).
    for (const name of ['shop', 'wild']) {
      const o = ordersOf(`${PREFIX}-${name}`);
      console.log(`orders for ${name}: ${o.placed} placed (${o.renewals} renewals), ${o.issued} issued`);
      expect(o.placed - o.renewals).toBe(1);
    }
  }, 120_000);

  it('serves an ACME route on a HAProxy cluster over HTTPS with a pebble-issued certificate (ADR 0032)', async () => {
    await until('the HAProxy proxy answering', async () => ((await send({ port: ports.cHttp, host: HAP, path: '/' })).status > 0 ? true : undefined), 60_000, 250);
    const before = await proxyState(C);
    const started = Date.now();
    await applyObject(port, acmeRoute(`${PREFIX}-hap`, C, HAP));
    await until('HTTPS 200 for hap on HAProxy', () => served(ports.cHttps, HAP), 60_000, 250);
    console.log(`HAProxy: apply → first HTTPS 200 (real Swarm, pebble, DNS-01): ${Date.now() - started} ms`);
    expect((await getHttps(ports.cHttps, HAP)).issuer).toMatch(/pebble/i);
    expect(ordersOf(`${PREFIX}-hap`)).toMatchObject({ placed: 1, issued: 1 });
    // Issued and delivered with no proxy task restart; the combined PEM HAProxy loads is root-only, on the task's tmpfs.
    expect(await proxyState(C)).toEqual(before);
    const [container = ''] = docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=sg-proxy-${C}`).split('\n');
    const pem = `/run/swarmgate/haproxy/certs/acme/acme-${PREFIX}-hap.crt+acme-${PREFIX}-hap.key.pem`;
    expect(docker('exec', container, 'stat', '-f', '-c', '%T', pem).trim()).toBe('tmpfs');
    expect(docker('exec', container, 'stat', '-c', '%a %U', pem).trim()).toBe('600 root');
  }, 90_000);

  it('renews under continuous HTTPS traffic with no failed request and no proxy task restart', async () => {
    const before = { a: await proxyState(A), b: await proxyState(B), c: await proxyState(C) };
    const first = (await getHttps(ports.aHttps, SHOP)).fingerprint;
    const renewalsBefore = ordersOf(`${PREFIX}-shop`).renewals;
    const hapRenewalsBefore = ordersOf(`${PREFIX}-hap`).renewals;
    const fingerprints = new Set<string>([first]);
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop) {
        try {
          const r = await getHttps(ports.aHttps, SHOP);
          if (r.status === 200) ok++;
          else failures.push(`status ${r.status}`);
          fingerprints.add(r.fingerprint);
        } catch (e) {
          failures.push(e instanceof Error ? e.message : String(e));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await until('the renewed certificate served', async () => (fingerprints.size > 1 ? true : undefined), VALIDITY_S * 1_000 + 30_000, 250);
    // Keep the load a little past the switch: old and new workers overlap there.
    await new Promise((r) => setTimeout(r, 2_000));
    stop = true;
    await load;
    // The HAProxy cluster (its certificate renews on the same period): no restart there either.
    const after = { a: await proxyState(A), b: await proxyState(B), c: await proxyState(C) };
    console.log(`renewal under traffic: ${ok} ok, ${failures.length} failed; proxy tasks before ${before.a.tasks.join(',')} after ${after.a.tasks.join(',')}; shop renewals ${ordersOf(`${PREFIX}-shop`).renewals - renewalsBefore}, hap (HAProxy) renewals ${ordersOf(`${PREFIX}-hap`).renewals - hapRenewalsBefore}`);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(100);
    expect(after).toEqual(before);
    expect(ordersOf(`${PREFIX}-shop`).renewals).toBeGreaterThan(renewalsBefore);
  }, VALIDITY_S * 1_000 + 60_000);

  it('resumes the order when the core restarts in the middle of it: one order placed, one certificate issued', async () => {
    webhook.holdNextPresent(`_acme-challenge.${LATE}`);
    await applyObject(port, acmeRoute(`${PREFIX}-late`, B, LATE));
    await until('the core presenting the DNS-01 challenge', async () => (webhook.calls.some((c) => c.action === 'present' && c.fqdn === `_acme-challenge.${LATE}`) ? true : undefined), 60_000);
    docker('service', 'update', '--detach', '--quiet', '--force', CORE_SERVICE);
    await until('HTTPS 200 for late after the restart', () => served(ports.bHttps, LATE), 120_000, 250);
    const o = ordersOf(`${PREFIX}-late`);
    console.log(`core restarted mid-order: ${o.placed} order placed for late, ${o.resumed} resumed by the new core task, ${o.issued} certificate issued`);
    // The order's URL was saved with the ACME state when it was placed; the new task resumed it (ADR 0027).
    expect(o).toEqual({ placed: 1, renewals: 0, resumed: 1, issued: 1 });
    // The condition is written by the core's run after the delivery that made HTTPS work: wait for it.
    await until('CertificateReady Issued for late', async () => ((await conditionOf('Route', `${PREFIX}-late`, 'CertificateReady'))?.reason === 'Issued' ? true : undefined), 30_000, 250);
    expect(await served(ports.aHttps, SHOP)).toBe(true);
  }, 180_000);

  it('shows ChallengeFailed with pebble\'s detail for a host whose DNS fails, while the other routes serve', async () => {
    await pebble.servfail(BROKEN);
    await applyObject(port, acmeRoute(`${PREFIX}-broken`, A, BROKEN));
    const failed = await until('ChallengeFailed', async () => {
      const c = await conditionOf('Route', `${PREFIX}-broken`, 'CertificateReady');
      return c?.reason === 'ChallengeFailed' ? c : undefined;
    }, 90_000, 500);
    expect(failed.status).toBe('False');
    expect(failed.message).toMatch(/SERVFAIL|DNS problem|could not resolve/i);
    expect(await served(ports.aHttps, SHOP)).toBe(true);
    expect(await served(ports.bHttps, `y.wild.${DOMAIN}`)).toBe(true);
  }, 120_000);

  it('boots a proxy task while the core is down on the durable copy: HTTPS with the issued certificate (NGINX: ADR 0024, HAProxy: ADR 0033)', async () => {
    const copyTarget = { [A]: `swarmgate-acme/${PREFIX}-shop.pem`, [C]: `swarmgate-acme/${PREFIX}-hap.pem` };
    const host = { [A]: SHOP, [C]: HAP };
    const httpsPort = { [A]: ports.aHttps, [C]: ports.cHttps };
    // A running service keeps the copies it mounts; an update it needs anyway mounts the newest (here: a longer stop grace period).
    const mountsCopy = async (c: string): Promise<{ id: string } | undefined> => {
      const svc = (await port.listServices()).find((x) => x.Spec.Name === `sg-proxy-${c}`);
      const m = svc?.Spec.TaskTemplate.ContainerSpec.Secrets?.find((x) => x.File?.Name === copyTarget[c]);
      return m?.SecretID !== undefined ? { id: m.SecretID } : undefined;
    };
    const container = (c: string): string => docker('ps', '-q', '--filter', `label=com.docker.swarm.service.name=sg-proxy-${c}`).split('\n')[0] ?? '';
    expect(await mountsCopy(A)).toBeUndefined();
    expect(await mountsCopy(C)).toBeUndefined();
    const beforeUpdate = { [A]: await proxyState(A), [C]: await proxyState(C) };
    await applyObject(port, cluster(A, { proxy: { replicas: 1, delivery: 'hitless', stopGracePeriod: '11s', publish: { mode: 'host', http: ports.aHttp, https: ports.aHttps } } }));
    await applyObject(port, haproxyCluster('11s'));
    const copyFingerprint: Record<string, string> = {};
    for (const c of [A, C]) {
      const mounted = await until(`cluster ${c} mounting the copy of its route`, () => mountsCopy(c), 60_000, 250);
      const secret = (await port.listSecrets()).find((x) => x.ID === mounted.id);
      expect(secret?.Spec.Labels?.[LABELS.role]).toBe('acme-copy');
      copyFingerprint[c] = secret?.Spec.Labels?.[LABELS.fingerprint] ?? '';
    }
    for (const c of [A, C])
      await until(`${host[c]} served by the task of the updated service`, async () => {
        const now = await proxyState(c);
        return now.tasks.length === 1 && now.tasks[0] !== beforeUpdate[c]?.tasks[0] ? served(httpsPort[c] ?? 0, host[c] ?? '') : undefined;
      }, 90_000, 250);
    const t0 = Date.now();
    docker('service', 'scale', '--detach', `${CORE_SERVICE}=0`);
    try {
      await until('the core stopped', async () => {
        const core = (await port.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
        return (await port.listTasks()).some((t) => t.ServiceID === core?.ID && t.Status.State === 'running') ? undefined : true;
      }, 60_000, 250);
      const before = { [A]: await proxyState(A), [C]: await proxyState(C) };
      const killedAt = Date.now();
      for (const c of [A, C]) docker('kill', container(c));
      // Swarm starts a new task; its agent waits for the core, boots on the node's last applied config
      // (or the mounted one), builds the certificate files from the copy, and the proxy starts on them.
      const seen = await Promise.all(
        [A, C].map(async (c) => {
          const r = await until(`HTTPS from a new proxy task of ${c} while the core is down`, async () => {
            const now = await proxyState(c);
            if (now.tasks.length !== 1 || now.tasks[0] === before[c]?.tasks[0]) return undefined;
            const x = await getHttps(httpsPort[c] ?? 0, host[c] ?? '', { verify: false });
            return x.status === 200 ? x : undefined;
          }, 90_000, 250);
          return { ...r, afterKillMs: Date.now() - killedAt };
        }),
      );
      for (const [i, c] of [A, C].entries()) {
        const r = seen[i];
        console.log(`core down, ${c === A ? 'NGINX' : 'HAProxy'} proxy task killed → HTTPS 200 from the new task after ${r?.afterKillMs} ms (${Date.now() - t0} ms since stopping the core; certificate ${r?.fingerprint.slice(0, 23)}…, issuer ${r?.issuer})`);
        expect(r?.fingerprint.replace(/:/g, '').toLowerCase()).toBe(copyFingerprint[c]);
        expect(r?.issuer).toMatch(/pebble/i);
        // The new task's own container (not `docker service logs`, which can hang on the killed one).
        expect(containerLogs(container(c))).toContain('ACME routes serve the certificate of their durable copy');
      }
    } finally {
      docker('service', 'scale', '--detach', `${CORE_SERVICE}=1`);
    }
    // The core back: it delivers the current certificate (trusted, unexpired) to the new tasks.
    for (const c of [A, C]) await until(`${host[c]} served with the current certificate once the core is back`, () => served(httpsPort[c] ?? 0, host[c] ?? ''), 120_000, 250);
    // Copies nothing mounts that a later one supersedes are pruned (ADR 0033): per route at most the
    // mounted copy and the newest are left, after the renewals every 40 s of this test.
    const copiesOf = async (r: string) => (await port.listSecrets()).filter((x) => x.Spec.Labels?.[LABELS.role] === 'acme-copy' && x.Spec.Labels[LABELS.name] === r).length;
    for (const r of ['shop', 'hap']) await until(`at most two copies of ${r}`, async () => ((await copiesOf(`${PREFIX}-${r}`)) <= 2 ? true : undefined), 30_000, 500);
  }, 240_000);

  it('writes no PEM marker in the core\'s or the agents\' logs', () => {
    const logs = [CORE_SERVICE, `sg-proxy-${A}`, `sg-proxy-${B}`, `sg-proxy-${C}`].map((s) => serviceLogs(s));
    expect(logs[0]).toContain('ACME certificate issued');
    for (const l of logs) expect(l.split('\n').filter((x) => x.includes('-----BEGIN'))).toEqual([]);
  });
});
