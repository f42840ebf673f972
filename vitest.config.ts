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
                STREAM_TOKEN_SECRET: 'test-stream-token-secret-of-at-least-32-bytes',
                SECRETS_KEYS: '{"test1":"A81ktS4KqfKU1p8VHl9p9OFpVRmG5XcE/fdKkEPxDQk="}',
                SECRETS_KEY_ID: 'test1',
                METRICS_TOKEN: 'test-metrics-token-of-at-least-32-characters',
                DAYTONA_API_URL: inject('daytonaApiUrl'),
                DAYTONA_API_KEY: inject('daytonaApiKey'),
                FIXTURE_REPO_URL: inject('fixtureRepoUrl'),
                FIXTURE_HTTP_REPO_URL: inject('httpRepoUrl'),
                FIXTURE_MOVED_REPO_URL: inject('movedRepoUrl'),
                FIXTURE_FOUND_REPO_URL: inject('foundRepoUrl'),
                TEST_JWKS_URL: inject('jwksUrl'),
                TEST_JWT_PRIVATE_JWKS: inject('jwtPrivateJwks'),
                // Agent jobs run the real Claude Code CLI against a loopback stand-in of the
                // Anthropic API (test/anthropic-stand-in.ts).
                ANTHROPIC_BASE_URL: inject('anthropicBaseUrl'),
                TEST_SENTRY_URL: inject('sentryUrl'),
                TEST_WEBHOOK_RECEIVER_URL: inject('webhookReceiverUrl'),
                // Webhook retries follow each other at once (webhooks.test.ts).
                WEBHOOK_RETRY_BASE_SECONDS: '0',
                TEST_MIGRATIONS: await readD1Migrations('migrations'),
                // Short windows, so that the fault tests see stalls and retries within seconds.
                JOB_POLL_SECONDS: '1',
                JOB_STALL_SECONDS: '3',
                DAYTONA_CALL_TIMEOUT_SECONDS: '10',
                DAYTONA_RETRY_SECONDS: '30',
                // Prices the cost tests can reason about (ledger.test.ts, budgets*.test.ts): a sandbox
                // second is dear, so a tiny budget is crossed by sandbox time within seconds.
                PRICES: JSON.stringify({
                  id: 'test-prices',
                  models: {
                    'claude-sonnet': { input: 3, output: 15, cache_write: 3.75, cache_read: 0.3 },
                    'claude-opus': { input: 5, output: 25, cache_write: 6.25, cache_read: 0.5 },
                    'claude-opus-4-1': {
                      input: 15,
                      output: 75,
                      cache_write: 18.75,
                      cache_read: 1.5,
                    },
                  },
                  sandbox: { vcpu_second: 0.001, gib_second: 0.0005, disk_gib_second: 0 },
                }),
                BUDGET_CHECK_SECONDS: '1',
                // Sandboxes of another size than the snapshot's are created from an image
                // (sandbox-shape.test.ts); local-daytona records the Dockerfile it was sent.
                DAYTONA_IMAGE: 'omni-sandbox-test:1',
                // GitHub check runs and comments link to job pages under this origin.
                PUBLIC_URL: 'https://omni.test',
                // The GitHub App's webhook secrets (the previous one during a rotation) and handle.
                GITHUB_WEBHOOK_SECRET: 'test-github-webhook-secret-1',
                GITHUB_WEBHOOK_SECRET_PREVIOUS: 'test-github-webhook-secret-0',
                GITHUB_APP_SLUG: 'omni-test',
                // The GitHub REST API stand-in (test/github-stand-in.ts) and its App.
                GITHUB_APP_ID: inject('githubAppId'),
                GITHUB_API_URL: inject('githubApiUrl'),
                GITHUB_APP_PRIVATE_KEY: inject('githubAppPrivateKey'),
                TEST_GITHUB_CONTROL_URL: `${inject('githubApiUrl')}/_stand-in`,
                TEST_GITHUB_APP_PRIVATE_KEY_PKCS8: inject('githubAppPrivateKeyPkcs8'),
                TEST_GITHUB_REPOSITORY: inject('githubRepository'),
                TEST_GITHUB_INSTALLATION_ID: String(inject('githubInstallationId')),
                TEST_GITHUB_REPO_URL: inject('githubRepoUrl'),
              },
              // The whole suite is one client at one address, polling: it must not trip the
              // production limits of wrangler.toml. rate-limit.test.ts swaps TEST_RATE_LIMIT in.
              ratelimits: {
                RATE_LIMIT_CREATE_PER_IP: { namespace_id: '1001', simple: { limit: 100_000 } },
                RATE_LIMIT_CREATE_PER_CALLER: { namespace_id: '1002', simple: { limit: 100_000 } },
                RATE_LIMIT_PER_IP: { namespace_id: '1003', simple: { limit: 100_000 } },
                RATE_LIMIT_PER_CALLER: { namespace_id: '1004', simple: { limit: 100_000 } },
                TEST_RATE_LIMIT: { namespace_id: '9001', simple: { limit: 3, period: 60 } },
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
