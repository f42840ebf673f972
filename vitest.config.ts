import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
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
