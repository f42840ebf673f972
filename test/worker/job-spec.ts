/** What the Worker hands a Job DO to start a job, for the tests that start jobs through the DO. */
import { env } from 'cloudflare:workers';
import type { JobSpec } from '../../durable-objects/job/state.ts';

/** A job of `tenantId` with a fresh id that clones the fixture repository and runs `true`. */
export function jobSpec(tenantId: string, patch: Partial<JobSpec> = {}): JobSpec {
  return {
    id: `job_${crypto.randomUUID().replaceAll('-', '')}`,
    tenantId,
    repoUrl: env.FIXTURE_REPO_URL,
    repoRef: null,
    command: 'true',
    timeoutSeconds: 60,
    snapshot: 'omni-sandbox',
    createdBy: 'key:test',
    createdAt: Date.now(),
    ...patch,
  };
}
