/**
 * GET /v1/usage (docs/cost.md): the ledger grouped by project, user, day or model, with totals,
 * pages by cursor, the same as CSV (RFC 4180) with the next page in a Link header, and the date
 * range checked.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { addKey, api, newTenant } from './helpers.ts';

const GroupSchema = z.object({
  key: z.string().nullable(),
  cost_usd: z.number(),
  llm_usd: z.number(),
  sandbox_usd: z.number(),
  reported_llm_usd: z.number(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_write_tokens: z.number(),
  cache_read_tokens: z.number(),
  sandbox_seconds: z.number(),
  vcpu_seconds: z.number(),
  gib_seconds: z.number(),
  jobs: z.number(),
});
const ReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  group_by: z.string(),
  data: z.array(GroupSchema),
  totals: GroupSchema.omit({ key: true }),
  next_cursor: z.string().nullable(),
});

let tenantId = '';
let apiKey = '';

interface Line {
  job: string;
  project: string | null;
  actor: string;
  day: string;
  item: 'llm' | 'sandbox';
  model?: string;
  input?: number;
  seconds?: number;
  cost: number;
  reported?: number;
}

async function insertLine(tenant: string, line: Line): Promise<void> {
  await env.DB.prepare(
    `INSERT INTO usage_ledger (job_id, tenant_id, project_id, actor, day, item, model, input_tokens,
       sandbox_seconds, vcpu_seconds, gib_seconds, cost_micro_usd, reported_cost_micro_usd, price_table, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'test-prices', ?)`,
  )
    .bind(
      line.job,
      tenant,
      line.project,
      line.actor,
      line.day,
      line.item,
      line.model ?? '',
      line.input ?? 0,
      line.seconds ?? 0,
      (line.seconds ?? 0) * 2,
      (line.seconds ?? 0) * 4,
      line.cost,
      line.reported ?? null,
      Date.now(),
    )
    .run();
}

beforeAll(async () => {
  ({ tenantId, apiKey } = await newTenant('admin'));
  const lines: Line[] = [
    {
      job: 'job_1',
      project: 'prj_a',
      actor: 'key:k1',
      day: '2026-11-30',
      item: 'llm',
      model: 'claude-sonnet-4-5',
      input: 1000,
      cost: 3000,
      reported: 2900,
    },
    {
      job: 'job_1',
      project: 'prj_a',
      actor: 'key:k1',
      day: '2026-11-30',
      item: 'sandbox',
      seconds: 10,
      cost: 40_000,
    },
    {
      job: 'job_2',
      project: 'prj_b',
      actor: 'user:a,"b"',
      day: '2026-12-01',
      item: 'llm',
      model: 'claude-opus-5-5',
      input: 2000,
      cost: 10_000,
    },
    {
      job: 'job_2',
      project: 'prj_b',
      actor: 'user:a,"b"',
      day: '2026-12-01',
      item: 'sandbox',
      seconds: 5,
      cost: 20_000,
    },
    {
      job: 'job_3',
      project: null,
      actor: 'key:k1',
      day: '2026-12-02',
      item: 'sandbox',
      seconds: 1,
      cost: 4_000,
    },
    // Outside the range asked for below, and another tenant's line: neither counts.
    {
      job: 'job_4',
      project: 'prj_a',
      actor: 'key:k1',
      day: '2025-01-01',
      item: 'sandbox',
      seconds: 1,
      cost: 999,
    },
  ];
  for (const line of lines) await insertLine(tenantId, line);
  const other = await newTenant('admin');
  await insertLine(other.tenantId, {
    job: 'job_x',
    project: 'prj_a',
    actor: 'key:k9',
    day: '2026-12-01',
    item: 'sandbox',
    seconds: 1,
    cost: 777,
  });
});

async function report(query: string): Promise<z.infer<typeof ReportSchema>> {
  const res = await api(`/v1/usage?${query}`, apiKey);
  const body: unknown = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return ReportSchema.parse(body);
}

const RANGE = 'from=2026-11-01&to=2026-12-31';

describe('usage report', () => {
  it('groups by project, with totals of the whole range', async () => {
    const page = await report(`${RANGE}&group_by=project`);
    expect(page.data.map((g) => [g.key, g.cost_usd, g.jobs])).toEqual([
      [null, 0.004, 1],
      ['prj_a', 0.043, 1],
      ['prj_b', 0.03, 1],
    ]);
    expect(page.data[1]).toMatchObject({
      llm_usd: 0.003,
      sandbox_usd: 0.04,
      reported_llm_usd: 0.0029,
      input_tokens: 1000,
      sandbox_seconds: 10,
      vcpu_seconds: 20,
      gib_seconds: 40,
    });
    expect(page.totals).toMatchObject({
      cost_usd: 0.077,
      sandbox_seconds: 16,
      jobs: 3,
      input_tokens: 3000,
    });
    expect(page.next_cursor).toBeNull();
  });

  it('groups by user, day and model', async () => {
    const users = await report(`${RANGE}&group_by=user`);
    expect(users.data.map((g) => [g.key, g.cost_usd])).toEqual([
      ['key:k1', 0.047],
      ['user:a,"b"', 0.03],
    ]);
    const days = await report(`${RANGE}&group_by=day`);
    expect(days.data.map((g) => g.key)).toEqual(['2026-11-30', '2026-12-01', '2026-12-02']);
    const models = await report(`${RANGE}&group_by=model`);
    expect(models.data.map((g) => [g.key, g.cost_usd])).toEqual([
      ['(sandbox)', 0.064],
      ['claude-opus-5-5', 0.01],
      ['claude-sonnet-4-5', 0.003],
    ]);
  });

  it('pages by cursor', async () => {
    const keys: Array<string | null> = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await report(
        `${RANGE}&group_by=day&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.data).toHaveLength(1);
      keys.push(...page.data.map((g) => g.key));
      // Every page carries the totals of the whole range.
      expect(page.totals.cost_usd).toBe(0.077);
      cursor = page.next_cursor;
      if (cursor === null) break;
    }
    expect(keys).toEqual(['2026-11-30', '2026-12-01', '2026-12-02']);
    // A cursor of one grouping is refused for another.
    const first = await report(`${RANGE}&group_by=day&limit=1`);
    const res = await api(
      `/v1/usage?${RANGE}&group_by=model&cursor=${encodeURIComponent(first.next_cursor ?? '')}`,
      apiKey,
    );
    expect(res.status).toBe(400);
  });

  it('answers CSV with a header row, RFC 4180 quoting and a Link to the next page', async () => {
    const res = await api(`/v1/usage?${RANGE}&group_by=user&limit=1`, apiKey, {
      headers: { accept: 'text/csv' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await res.text();
    const rows = text.split('\r\n');
    expect(rows[0]).toBe(
      'key,cost_usd,llm_usd,sandbox_usd,reported_llm_usd,input_tokens,output_tokens,cache_write_tokens,cache_read_tokens,sandbox_seconds,vcpu_seconds,gib_seconds,jobs',
    );
    expect(rows[1]).toBe('key:k1,0.047,0.003,0.044,0.0029,1000,0,0,0,11,22,44,2');
    expect(rows[2]).toBe('');
    const link = res.headers.get('link') ?? '';
    const next = /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
    expect(next).toBeDefined();
    const second = await api(next ?? '', apiKey, { headers: { accept: 'text/csv' } });
    const lines = (await second.text()).split('\r\n');
    // A field with a comma or a quote is quoted, its quotes doubled.
    expect(lines[1]).toBe('"user:a,""b""",0.03,0.01,0.02,0,2000,0,0,0,5,10,20,1');
    expect(second.headers.get('link')).toBeNull();
  });

  it('checks the date range', async () => {
    const status = async (query: string) => (await api(`/v1/usage?${query}`, apiKey)).status;
    expect(await status('from=2026-12-02&to=2026-12-01')).toBe(400);
    expect(await status('from=2025-01-01&to=2026-12-31')).toBe(400); // 730 days
    expect(await status('from=2025-12-31&to=2026-12-31')).toBe(200); // 366 days
    expect(await status('from=2026-02-30&to=2026-03-01')).toBe(400);
    expect(await status('from=yesterday')).toBe(400);
    expect(await status('group_by=team')).toBe(400);
    expect(await status('unknown=1')).toBe(400);
    const body = z
      .object({ errors: z.array(z.object({ path: z.string() })) })
      .parse(await (await api('/v1/usage?from=2026-12-02&to=2026-12-01', apiKey)).json());
    expect(body.errors[0]?.path).toBe('to');
  });

  it('is in the OpenAPI document, with the budgets routes', async () => {
    const doc = z
      .object({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) })
      .parse(await (await api('/openapi.json', null)).json());
    expect(Object.keys(doc.paths['/v1/usage'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/budgets'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/budgets/tenant'] ?? {})).toEqual(['put']);
  });

  it('is for admins', async () => {
    const member = await addKey(tenantId, 'member');
    expect((await api(`/v1/usage?${RANGE}`, member)).status).toBe(403);
  });
});
