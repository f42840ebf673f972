// Bindings that only the test configuration (vitest.config.ts) adds.
import type { D1Migration } from 'cloudflare:test';

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      FIXTURE_REPO_URL: string;
      /** The fixture repository over HTTP on 127.0.0.1 (test/git-http-server.ts). */
      FIXTURE_HTTP_REPO_URL: string;
      /** Answers 301 with a relative Location to FIXTURE_HTTP_REPO_URL. */
      FIXTURE_MOVED_REPO_URL: string;
      /** Answers 302 with an absolute Location to the same repository on another host name. */
      FIXTURE_FOUND_REPO_URL: string;
      /** A rate limiter of 3 requests a minute, for rate-limit.test.ts. */
      TEST_RATE_LIMIT: RateLimit;
      /** Base URL of test/jwks-server.ts: key sets are at `/sets/<name>/jwks.json`. */
      TEST_JWKS_URL: string;
      /** The JWKS server's private keys, a JWK Set in JSON (kids `rs-1` and `es-1`). */
      TEST_JWT_PRIVATE_JWKS: string;
      /** Base URL of test/sentry-server.ts: envelopes of project N are at `/projects/N/envelopes`. */
      TEST_SENTRY_URL: string;
      /** Base URL of test/webhook-receiver.ts: `/hooks/<name>` receives, `/control/<name>/…` steers. */
      TEST_WEBHOOK_RECEIVER_URL: string;
      /** Control routes of test/github-stand-in.ts (`<GITHUB_API_URL>/_stand-in`): state, repositories, permissions, faults. */
      TEST_GITHUB_CONTROL_URL: string;
      /** The stand-in App's private key as PKCS#8 (GITHUB_APP_PRIVATE_KEY is the PKCS#1 form). */
      TEST_GITHUB_APP_PRIVATE_KEY_PKCS8: string;
      /** `octo-org/omni-fixture`: a stand-in repository, a bare copy of the fixture repository. */
      TEST_GITHUB_REPOSITORY: string;
      /** The installation TEST_GITHUB_REPOSITORY belongs to. */
      TEST_GITHUB_INSTALLATION_ID: string;
      /** TEST_GITHUB_REPOSITORY's clone URL over HTTP (test/git-http-server.ts; push needs a token). */
      TEST_GITHUB_REPO_URL: string;
    }
  }
}
