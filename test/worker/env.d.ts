// Bindings that only the test configuration (vitest.config.ts) adds.
import type { D1Migration } from 'cloudflare:test';

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      FIXTURE_REPO_URL: string;
    }
  }
}
