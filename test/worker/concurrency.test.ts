/** The per-tenant cap on running jobs: exact under concurrent creation, with optional queueing. */
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../worker/app.ts';
import { JobSchema } from '../../worker/schemas/jobs.ts';
import { api, newTenant, waitForEnd } from './helpers.ts';

/** Calls a fresh app whose tenants may run `cap` jobs at once. */
function withCap(cap: number, apiKey: string, path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${apiKey}`);
  headers.set('content-type', 'application/json');
  return createApp().request(
    path,
    { ...init, headers },
    { ...env, TENANT_MAX_RUNNING_JOBS: String(cap) },
    createExecutionContext(),
  );
}

const sleeper = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ repo: { url: env.FIXTURE_REPO_URL }, command: 'sleep 30', ...extra });

describe('running jobs cap', () => {
  it('starts exactly N of many concurrent creations and refuses the rest with 429', async () => {
    const { apiKey } = await newTenant();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        withCap(2, apiKey, '/v1/jobs', { method: 'POST', body: sleeper() }),
      ),
    );
    const created = answers.filter((r) => r.status === 201);
    const refused = answers.filter((r) => r.status === 429);
    expect(created).toHaveLength(2);
    expect(refused).toHaveLength(4);
    const problem = z
      .object({ code: z.string(), detail: z.string() })
      .parse(await refused[0]?.json());
    expect(problem.code).toBe('concurrency_limit');
    expect(problem.detail).toContain('"queue": true');

    // Cancel both; then a new job fits again.
    for (const res of created) {
      const job = JobSchema.parse(await res.json());
      expect((await api(`/v1/jobs/${job.id}/cancel`, apiKey, { method: 'POST' })).status).toBe(200);
    }
    await expect
      .poll(
        async () =>
          (await withCap(2, apiKey, '/v1/jobs', { method: 'POST', body: sleeper() })).status,
        {
          timeout: 20_000,
        },
      )
      .toBe(201);
  });

  it('queues a job over the cap when asked, and starts it when a slot frees', async () => {
    const { apiKey, tenantId } = await newTenant();
    const first = JobSchema.parse(
      await (await withCap(1, apiKey, '/v1/jobs', { method: 'POST', body: sleeper() })).json(),
    );
    const queuedRes = await withCap(1, apiKey, '/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({
        repo: { url: env.FIXTURE_REPO_URL },
        command: 'echo my turn',
        queue: true,
      }),
    });
    expect(queuedRes.status).toBe(201);
    const queued = JobSchema.parse(await queuedRes.json());
    expect(queued.status).toBe('queued');

    // While the first job holds the only slot, the second never starts.
    await expect
      .poll(
        async () =>
          JobSchema.parse(await (await api(`/v1/jobs/${first.id}`, apiKey)).json()).status,
        {
          timeout: 20_000,
        },
      )
      .toBe('running');
    const waiting = JobSchema.parse(await (await api(`/v1/jobs/${queued.id}`, apiKey)).json());
    expect(waiting.status).toBe('queued');
    expect(waiting.provisioning_at).toBeNull();

    await api(`/v1/jobs/${first.id}/cancel`, apiKey, { method: 'POST' });
    const done = await waitForEnd(apiKey, queued.id);
    expect(done.status).toBe('succeeded');
    // Every slot is given back once the jobs have ended.
    await expect
      .poll(() => env.TENANT.getByName(tenantId).usage(), { timeout: 20_000 })
      .toEqual({ running: 0, waiting: 0 });
  });
});
