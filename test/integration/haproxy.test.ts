/**
 * An HAProxy ServiceCluster on the real local Swarm, in the production layout (`swarmgate
 * install`, hitless delivery): the proxy task runs HAProxy under the agent, routes by host, and
 * splits by declared weight whatever the task counts (3 tasks at weight 1 vs 1 task at weight 3).
 * Needs the images (make images). Run: make test-int
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { LABELS } from '../../src/domain/labels';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { parseStatus } from '../../src/status/object-status';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, route } from '../helpers/specs';

const PREFIX = `sgha${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const A = `${PREFIX}-a`;
const B = `${PREFIX}-b`;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let httpPort = 0;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  const [h, hs] = await freePorts(2);
  if (h === undefined || hs === undefined) throw new Error('no free ports');
  httpPort = h;
  const image = docker('image', 'inspect', '--format', '{{.Id}}', 'swarmgate/proxy:latest');
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  const dir = mkdtempSync(join(tmpdir(), 'sgha-'));
  for (const [name, replicas] of [[A, 3], [B, 1]] as const) {
    writeFileSync(join(dir, `${name}.conf`), `events {}\nhttp { access_log off; server { listen 80; location / { return 200 "${name}\\n"; } } }\n`);
    docker('config', 'create', `${name}-conf`, join(dir, `${name}.conf`));
    docker('service', 'create', '--detach', '--quiet', '--no-resolve-image', '--name', name, '--replicas', String(replicas), '--network', NET, '--config', `src=${name}-conf,target=/etc/nginx/nginx.conf`, image);
  }
  await applyObject(port, cluster(CLUSTER, { proxy: { kind: 'haproxy', replicas: 1, publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(port, route(PREFIX, { serviceCluster: CLUSTER, hosts: [`${PREFIX}.localhost`], rules: [{ backends: [{ service: A, port: 80, weight: 1 }, { service: B, port: 80, weight: 3 }] }] }));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
}, 180_000);

afterAll(async () => {
  await deleteObject(port, 'Route', PREFIX).catch(() => undefined);
  await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  for (const args of [['service', 'rm', A, B], ['config', 'rm', `${A}-conf`, `${B}-conf`], ['network', 'rm', NET]]) {
    for (let i = 0; i < 40; i++) {
      try {
        docker(...args);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}, 180_000);

describe('HAProxy cluster on a real Swarm', () => {
  it('routes by host and splits by declared weight, not by task count', async () => {
    await until('route programmed', async () => {
      const [c] = await port.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=${PREFIX}`]);
      return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions.find((x) => x.type === 'Programmed')?.status === 'True' ? true : undefined;
    });
    // All four backend tasks answer before counting.
    await until('both services answer', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) seen.add((await send({ port: httpPort, host: `${PREFIX}.localhost`, path: '/' })).body.trim());
      return seen.has(A) && seen.has(B) ? true : undefined;
    });
    const svc = (await port.listServices()).find((s) => s.Spec.Name === `sg-proxy-${CLUSTER}`);
    expect(svc?.Spec.TaskTemplate.ContainerSpec.Args).toEqual(['swarmgate', 'proxy-agent', '--kind', 'haproxy']);
    let b = 0;
    const n = 400;
    for (let i = 0; i < n; i++) if ((await send({ port: httpPort, host: `${PREFIX}.localhost`, path: '/' })).body.trim() === B) b++;
    // Declared 75 % to B (1 task) against 25 % to A (3 tasks): replica counts would give 25 %.
    expect(b / n).toBeGreaterThan(0.65);
    expect(b / n).toBeLessThan(0.85);
    const other = await send({ port: httpPort, host: 'nobody.localhost', path: '/' });
    expect(other.status).toBe(503);
  });
});
