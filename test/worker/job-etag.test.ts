/** GET /v1/jobs/{id}: an ETag, and 304 without a body to a matching If-None-Match. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobSchema } from '../../worker/schemas/jobs.ts';
import { api, createJob, newTenant, waitForEnd } from './helpers.ts';

let apiKey: string;
beforeAll(async () => {
  ({ apiKey } = await newTenant());
});

const get = (id: string, ifNoneMatch?: string) =>
  api(
    `/v1/jobs/${id}`,
    apiKey,
    ifNoneMatch === undefined ? {} : { headers: { 'if-none-match': ifNoneMatch } },
  );

/** An ended job: nothing about it changes from one read to the next. */
async function endedJob(): Promise<string> {
  const job = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
  await waitForEnd(apiKey, job.id);
  return job.id;
}

describe('ETag on GET /v1/jobs/{id}', () => {
  it('answers 200 with a weak ETag, the same for the same job', async () => {
    const id = await endedJob();
    const first = await get(id);
    expect(first.status).toBe(200);
    const tag = first.headers.get('etag');
    expect(tag).toMatch(/^W\/"[A-Za-z0-9_-]{22}"$/);
    expect(JobSchema.parse(await first.json()).id).toBe(id);
    const second = await get(id);
    expect(second.headers.get('etag')).toBe(tag);
    await second.body?.cancel();
    // The API's answers are never stored by caches: clients keep the tag themselves.
    expect(second.headers.get('cache-control')).toBe('no-store');
  });

  it('answers 304 without a body to a matching If-None-Match, a list holding it, and *', async () => {
    const id = await endedJob();
    const res = await get(id);
    const tag = res.headers.get('etag') ?? '';
    await res.body?.cancel();
    for (const header of [tag, tag.slice(2), `W/"other", ${tag}`, '*']) {
      const again = await get(id, header);
      expect(again.status, header).toBe(304);
      expect(again.headers.get('etag')).toBe(tag);
      expect(await again.text()).toBe('');
    }
    const other = await get(id, 'W/"other"');
    expect(other.status).toBe(200);
    await other.body?.cancel();
  });

  it('answers 200 with a new ETag once the job changed', async () => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'sleep 60',
    });
    const before = await get(job.id);
    const old = before.headers.get('etag') ?? '';
    await before.body?.cancel();
    const cancel = await api(`/v1/jobs/${job.id}/cancel`, apiKey, { method: 'POST' });
    expect(cancel.status).toBe(200);
    await cancel.body?.cancel();
    const after = await get(job.id, old);
    expect(after.status).toBe(200);
    const fresh = after.headers.get('etag');
    expect(fresh).not.toBe(old);
    expect(JobSchema.parse(await after.json()).status).toBe('canceled');
  });

  it('answers 404, not 304, for another tenant even with If-None-Match: *', async () => {
    const id = await endedJob();
    const other = await newTenant();
    const res = await api(`/v1/jobs/${id}`, other.apiKey, { headers: { 'if-none-match': '*' } });
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });
});
