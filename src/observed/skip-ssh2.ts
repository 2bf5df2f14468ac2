/**
 * Imported before dockerode. docker-modem loads `ssh2` eagerly, and ssh2 instantiates a WebAssembly
 * module with a 16 MiB memory at load time (≈ 14 MiB of the core's RSS). swarmgate reaches Docker
 * over a unix socket or TCP unless DOCKER_HOST is ssh://, so in every other case a stub stands in:
 * it throws with a clear message if anything ever tries an SSH connection.
 */
import { stubModule } from './module-stub';

/** Stands in for ssh2's Client: docker-modem calls `new Client()` only for ssh:// hosts. */
function Ssh2Unavailable(): never {
  throw new Error('SSH transport not loaded: DOCKER_HOST must start with ssh:// when swarmgate starts');
}

export function stubSsh2Unless(dockerHost: string | undefined): boolean {
  if ((dockerHost ?? '').startsWith('ssh://')) return false;
  return stubModule('ssh2', { Client: Ssh2Unavailable });
}

stubSsh2Unless(process.env['DOCKER_HOST']);
