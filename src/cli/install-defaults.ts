/** Defaults of `swarmgate install`, apart from the command so the CLI can show them without loading it. */
export const DEFAULT_CORE_IMAGE = 'swarmgate/swarmgate:latest';
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
