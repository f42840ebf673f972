import { defineConfig } from 'vitest/config';

/**
 * `npm run test:live` only (scripts/test-live.ts): the scenarios of test/live against a real
 * Daytona and the real Anthropic API. Not a project of vitest.config.ts, so `npm test` never runs
 * them.
 */
export default defineConfig({
  test: {
    include: ['test/live/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 10 * 60_000,
    hookTimeout: 5 * 60_000,
  },
});
