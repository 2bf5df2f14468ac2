/**
 * Hitless delivery in the production layout on the real local Swarm: `swarmgate install` runs the
 * core as a service with its gRPC API on the control network; a ServiceCluster with
 * `delivery: hitless` gets proxies running `swarmgate proxy-agent`. A route change is applied by
 * the agent (nginx -t + SIGHUP) without a proxy service update or a new task, traffic keeps flowing
 * while the core is restarted, and the restarted core updates no proxy.
 * Needs the images (make images). Run: make test-int
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_SERVICE, runInstall, runRotateCerts, runUninstall } from '../../src/cli/commands/install';
import { LABELS } from '../../src/domain/labels';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { isServingTask } from '../../src/observed/docker-port';
import { send } from '../helpers/http-client';
import { startKeepAliveLoad } from '../helpers/keepalive-load';
import { freePorts } from '../helpers/nginx-process';
import { cluster, route } from '../helpers/specs';
import { docker, isProgrammed, removeWhenReleased, tryDocker, until } from '../helpers/swarm';
import { selfSigned } from '../helpers/tls-material';
import { parseStatus } from '../../src/status/object-status';

const PREFIX = `sghl${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
/** A second cluster: a change in CLUSTER must reach none of its proxies. */
const OTHER = `${PREFIX}-other`;
const PROXY = `sg-proxy-${CLUSTER}`;
const V1 = `${PREFIX}-v1`;
const BACKEND_CONF = `${PREFIX}-backend`;
/** A certificate and a key that do not belong together, as Docker secrets. */
const BAD_CERT = `${PREFIX}-badcert`;
const BAD_KEY = `${PREFIX}-badkey`;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let httpPort = 0;

const programmed = (kind: string, name: string) => isProgrammed(port, kind, name);

async function ok(host: string): Promise<true | undefined> {
  const r = await send({ port: httpPort, host, path: '/' });
  return r.status === 200 ? true : undefined;
}

/** Configurations an agent applied so far (its log lines; the agent logs to stderr). */
function reloadsOf(service: string): number {
  const r = spawnSync('docker', ['service', 'logs', '--raw', service], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('configuration applied')).length;
}

async function proxyState(): Promise<{ version: number; specHash: string; tasks: string[] }> {
  const svc = (await port.listServices()).find((s) => s.Spec.Name === PROXY);
  if (svc === undefined) throw new Error('no proxy service');
  const tasks = (await port.listTasks()).filter((t) => t.ServiceID === svc.ID && isServingTask(t)).map((t) => t.ID).sort();
  return { version: svc.Version.Index, specHash: svc.Spec.Labels?.[LABELS.specHash] ?? '', tasks };
}

beforeAll(async () => {
  const [h, hs, oh, ohs] = await freePorts(4);
  if (h === undefined || hs === undefined || oh === undefined || ohs === undefined) throw new Error('no free ports');
  httpPort = h;
  const image = docker('image', 'inspect', '--format', '{{.Id}}', 'swarmgate/proxy:latest');
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  const dir = mkdtempSync(join(tmpdir(), 'sghl-'));
  writeFileSync(join(dir, 'backend.conf'), 'events {}\nhttp { access_log off; server { listen 80; location / { default_type text/plain; return 200 "$hostname\\n"; } } }\n');
  docker('config', 'create', BACKEND_CONF, join(dir, 'backend.conf'));
  docker('service', 'create', '--detach', '--quiet', '--no-resolve-image', '--name', V1, '--replicas', '1', '--network', NET, '--hostname', `${V1}.{{.Task.Slot}}`,
    '--config', `src=${BACKEND_CONF},target=/etc/nginx/nginx.conf`, image);
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(port, route(`${PREFIX}-a`, { serviceCluster: CLUSTER, hosts: [`${PREFIX}-a.localhost`], rules: [{ backends: [{ service: V1, port: 80 }] }] }));
  await applyObject(port, cluster(OTHER, { proxy: { replicas: 1, publish: { mode: 'host', http: oh, https: ohs } } }));
  await applyObject(port, route(`${PREFIX}-o`, { serviceCluster: OTHER, hosts: [`${PREFIX}-o.localhost`], rules: [{ backends: [{ service: V1, port: 80 }] }] }));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
}, 180_000);

afterAll(async () => {
  for (const name of [`${PREFIX}-a`, `${PREFIX}-b`, `${PREFIX}-o`, `${PREFIX}-bad`]) await deleteObject(port, 'Route', name).catch(() => undefined);
  for (const name of [CLUSTER, OTHER]) await deleteObject(port, 'ServiceCluster', name).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  tryDocker('service', 'rm', V1);
  await removeWhenReleased([['config', 'rm', BACKEND_CONF], ['network', 'rm', NET], ['secret', 'rm', BAD_CERT], ['secret', 'rm', BAD_KEY]]);
}, 180_000);

describe('hitless delivery on a real Swarm', () => {
  it('runs the proxy as an agent on the control network, without the Docker socket', async () => {
    await until('route a programmed', () => programmed('Route', `${PREFIX}-a`));
    await until('route a answers', () => ok(`${PREFIX}-a.localhost`));
    const svc = (await port.listServices()).find((s) => s.Spec.Name === PROXY);
    expect(svc?.Spec.Labels?.[LABELS.delivery]).toBe('hitless');
    expect(svc?.Spec.TaskTemplate.ContainerSpec.Args).toEqual(['swarmgate', 'proxy-agent']);
    // Only the node's last-applied volume (ADR 0018) and the agent's runtime tmpfs (ADR 0027): no bind mount, never the Docker socket.
    expect((svc?.Spec.TaskTemplate.ContainerSpec.Mounts ?? []).map((m) => `${m.Type}:${m.Target}`)).toEqual(['volume:/var/lib/swarmgate/last', 'tmpfs:/run/swarmgate']);
    const core = (await port.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
    const mounts = core?.Spec.TaskTemplate.ContainerSpec.Mounts ?? [];
    expect(mounts.map((m) => m.Source)).toEqual(['/var/run/docker.sock']);
    // Mutual TLS: the agent has the component pair, never the core's key.
    expect(svc?.Spec.TaskTemplate.ContainerSpec.Env).toContain('SWARMGATE_TLS_DIR=/run/secrets');
    expect((svc?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => x.File.Name).sort()).toEqual(['swarmgate-ca.crt', 'swarmgate-client.crt', 'swarmgate-client.key']);
    expect(core?.Spec.TaskTemplate.ContainerSpec.Args).not.toContain('--insecure');
  });

  it('applies a route change in place: no service update, same task, nothing sent to another cluster', async () => {
    await until('route a answers', () => ok(`${PREFIX}-a.localhost`));
    await until('the other cluster programmed', () => programmed('Route', `${PREFIX}-o`));
    // A proxy boots on the core's current config (src/agent/agent-boot.ts), so the other cluster may
    // not have reloaded at all yet; what matters is that this change adds none there (checked below).
    const otherReloads = reloadsOf(`sg-proxy-${OTHER}`);
    const before = await proxyState();
    const reloadsBefore = reloadsOf(PROXY);
    // Keep-alive clients on route a while the proxy reloads: the drained reload resets none of them.
    const load = startKeepAliveLoad(httpPort, `${PREFIX}-a.localhost`);
    const started = Date.now();
    await applyObject(port, route(`${PREFIX}-b`, { serviceCluster: CLUSTER, hosts: [`${PREFIX}-b.localhost`], rules: [{ backends: [{ service: V1, port: 80 }] }] }));
    await until('route b answers', () => ok(`${PREFIX}-b.localhost`), 30_000);
    const tookMs = Date.now() - started;
    await until('route b programmed', () => programmed('Route', `${PREFIX}-b`), 30_000);
    const loaded = await load.stop();
    const after = await proxyState();
    expect(after).toEqual(before);
    console.log(`route change → served through the hitless proxy in ${tookMs} ms; keep-alive clients: ${loaded.ok} requests, ${loaded.connections} connections`);
    expect(reloadsOf(PROXY)).toBeGreaterThan(reloadsBefore);
    expect(loaded.failures).toEqual([]);
    expect(loaded.ok).toBeGreaterThan(100);
    expect(reloadsOf(`sg-proxy-${OTHER}`)).toBe(otherReloads);
    expect(await ok(`${PREFIX}-a.localhost`)).toBe(true);
  });

  it('keeps serving while the core restarts; the restarted core updates no proxy', async () => {
    await until('route b programmed', () => programmed('Route', `${PREFIX}-b`), 30_000);
    const before = await proxyState();
    docker('service', 'update', '--detach', '--quiet', '--force', CORE_SERVICE);
    let failures = 0;
    let requests = 0;
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      requests++;
      if ((await ok(`${PREFIX}-a.localhost`).catch(() => undefined)) !== true) failures++;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(requests).toBeGreaterThan(50);
    expect(failures).toBe(0);
    // The new core has had time to run: nothing about the proxy changed, and status is still Programmed.
    await until('route a programmed after the restart', () => programmed('Route', `${PREFIX}-a`), 30_000);
    expect(await proxyState()).toEqual(before);
  });

  it('rotates the certificates revoking the previous set: core and proxies move to the new set and keep routing', async () => {
    const lines: string[] = [];
    // --revoke-previous: the previous set is not trusted any more, so the proxy is updated to the new
    // mounts (the hitless rotation, which keeps the mounts, is test/integration/identities.test.ts).
    expect(await runRotateCerts(port, { out: (t) => lines.push(t), err: (t) => lines.push(t) }, { revokePrevious: true })).toBe(0);
    const setId = /^tls\/(\S+) created/.exec(lines[0] ?? '')?.[1] ?? '';
    expect(setId).not.toBe('');
    await until('proxy on the new set', async () => {
      const svc = (await port.listServices()).find((s) => s.Spec.Name === PROXY);
      return (svc?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).some((x) => x.SecretName.includes(setId)) ? true : undefined;
    }, 60_000);
    await until('route a answers after rotation', () => ok(`${PREFIX}-a.localhost`), 60_000);
    await until('route b programmed after rotation', () => programmed('Route', `${PREFIX}-b`), 60_000);
  });

  it("reports a route whose certificate and key secrets do not belong together (nginx -t cannot see it) and keeps the others serving", async () => {
    // NGINX loads shared-TLS-server pairs per handshake (ADR 0028): only the agent's pair check, which reads the mounted secrets, finds it.
    const dir = mkdtempSync(join(tmpdir(), 'sghl-pair-'));
    const host = `${PREFIX}-bad.localhost`;
    const [cert, stranger] = [selfSigned(host), selfSigned(`other.${host}`)];
    writeFileSync(join(dir, 'cert'), cert.cert);
    writeFileSync(join(dir, 'key'), stranger.key);
    docker('secret', 'create', BAD_CERT, join(dir, 'cert'));
    docker('secret', 'create', BAD_KEY, join(dir, 'key'));
    await applyObject(port, route(`${PREFIX}-bad`, { serviceCluster: CLUSTER, hosts: [host], tls: { mode: 'Terminate', certificate: { certSecret: BAD_CERT, keySecret: BAD_KEY } }, rules: [{ backends: [{ service: V1, port: 80 }] }] }));
    let seen = '';
    const programmedCondition = await until('Programmed=False on the mispaired route', async () => {
      const [c] = await port.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=${PREFIX}-bad`]);
      const conditions = parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions ?? [];
      seen = JSON.stringify(conditions);
      const p = conditions.find((x) => x.type === 'Programmed');
      return p?.status === 'False' && p.reason === 'Invalid' ? p : undefined;
    }, 90_000).catch((e: Error) => {
      const logs = spawnSync('docker', ['service', 'logs', '--raw', PROXY], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
      throw new Error(`${e.message}; last conditions ${seen}; proxy log tail: ${`${logs.stdout}${logs.stderr}`.split('\n').slice(-15).join('\n')}`);
    });
    expect(programmedCondition.message).toContain(`TLS certificate check: the key /run/secrets/${BAD_KEY} does not belong to the certificate /run/secrets/${BAD_CERT} (served for ${host})`);
    expect(programmedCondition.message).not.toContain('-----BEGIN');
    await until('route a still answers', () => ok(`${PREFIX}-a.localhost`), 30_000);
  });
});
