import { defineConfig } from 'vitest/config';

// Failure drills on the separate three-manager + one-worker Swarm that `make swarm-up NODES=4`
// builds in network namespaces (deploy/scripts/swarm-nodes-up.sh). Not part of `make test`,
// `make test-int` or `make test-multinode`. Run: make test-chaos (as root).
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    // The test talks to sg-mgr3, the one manager no drill faults (test/chaos/chaos-swarm.ts).
    env: { DOCKER_HOST: 'unix:///var/run/docker-sg-mgr3.sock' },
    globalSetup: ['test/chaos/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    // The drills print their measurements as they go.
    reporters: ['verbose'],
  },
});
