/** Small helpers shared by the real-Swarm tests: the docker CLI, polling, and cleanup that waits for Swarm. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABELS } from '../../src/domain/labels';
import { isOutOfSequence } from '../../src/observed/docker-errors';
import type { DockerPort } from '../../src/observed/docker-port';
import { parseStatus } from '../../src/status/object-status';

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function tryDocker(...args: string[]): void {
  try {
    docker(...args);
  } catch {
    // already gone
  }
}

/** Poll `f` (errors count as "not yet") until it returns a value. */
export async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 90_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Run each docker command until it succeeds (objects are released only once Swarm stopped their tasks), ~20 s each at most. */
export async function removeWhenReleased(commands: readonly (readonly string[])[]): Promise<void> {
  for (const args of commands) {
    for (let i = 0; i < 40; i++) {
      try {
        docker(...args);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}

/** True once the object's stored status has Programmed=True (undefined otherwise, for `until`). */
export async function isProgrammed(port: DockerPort, kind: string, name: string): Promise<true | undefined> {
  const [c] = await port.listConfigs([`${LABELS.kind}=${kind}`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status])?.conditions.some((x) => x.type === 'Programmed' && x.status === 'True') === true ? true : undefined;
}

/**
 * A backend service for routing tests: NGINX from the local proxy image (by ID: nothing is pulled)
 * with `server` body `locations` on port 80, its config named `<name>-conf`, tasks named `<name>.<slot>`.
 */
export function createBackend(name: string, network: string, replicas: number, locations: string): void {
  const image = docker('image', 'inspect', '--format', '{{.Id}}', 'swarmgate/proxy:latest');
  const dir = mkdtempSync(join(tmpdir(), 'sg-backend-'));
  writeFileSync(join(dir, 'nginx.conf'), `events {}\nhttp { access_log off; default_type text/plain; server { listen 80; ${locations} } }\n`);
  docker('config', 'create', `${name}-conf`, join(dir, 'nginx.conf'));
  docker('service', 'create', '--detach', '--quiet', '--no-resolve-image', '--name', name, '--replicas', String(replicas), '--network', network,
    '--hostname', `${name}.{{.Task.Slot}}`, '--config', `src=${name}-conf,target=/etc/nginx/nginx.conf`, image);
}

/** The docker commands that remove backends made by createBackend, then their network. */
export function backendRemoval(names: readonly string[], network: string): string[][] {
  return [['service', 'rm', ...names], ['config', 'rm', ...names.map((n) => `${n}-conf`)], ['network', 'rm', network]];
}

/**
 * Run reconcile passes (what the loop does on every trigger) until `done` holds or the deadline
 * passes. Swarm bumps a service's version while it rolls an update; such conflicts are retried at
 * once, as the loop does.
 */
export async function converge(core: { run(seq: number): Promise<unknown> }, what: string, done: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let seq = 0;
  for (;;) {
    try {
      await core.run(++seq);
    } catch (e) {
      if (!isOutOfSequence(e)) throw e;
      continue;
    }
    if (await done()) return;
    if (Date.now() > end) throw new Error(`did not converge in time: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
