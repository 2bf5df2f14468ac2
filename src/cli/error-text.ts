/**
 * The line a user sees when a command fails on an error it did not handle itself. A Docker engine
 * that cannot be reached is the common case on a new machine, and the transport's own text
 * (`connect ENOENT …`, or nothing at all) does not say which engine was tried or what to check —
 * so, like the docker CLI, name the address, where it came from, and the likely fix.
 */
import { isDockerApiError, type DockerApiError } from '../observed/docker-errors';

const DEFAULT_HOST = 'unix:///var/run/docker.sock';

/** Why a connection failed, by the transport's error code. */
const TRANSPORT: Readonly<Record<string, string>> = {
  ENOENT: 'no such socket',
  EACCES: 'permission denied on the socket (run as root or as a member of the docker group)',
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host name',
  EAI_AGAIN: 'the host name could not be resolved',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
};

function engineAddress(env: NodeJS.ProcessEnv): string {
  const host = (env['DOCKER_HOST'] ?? '').trim();
  return host === '' ? `${DEFAULT_HOST} (the default; DOCKER_HOST is not set)` : `${host} (DOCKER_HOST)`;
}

function unreachable(e: DockerApiError, env: NodeJS.ProcessEnv): string | undefined {
  const why = e.code !== undefined ? TRANSPORT[e.code] : undefined;
  if (why !== undefined) {
    return `cannot connect to the Docker engine at ${engineAddress(env)}: ${why}. Is dockerd running there (make swarm-up starts one on this machine), and is DOCKER_HOST right?`;
  }
  // Something answered, but not as a Docker engine does (no JSON message): a wrong port or a proxy.
  if (e.statusCode !== 0 && e.message.trim() === '') {
    return `the server at ${engineAddress(env)} answered HTTP ${e.statusCode} without a Docker error message: is DOCKER_HOST pointing at a Docker engine?`;
  }
  return undefined;
}

export function errorText(e: unknown, env: NodeJS.ProcessEnv = process.env): string {
  if (isDockerApiError(e)) {
    const text = unreachable(e, env);
    if (text !== undefined) return text;
    if (e.message.trim() === '') return `the Docker engine failed${e.operation !== undefined ? ` in ${e.operation}` : ''} with HTTP ${e.statusCode} and no message`;
  }
  if (e instanceof Error) return e.message.trim() === '' ? `${e.name} (no message)` : e.message;
  return String(e);
}
