import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Real-stack tests share one Docker engine and a 2-core machine: files run in parallel,
    // but each integration file keeps its own nodes, ports and compose projects.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
