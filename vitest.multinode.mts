import { defineConfig } from 'vitest/config';

// Tests on the separate two-node Swarm that `make swarm-up NODES=2` builds in network namespaces
// (deploy/scripts/swarm-nodes-up.sh). Not part of `make test` or `make test-int`.
// Run: make test-multinode (as root: clients run with `ip netns exec`).
export default defineConfig({
  test: {
    include: ['test/multinode/**/*.test.ts'],
    // Everything — dockerode (createDockerPort) and the docker CLI of the helpers — talks to the
    // namespaced manager, never to the machine's own dockerd.
    env: { DOCKER_HOST: 'unix:///var/run/docker-sg-mgr.sock' },
    globalSetup: ['test/multinode/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // One swarm: never two files against it at the same time.
    fileParallelism: false,
  },
});
