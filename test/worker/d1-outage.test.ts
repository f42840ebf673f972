/**
 * D1 outages: a job's final row reaches D1 however long D1 was down (the Job DO's `sync` deadline
 * never gives up, and the scheduled reconciliation refreshes rows that missed it), and a job the
 * Job DO accepted is answered 201 even when D1 fails right after.
 */
import {
  createExecutionContext,
  createScheduledController,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { z } from 'zod';
import { deadlineAttemptLimit } from '../../durable-objects/job/decisions.ts';
import { JobDO } from '../../durable-objects/job/job-do.ts';
import { initialState, toRow } from '../../durable-objects/job/state.ts';
import { JobStorage } from '../../durable-objects/job/storage.ts';
import { createApp } from '../../worker/app.ts';
import { upsertJob } from '../../worker/db/jobs.ts';
import worker from '../../worker/index.ts';
import { CRON_RECONCILE_JOBS } from '../../worker/scheduled.ts';
import { JobSchema } from '../../worker/schemas/jobs.ts';
import { allStatements, failingD1 } from './failing-d1.ts';
import { api, newTenant, waitForEnd } from './helpers.ts';
import { jobSpec } from './job-spec.ts';

const spec = jobSpec;

async function d1Status(id: string): Promise<unknown> {
  return env.DB.prepare('SELECT status FROM jobs WHERE id = ?').bind(id).first('status');
}

/** As if D1 had missed the job's last writes: its row still says `running`. */
async function loseFinalRow(id: string): Promise<void> {
  await env.DB.prepare(
    "UPDATE jobs SET status = 'running', finished_at = NULL, exit_code = NULL, updated_at = 0 WHERE id = ?",
  )
    .bind(id)
    .run();
}

type JobStub = ReturnType<typeof env.JOB.getByName>;

const logLineSchema = z.looseObject({ msg: z.string() });

/** The structured log lines (worker/lib/log.ts) written through a console spy. */
function logged(spy: MockInstance<(...args: unknown[]) => void>): Array<Record<string, unknown>> {
  return spy.mock.calls.flatMap(([line]) => {
    if (typeof line !== 'string' || !line.startsWith('{')) return [];
    const parsed = logLineSchema.safeParse(JSON.parse(line));
    return parsed.success ? [parsed.data] : [];
  });
}

/** The kinds of the Job DO's pending deadlines, but for the output retention weeks away. */
function pendingWork(stub: JobStub): Promise<string[]> {
  return runInDurableObject(stub, (_, state) =>
    new JobStorage(state.storage)
      .deadlines()
      .map((d) => d.kind)
      .filter((kind) => kind !== 'retention'),
  );
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the final row reaches D1', () => {
  it('is retried for as long as D1 is down, then written', async () => {
    const { tenantId, apiKey } = await newTenant();
    const s = spec(tenantId);
    const stub = env.JOB.getByName(s.id);
    await stub.create(s);
    expect((await waitForEnd(apiKey, s.id)).status).toBe('succeeded');
    await expect.poll(() => pendingWork(stub), { timeout: 20_000 }).toEqual([]);
    await loseFinalRow(s.id);

    // D1 has been down for long: the sync deadline has failed 30 times, and fails once more.
    const attempts = await runInDurableObject(stub, async (_, state) => {
      const store = new JobStorage(state.storage);
      store.setDeadline('sync', Date.now(), 30);
      const cutOff = new JobDO(state, { ...env, DB: failingD1(env.DB, allStatements) });
      await cutOff.alarm();
      return store.deadlines().find((d) => d.kind === 'sync')?.attempts;
    });
    expect(attempts).toBe(31);
    expect(await d1Status(s.id)).toBe('running');

    // D1 is back when the retry comes.
    await runInDurableObject(stub, (_, state) => {
      new JobStorage(state.storage).setDeadline('sync', Date.now(), 31);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await d1Status(s.id)).toBe('succeeded');
    expect(await pendingWork(stub)).toEqual([]);
  });

  it('never gives up the D1 mirror, the slot release or the output retention', () => {
    expect(deadlineAttemptLimit('sync')).toBeNull();
    expect(deadlineAttemptLimit('release')).toBeNull();
    expect(deadlineAttemptLimit('retention')).toBeNull();
    expect(deadlineAttemptLimit('cleanup')).toBeGreaterThan(0);
  });

  it('is refreshed from the Job DO by the scheduled reconciliation', async () => {
    const { tenantId } = await newTenant();
    // Created an hour ago with a one-minute limit: the Job DO times it out at once.
    const s = spec(tenantId, { createdAt: Date.now() - 60 * 60_000, timeoutSeconds: 60 });
    const stub = env.JOB.getByName(s.id);
    await stub.create(s);
    await expect
      .poll(async () => (await stub.get(tenantId))?.status, { timeout: 20_000 })
      .toBe('timed_out');
    await loseFinalRow(s.id);
    // A row whose Job DO holds no job is reported and left as it is.
    const orphan = spec(tenantId, { createdAt: Date.now() - 60 * 60_000 });
    await upsertJob(env.DB, { ...toRow(initialState(orphan)), status: 'running' });
    const warn = vi.spyOn(console, 'warn');

    await worker.scheduled(createScheduledController({ cron: CRON_RECONCILE_JOBS }), env);

    expect(await d1Status(s.id)).toBe('timed_out');
    expect(await d1Status(orphan.id)).toBe('running');
    expect(logged(warn)).toContainEqual(
      expect.objectContaining({ msg: 'job row has no Job DO', job_id: orphan.id }),
    );
    expect(await env.JOB.getByName(orphan.id).activity()).toBe('unknown');
  });
});

describe('a job accepted while D1 fails', () => {
  const body = () => JSON.stringify({ repo: { url: env.FIXTURE_REPO_URL }, command: 'echo ok' });
  /** The audit entry and the Idempotency-Key completion: what is written after the Job DO. */
  const bookkeeping = (sql: string) =>
    /^insert into "audit_log"/i.test(sql) || /^update "idempotency_keys" set "state"/i.test(sql);

  function post(db: D1Database, apiKey: string, key: string, ctx: ExecutionContext) {
    return createApp().request(
      '/v1/jobs',
      {
        method: 'POST',
        body: body(),
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
      },
      { ...env, DB: db },
      ctx,
    );
  }

  async function auditedJobs(tenantId: string): Promise<unknown[]> {
    const { results } = await env.DB.prepare(
      "SELECT target FROM audit_log WHERE tenant_id = ? AND action = 'job.create'",
    )
      .bind(tenantId)
      .all();
    return results.map((r) => r.target);
  }

  it('answers 201 and records the job after the response', async () => {
    const { tenantId, apiKey } = await newTenant();
    let failed = 0;
    // Each write after the Job DO fails once.
    const flaky = failingD1(env.DB, (sql) => bookkeeping(sql) && failed++ < 2);
    const key = crypto.randomUUID();
    const ctx = createExecutionContext();
    const res = await post(flaky, apiKey, key, ctx);
    expect(res.status).toBe(201);
    const job = JobSchema.parse(await res.json());
    expect(failed).toBeGreaterThanOrEqual(2);

    await waitOnExecutionContext(ctx);
    expect(await auditedJobs(tenantId)).toEqual([job.id]);
    const replay = await api('/v1/jobs', apiKey, {
      method: 'POST',
      body: body(),
      headers: { 'idempotency-key': key },
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(JobSchema.parse(await replay.json()).id).toBe(job.id);
    expect((await waitForEnd(apiKey, job.id)).status).toBe('succeeded');
  });

  it('answers 201 and runs the job even if D1 stays down, logging what was lost', async () => {
    const { tenantId, apiKey } = await newTenant();
    const error = vi.spyOn(console, 'error');
    const ctx = createExecutionContext();
    const res = await post(failingD1(env.DB, bookkeeping), apiKey, crypto.randomUUID(), ctx);
    expect(res.status).toBe(201);
    const job = JobSchema.parse(await res.json());
    expect((await waitForEnd(apiKey, job.id)).status).toBe('succeeded');

    await waitOnExecutionContext(ctx);
    expect(logged(error)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          msg: 'could not record job.create in the audit log; gave up',
          job_id: job.id,
        }),
        expect.objectContaining({
          msg: 'could not complete the Idempotency-Key; gave up',
          job_id: job.id,
        }),
      ]),
    );
    expect(await auditedJobs(tenantId)).toEqual([]);
  });
});
