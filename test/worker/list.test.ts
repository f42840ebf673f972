/** GET /v1/jobs: newest first, cursor pagination, status filter, and tenant isolation. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobListSchema, type Job } from '../../worker/schemas/jobs.ts';
import { api, createJob, newTenant, waitForEnd } from './helpers.ts';

let apiKey: string;
const created: Job[] = [];

beforeAll(async () => {
  ({ apiKey } = await newTenant());
  for (const command of ['true', 'exit 1', 'true', 'true', 'exit 2']) {
    created.push(await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command }));
  }
  for (const job of created) await waitForEnd(apiKey, job.id);
});

async function list(query: string, key = apiKey) {
  const res = await api(`/v1/jobs${query}`, key);
  expect(res.status).toBe(200);
  return JobListSchema.parse(await res.json());
}

describe('GET /v1/jobs', () => {
  it('pages through every job newest first with no duplicate', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((j) => j.id));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(created.map((j) => j.id).reverse());
  });

  it('filters by status', async () => {
    const failed = await list('?status=failed');
    expect(failed.data.map((j) => j.id).sort()).toEqual([created[1]?.id, created[4]?.id].sort());
    expect(failed.data.every((j) => j.status === 'failed')).toBe(true);
    const succeeded = await list('?status=succeeded');
    expect(succeeded.data).toHaveLength(3);
  });

  it("never shows another tenant's jobs", async () => {
    const other = await newTenant();
    expect((await list('', other.apiKey)).data).toEqual([]);
    const job = created[0];
    if (!job) throw new Error('no job');
    expect((await api(`/v1/jobs/${job.id}`, other.apiKey)).status).toBe(404);
    expect((await api(`/v1/jobs/${job.id}/events`, other.apiKey)).status).toBe(404);
  });

  it.each(['?limit=0', '?limit=101', '?status=done', '?cursor=bm9wZQ', '?sort=asc'])(
    'rejects %s',
    async (query) => {
      const res = await api(`/v1/jobs${query}`, apiKey);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    },
  );
});
