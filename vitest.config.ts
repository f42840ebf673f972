import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The Worker logs one JSON line per request and job step; show them only for failing tests.
    silent: 'passed-only',
    // The JSON report lets .ci/run print a one-line summary.
    reporters: ['default', ['json', { outputFile: 'node_modules/.cache/vitest-report.json' }]],
    projects: [
      {
        // Node-side tests: local-daytona driven by the real SDK, and end-to-end runs of wrangler dev.
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Worker and Durable Object tests, run inside workerd against local-daytona.
        plugins: [
          cloudflareTest(async ({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ENVIRONMENT: 'development',
                DAYTONA_API_URL: inject('daytonaApiUrl'),
                DAYTONA_API_KEY: inject('daytonaApiKey'),
                FIXTURE_REPO_URL: inject('fixtureRepoUrl'),
                TEST_MIGRATIONS: await readD1Migrations('migrations'),
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          include: ['test/worker/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/worker/setup.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
