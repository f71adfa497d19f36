import { defineConfig } from 'vitest/config';

export default defineConfig({
  // the web terminal's component tests (.tsx)
  esbuild: { jsx: 'automatic' },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/**/*.test.{ts,tsx}'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // two cores: more workers only thrash
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/fast-check-seed.ts'],
  },
});
