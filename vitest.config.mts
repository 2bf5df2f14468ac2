import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Docker-backed suites have their own make targets; `make test` stays engine-free.
    exclude: ['test/integration/**', 'test/e2e/**', 'test/multinode/**', 'test/chaos/**', 'node_modules/**', 'dist/**'],
    testTimeout: 30_000,
  },
});
