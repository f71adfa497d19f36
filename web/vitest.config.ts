// The terminal's component tests alone: `npx vitest run --config web/vitest.config.ts`.
// (The root config can run them too once it includes 'web/**/*.test.{ts,tsx}'; each file names its
// environment with a `// @vitest-environment happy-dom` comment.)
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  esbuild: { jsx: 'automatic' },
  test: {
    include: ['web/**/*.test.{ts,tsx}'],
    environment: 'happy-dom',
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
  },
});
