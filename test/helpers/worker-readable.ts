/**
 * A file as Swarm mounts a worker secret (model.workerSecrets) and as the agent writes ACME
 * certificates: root, NGINX's worker group, 0440 (src/plan/proxy-runtime.ts). The tests run as root,
 * as CI does; NGINX then runs its workers as nobody:nogroup, exactly as in a proxy task.
 */
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { NGINX_WORKER_GID, WORKER_READABLE_MODE } from '../../src/plan/proxy-runtime';

export function makeWorkerReadable(path: string): void {
  chmodSync(path, WORKER_READABLE_MODE);
  if (process.getuid?.() === 0) chownSync(path, 0, NGINX_WORKER_GID);
}

export function writeWorkerReadable(path: string, content: string | Buffer): void {
  writeFileSync(path, content, { mode: WORKER_READABLE_MODE });
  makeWorkerReadable(path);
}
