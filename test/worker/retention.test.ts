/**
 * Output retention: the Job DO's alarm deletes a finished job's output JOB_OUTPUT_RETENTION_DAYS
 * after it ended; the job, its D1 row, and its `status` and `exit` events stay.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { JobDO } from '../../durable-objects/job/job-do.ts';
import type { JobSpec } from '../../durable-objects/job/state.ts';
import { JobStorage } from '../../durable-objects/job/storage.ts';
import { JobSchema } from '../../worker/schemas/jobs.ts';
import { allEvents, api, newTenant, waitForEnd } from './helpers.ts';
import { jobSpec } from './job-spec.ts';

const DAY_MS = 24 * 60 * 60_000;

const spec = (tenantId: string, patch: Partial<JobSpec> = {}) =>
  jobSpec(tenantId, { command: 'echo out; echo err >&2; exit 3', ...patch });

type JobStub = ReturnType<typeof env.JOB.getByName>;

function deadlines(stub: JobStub) {
  return runInDurableObject(stub, (_, state) =>
    new JobStorage(state.storage).deadlines().map((d) => ({ kind: d.kind, dueAt: d.dueAt })),
  );
}

/** Runs the Job DO's alarm as it would run when the retention deadline is due, under `vars`. */
function runRetentionNow(stub: JobStub, vars: Record<string, string> = {}) {
  return runInDurableObject(stub, async (_, state) => {
    new JobStorage(state.storage).setDeadline('retention', Date.now());
    await new JobDO(state, { ...env, ...vars }).alarm();
  });
}

describe('output retention', () => {
  it('deletes the output once it has expired and keeps the job, its status and exit events', async () => {
    const { tenantId, apiKey } = await newTenant();
    const s = spec(tenantId);
    const stub = env.JOB.getByName(s.id);
    await stub.create(s);
    const job = await waitForEnd(apiKey, s.id);
    expect(job).toMatchObject({ status: 'failed', exit_code: 3 });
    const finishedAt = Date.parse(job.finished_at ?? '');
    // Once the sandbox is deleted and the slot returned, only the retention deadline is left,
    // 30 days (wrangler.toml) after the end.
    await expect
      .poll(() => deadlines(stub), { timeout: 20_000 })
      .toEqual([{ kind: 'retention', dueAt: finishedAt + 30 * DAY_MS }]);
    const before = await allEvents(apiKey, s.id);
    expect(before.filter((e) => e.type === 'stdout').map((e) => e.data)).toEqual(['out\n']);
    expect(before.filter((e) => e.type === 'stderr').map((e) => e.data)).toEqual(['err\n']);

    // Woken early (the setting is read when it runs): nothing is deleted, it waits for expiry.
    await runRetentionNow(stub);
    expect(await allEvents(apiKey, s.id)).toEqual(before);
    expect(await deadlines(stub)).toEqual([{ kind: 'retention', dueAt: finishedAt + 30 * DAY_MS }]);

    // Expired (a retention of 0 days stands in for 30 days passing).
    await runRetentionNow(stub, { JOB_OUTPUT_RETENTION_DAYS: '0' });
    const after = await allEvents(apiKey, s.id);
    expect(after).toEqual(before.filter((e) => e.type === 'status' || e.type === 'exit'));
    expect(after.filter((e) => e.type === 'exit')).toEqual([
      expect.objectContaining({ exit_code: 3 }),
    ]);
    expect(after.at(-1)).toMatchObject({ type: 'status', status: 'failed' });
    expect(await deadlines(stub)).toEqual([]);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeNull();

    // The job itself, and its row in D1, are unchanged.
    const res = await api(`/v1/jobs/${s.id}`, apiKey);
    expect(JobSchema.parse(await res.json())).toEqual(job);
    const row = await env.DB.prepare('SELECT status, exit_code FROM jobs WHERE id = ?')
      .bind(s.id)
      .first();
    expect(row).toEqual({ status: 'failed', exit_code: 3 });
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });
});
