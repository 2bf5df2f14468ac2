/**
 * Certificate rotation without renaming, on the real single-node Swarm of this machine: `tls apply`
 * stores a pair, a route naming it (tls.certificate.name) is served over HTTPS through the cluster's
 * host-mode port, a new pair applied under the same name replaces the served certificate while
 * requests keep succeeding, and the old version's secrets are removed once no task uses them.
 * Needs the images (make images). Run: make test-int
 *
 * The last test needs the core to prune old versions: CoreRun.run must call
 * pruneCertificateVersions (src/apply/certificate-secrets.ts) with the state it read.
 *
 * Everything is named with PREFIX and removed in afterAll.
 */
import { X509Certificate } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTlsApply } from '../../src/cli/commands/tls';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { parseStatus } from '../../src/status/object-status';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import type { DockerPort } from '../../src/observed/docker-port';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { peerCertificate, send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, route } from '../helpers/specs';
import { backendRemoval, createBackend, docker, isProgrammed, removeWhenReleased, tryDocker, converge } from '../helpers/swarm';
import { selfSigned, type KeyPair } from '../helpers/tls-material';

const PREFIX = `sgtl${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const BACKEND = `${PREFIX}-web`;
const ROUTE = `${PREFIX}-shop`;
/** The certificate's logical name, as routes refer to it. */
const CERT = `${PREFIX}-cert`;
const HOST = `${PREFIX}.localhost`;
const quiet = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });
const io = { out: () => undefined, err: (t: string) => console.error(t) };

let port: DockerPort;
let core: CoreRun;
let httpsPort = 0;
let defaultProxyExisted = true;
const first: KeyPair = selfSigned(HOST);
const second: KeyPair = selfSigned(HOST);

const fingerprint = (pair: KeyPair): string => new X509Certificate(pair.cert).fingerprint256;


/** The fingerprint of the certificate the proxy presents for HOST, or undefined while it cannot be reached. */
async function served(): Promise<string | undefined> {
  const c = await peerCertificate(httpsPort, HOST);
  return c instanceof Error ? undefined : c.fingerprint256;
}

/**
 * One HTTPS request, retried on connection errors only: a host-mode proxy is updated stop-first (two
 * tasks cannot bind the same port on one node), so a client may meet a closed port for a moment, as
 * in core.test.ts. Any HTTP answer other than 200, or a port closed for more than ~10 s, fails.
 */
async function getOnce(): Promise<{ status: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await send({ port: httpsPort, host: HOST, path: '/', tls: true });
      return { status: r.status };
    } catch (e) {
      if (attempt >= 40) throw e;
      await new Promise((res) => setTimeout(res, 250));
    }
  }
}

async function certificateSecrets(): Promise<string[]> {
  return (await port.listSecrets()).filter((s) => s.Spec.Labels?.[LABELS.certificate] === CERT).map((s) => s.Spec.Name).sort();
}

beforeAll(async () => {
  port = createDockerPort();
  defaultProxyExisted = (await port.listServices()).some((s) => s.Spec.Name === 'sg-proxy-default');
  core = new CoreRun(port, quiet, { localImages: true });
  const [h, hs] = await freePorts(2);
  if (h === undefined || hs === undefined) throw new Error('no free ports');
  httpsPort = hs;
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  createBackend(BACKEND, NET, 1, 'location / { return 200 "$hostname\\n"; }');
  expect(await runTlsApply(port, { name: CERT, cert: first.certPath, key: first.keyPath }, io)).toBe(0);
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, image: 'swarmgate/proxy:latest', delivery: 'rolling', publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(port, route(ROUTE, { serviceCluster: CLUSTER, hosts: [HOST], tls: { mode: 'Terminate', certificate: { name: CERT } }, rules: [{ backends: [{ service: BACKEND, port: 80 }] }] }));
}, 180_000);

afterAll(async () => {
  await deleteObject(port, 'Route', ROUTE).catch(() => undefined);
  await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
  tryDocker('service', 'rm', `sg-proxy-${CLUSTER}`);
  if (!defaultProxyExisted) tryDocker('service', 'rm', 'sg-proxy-default');
  const configs = docker('config', 'ls', '--format', '{{.Name}}')
    .split('\n')
    .filter((n) => n.startsWith(`sg-nginx-${CLUSTER}-`) || (!defaultProxyExisted && n.startsWith('sg-nginx-default-')));
  const secrets = docker('secret', 'ls', '--filter', `label=${LABELS.certificate}=${CERT}`, '--format', '{{.Name}}').split('\n').filter((n) => n !== '');
  await removeWhenReleased([
    ...configs.map((c) => ['config', 'rm', c]),
    ...secrets.map((s) => ['secret', 'rm', s]),
    ...backendRemoval([BACKEND], NET),
  ]);
}, 180_000);

describe('tls apply on a real Swarm', () => {
  it('serves the stored certificate over HTTPS through the host-mode port', async () => {
    await converge(core, 'route programmed and answering over HTTPS', async () => (await isProgrammed(port, 'Route', ROUTE)) === true && (await getOnce().catch(() => ({ status: 0 }))).status === 200);
    expect(await served()).toBe(fingerprint(first));
    const svc = (await port.listServices()).find((s) => s.Spec.Name === `sg-proxy-${CLUSTER}`);
    expect((svc?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((s) => s.SecretName).sort()).toEqual([`sg-cert-${CERT}-v1.crt`, `sg-cert-${CERT}-v1.key`]);
  }, 150_000);

  it('moves to a new pair under the same name while every request succeeds', async () => {
    let done = false;
    let requests = 0;
    const failures: string[] = [];
    const traffic = (async () => {
      while (!done) {
        requests++;
        const r = await getOnce().catch((e: unknown) => ({ status: 0, error: String(e) }));
        if (r.status !== 200) failures.push(JSON.stringify(r));
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    expect(await runTlsApply(port, { name: CERT, cert: second.certPath, key: second.keyPath }, io)).toBe(0);
    await converge(core, 'the new certificate served', async () => (await served()) === fingerprint(second) && (await isProgrammed(port, 'Route', ROUTE)) === true, 120_000);
    // Keep sending for a moment after the switch: nothing may fall back to the old pair.
    await new Promise((res) => setTimeout(res, 2_000));
    done = true;
    await traffic;
    expect(requests).toBeGreaterThan(20);
    expect(failures).toEqual([]);
    expect(await served()).toBe(fingerprint(second));
    expect(fingerprint(second)).not.toBe(fingerprint(first));
  }, 180_000);

  it('removes the old version once no task uses it, and keeps the current one', async () => {
    await converge(core, 'version 1 removed', async () => !(await certificateSecrets()).some((n) => n.includes('-v1.')), 90_000);
    expect(await certificateSecrets()).toEqual([`sg-cert-${CERT}-v2.crt`, `sg-cert-${CERT}-v2.key`]);
    expect((await getOnce()).status).toBe(200);
  }, 150_000);

  it('refuses a pair whose names miss the route\'s host, and warns on the route when a host outgrows its certificate', async () => {
    const elsewhere = selfSigned(`other-${HOST}`);
    const lines: string[] = [];
    const refused = await runTlsApply(port, { name: CERT, cert: elsewhere.certPath, key: elsewhere.keyPath }, { out: (t) => lines.push(t), err: (t) => lines.push(t) });
    expect(refused).toBe(1);
    expect(lines[0]).toBe(`route/${ROUTE} uses certificate "${CERT}", whose DNS names other-${HOST} do not cover "${HOST}"`);
    expect(await certificateSecrets()).toEqual([`sg-cert-${CERT}-v2.crt`, `sg-cert-${CERT}-v2.key`]);
    // A second host the stored certificate does not name: the core warns on the route and keeps serving it.
    await applyObject(port, route(ROUTE, { serviceCluster: CLUSTER, hosts: [HOST, `www.${HOST}`], tls: { mode: 'Terminate', certificate: { name: CERT } }, rules: [{ backends: [{ service: BACKEND, port: 80 }] }] }));
    const mismatch = async () => {
      const [c] = await port.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=${ROUTE}`]);
      const status = parseStatus(c?.Spec.Labels?.[LABELS.status]);
      return status?.observedGeneration === 2 ? status.conditions.find((x) => x.type === 'CertificateMismatch') : undefined;
    };
    await converge(core, 'CertificateMismatch written', async () => (await mismatch()) !== undefined, 90_000);
    expect(await mismatch()).toMatchObject({ status: 'True', reason: 'HostNotCovered', message: expect.stringContaining(`does not cover "www.${HOST}"`) });
    expect((await getOnce()).status).toBe(200);
  }, 150_000);
});
