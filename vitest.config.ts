import { defineConfig } from 'vitest/config';

// Tests that start real components (PostgreSQL, kube-apiserver, moto, Prometheus) are slow to
// boot; the timeouts reflect that, while unit tests finish in milliseconds regardless.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
