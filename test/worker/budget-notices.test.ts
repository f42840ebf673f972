/**
 * Budget notices (docs/cost.md): 80, 90, 95 and 100 % of a budget are recorded once each per
 * month, in the TenantDO and in D1 `budget_notices`, however often the spend is reported and
 * even when it crosses a threshold twice; GET /v1/budgets shows them, paginated, to admins.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { utcMonth } from '../../durable-objects/job/ledger.ts';
import { addKey, api, newTenant } from './helpers.ts';

const NoticeSchema = z.object({
  scope: z.string(),
  id: z.string(),
  month: z.string(),
  threshold: z.number(),
  spend_usd: z.number(),
  limit_usd: z.number(),
  created_at: z.string(),
});
const PageSchema = z.object({
  month: z.string(),
  budgets: z.array(z.object({ scope: z.string(), limit_usd: z.number(), spend_usd: z.number() })),
  notices: z.array(NoticeSchema),
  next_cursor: z.string().nullable(),
});

async function noticeRows(tenantId: string): Promise<Array<{ threshold: number; scope: string }>> {
  const { results } = await env.DB.prepare(
    'SELECT threshold, scope FROM budget_notices WHERE tenant_id = ? ORDER BY scope, threshold',
  )
    .bind(tenantId)
    .all<{ threshold: number; scope: string }>();
  return results;
}

describe('budget notices', () => {
  it('fire once each at 80, 90, 95 and 100 %, also when a threshold is crossed twice', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    const tenant = env.TENANT.getByName(tenantId);
    const month = utcMonth(Date.now());
    await tenant.setTenantBudget(tenantId, 1_000_000); // $1
    const report = (jobId: string, total: number) =>
      tenant.reportCost(tenantId, { jobId, projectId: null, month, totalMicroUsd: total });

    expect(await report('job_a', 500_000)).toEqual({ ok: true });
    expect(await noticeRows(tenantId)).toEqual([]);
    await report('job_a', 850_000); // 85 %
    expect((await noticeRows(tenantId)).map((r) => r.threshold)).toEqual([80]);
    // The same spend again, a fall below 80 % and a second crossing: still one 80 % notice.
    await report('job_a', 850_000);
    await report('job_a', 700_000);
    await report('job_a', 820_000);
    expect((await noticeRows(tenantId)).map((r) => r.threshold)).toEqual([80]);
    // A second job takes the tenant past 90 and 95 % at once.
    await report('job_b', 140_000); // 96 %
    expect((await noticeRows(tenantId)).map((r) => r.threshold)).toEqual([80, 90, 95]);
    const verdict = await report('job_b', 180_000); // 100 %: reached
    expect(verdict).toMatchObject({
      ok: false,
      budget: { scope: 'tenant', limitMicroUsd: 1_000_000, spendMicroUsd: 1_000_000 },
    });
    await report('job_b', 250_000);
    expect((await noticeRows(tenantId)).map((r) => r.threshold)).toEqual([80, 90, 95, 100]);

    // GET /v1/budgets: the budget and the notices, newest first, two per page.
    const first = PageSchema.parse(await (await api('/v1/budgets?limit=2', apiKey)).json());
    expect(first.month).toBe(month);
    expect(first.budgets).toEqual([
      expect.objectContaining({ scope: 'tenant', limit_usd: 1, spend_usd: 1.07 }),
    ]);
    expect(first.notices).toHaveLength(2);
    expect(first.next_cursor).not.toBeNull();
    const second = PageSchema.parse(
      await (
        await api(
          `/v1/budgets?limit=2&cursor=${encodeURIComponent(first.next_cursor ?? '')}`,
          apiKey,
        )
      ).json(),
    );
    expect(second.next_cursor).toBeNull();
    const all = [...first.notices, ...second.notices];
    expect(all.map((n) => n.threshold).sort((a, b) => a - b)).toEqual([80, 90, 95, 100]);
    expect(all.find((n) => n.threshold === 80)).toMatchObject({
      scope: 'tenant',
      id: tenantId,
      month,
      spend_usd: 0.85,
      limit_usd: 1,
    });
  });

  it('are kept per project budget too', async () => {
    const { tenantId } = await newTenant('owner');
    const projectId = `prj_${crypto.randomUUID().replaceAll('-', '')}`;
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO projects (id, tenant_id, name, is_default, monthly_budget_micro_usd, repo_allow_list, created_at, updated_at)
       VALUES (?, ?, 'p', 0, 100000, '[]', ?, ?)`,
    )
      .bind(projectId, tenantId, now, now)
      .run();
    const tenant = env.TENANT.getByName(tenantId);
    const verdict = await tenant.reportCost(tenantId, {
      jobId: 'job_p',
      projectId,
      month: utcMonth(now),
      totalMicroUsd: 91_000,
    });
    expect(verdict).toEqual({ ok: true });
    const rows = await noticeRows(tenantId);
    expect(rows).toEqual([
      { scope: 'project', threshold: 80 },
      { scope: 'project', threshold: 90 },
    ]);
  });

  it('are for admins; the tenant budget is set by owners and audited', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    const member = await addKey(tenantId, 'member');
    const admin = await addKey(tenantId, 'admin');
    expect((await api('/v1/budgets', member)).status).toBe(403);
    expect((await api('/v1/budgets', admin)).status).toBe(200);
    const put = (key: string, body: unknown) =>
      api('/v1/budgets/tenant', key, { method: 'PUT', body: JSON.stringify(body) });
    expect((await put(admin, { monthly_budget_usd: 5 })).status).toBe(403);
    expect((await put(apiKey, { monthly_budget_usd: -1 })).status).toBe(400);
    const res = await put(apiKey, { monthly_budget_usd: 5 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ monthly_budget_usd: 5, spend_usd: 0 });
    expect((await put(apiKey, { monthly_budget_usd: null })).status).toBe(200);
    const audit = await env.DB.prepare(
      "SELECT details FROM audit_log WHERE tenant_id = ? AND action = 'budget.set' ORDER BY time",
    )
      .bind(tenantId)
      .all<{ details: string }>();
    expect(audit.results.map((r) => JSON.parse(r.details))).toEqual([
      { scope: 'tenant', old_monthly_budget_usd: null, new_monthly_budget_usd: 5 },
      { scope: 'tenant', old_monthly_budget_usd: 5, new_monthly_budget_usd: null },
    ]);
    const page = PageSchema.parse(await (await api('/v1/budgets', apiKey)).json());
    expect(page.budgets).toEqual([]);
  });
});
