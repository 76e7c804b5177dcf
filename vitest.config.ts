import { defineConfig } from 'vitest/config';

// One vitest run covers every package: `pnpm test` at the root.
// The "@cmid/source" condition makes workspace packages resolve to src/, so tests need no build.
export default defineConfig({
  resolve: { conditions: ['@cmid/source'] },
  ssr: { resolve: { conditions: ['@cmid/source'] } },
  test: {
    projects: [
      { extends: true, test: { name: 'core', root: 'packages/core', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'pretrain', root: 'packages/pretrain', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'classify', root: 'packages/classify', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'benchmarks', root: 'apps/benchmarks', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'cli', root: 'apps/cli', include: ['test/**/*.test.ts'] } },
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
