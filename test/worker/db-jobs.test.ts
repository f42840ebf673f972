/** The D1 mirror of a job: an older write never replaces a newer row. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { upsertJob } from '../../worker/db/jobs.ts';
import type { JobRow } from '../../worker/db/schema.ts';
import { newTenant } from './helpers.ts';

describe('upsertJob', () => {
  it('keeps the newer state when writes arrive out of order', async () => {
    const { tenantId } = await newTenant();
    const base: JobRow = {
      id: `job_${crypto.randomUUID().replaceAll('-', '')}`,
      tenantId,
      status: 'queued',
      repoUrl: 'https://github.com/o/r.git',
      repoRef: null,
      command: 'true',
      timeoutSeconds: 60,
      exitCode: null,
      errorCode: null,
      errorMessage: null,
      sandboxId: null,
      createdBy: null,
      projectId: null,
      kind: 'command',
      costMicroUsd: 0,
      createdAt: 1000,
      provisioningAt: null,
      cloningAt: null,
      runningAt: null,
      firstOutputAt: null,
      finishedAt: null,
      updatedAt: 1000,
    };
    const status = async () =>
      (await env.DB.prepare('SELECT status FROM jobs WHERE id = ?').bind(base.id).first())?.status;
    await upsertJob(env.DB, base);
    await upsertJob(env.DB, { ...base, status: 'provisioning', updatedAt: 1001 });
    expect(await status()).toBe('provisioning');
    // The create() mirror of the queued state lands late: it changes nothing.
    await upsertJob(env.DB, base);
    expect(await status()).toBe('provisioning');
    await upsertJob(env.DB, { ...base, status: 'succeeded', updatedAt: 1002 });
    expect(await status()).toBe('succeeded');
  });
});
