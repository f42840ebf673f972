/** Idempotency-Key on POST /v1/jobs: replay, mismatch, concurrent duplicates, tenant scope. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { JobListSchema, JobSchema } from '../../worker/schemas/jobs.ts';
import { api, newTenant, waitForEnd } from './helpers.ts';

function post(apiKey: string, key: string | null, body: unknown) {
  return api('/v1/jobs', apiKey, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: key === null ? {} : { 'idempotency-key': key },
  });
}

async function jobCount(apiKey: string): Promise<number> {
  const res = await api('/v1/jobs?limit=100', apiKey);
  return JobListSchema.parse(await res.json()).data.length;
}

const body = () => ({ repo: { url: env.FIXTURE_REPO_URL }, command: 'echo once' });

describe('Idempotency-Key', () => {
  it('returns the original job for the same key and body, and creates nothing more', async () => {
    const { apiKey } = await newTenant();
    const key = crypto.randomUUID();
    const first = await post(apiKey, key, body());
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const job = JobSchema.parse(await first.json());
    await waitForEnd(apiKey, job.id);

    // Same body, other key order and whitespace: the same request.
    const again = await post(
      apiKey,
      key,
      `{ "command": "echo once", "repo": { "url": ${JSON.stringify(env.FIXTURE_REPO_URL)} } }`,
    );
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const replayed = JobSchema.parse(await again.json());
    expect(replayed.id).toBe(job.id);
    expect(replayed.status).toBe('succeeded');
    expect(await jobCount(apiKey)).toBe(1);
  });

  it('answers 422 when the key is reused with another body', async () => {
    const { apiKey } = await newTenant();
    const key = crypto.randomUUID();
    expect((await post(apiKey, key, body())).status).toBe(201);
    const res = await post(apiKey, key, { ...body(), command: 'echo twice' });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'idempotency_mismatch' });
    expect(await jobCount(apiKey)).toBe(1);
  });

  it('lets exactly one of many concurrent duplicates create the job', async () => {
    const { apiKey } = await newTenant();
    const key = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(apiKey, key, body())));
    const created = answers.filter(
      (r) => r.status === 201 && !r.headers.get('idempotent-replayed'),
    );
    expect(created).toHaveLength(1);
    for (const res of answers) {
      if (res.status === 409) {
        expect(await res.json()).toMatchObject({ code: 'idempotency_in_flight' });
      } else {
        expect(res.status).toBe(201);
      }
    }
    const ids = new Set(
      await Promise.all(
        answers
          .filter((r) => r.status === 201)
          .map(async (r) => JobSchema.parse(await r.json()).id),
      ),
    );
    expect(ids.size).toBe(1);
    expect(await jobCount(apiKey)).toBe(1);
  });

  it('scopes keys per tenant', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const key = crypto.randomUUID();
    const jobA = JobSchema.parse(await (await post(a.apiKey, key, body())).json());
    const resB = await post(b.apiKey, key, body());
    expect(resB.status).toBe(201);
    expect(resB.headers.get('idempotent-replayed')).toBeNull();
    expect(JobSchema.parse(await resB.json()).id).not.toBe(jobA.id);
  });

  it('refuses a malformed key', async () => {
    const { apiKey } = await newTenant();
    const res = await post(apiKey, 'x'.repeat(256), body());
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'invalid_request' });
  });
});
