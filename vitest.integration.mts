import { defineConfig } from 'vitest/config';

// Tests against the real Docker engine of this machine (a single-node Swarm). Not part of `make test`.
// Run: npx vitest run --config vitest.integration.mts
export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One Swarm: never run two integration files against it at the same time.
    fileParallelism: false,
  },
});
