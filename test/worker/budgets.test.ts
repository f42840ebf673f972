/**
 * Budgets end to end (docs/cost.md): 402 at creation for a tenant or project budget, running
 * jobs stopped by sandbox time and by tokens, and several jobs of one tenant that together cross
 * its budget, all stopped within the documented overshoot.
 *
 * The test bindings (vitest.config.ts) price a sandbox second at 2 × $0.001 (vCPU) + 4 × $0.0005
 * (GiB) = $0.004 for the default 2 vCPU / 4 GiB shape, and check budgets every second.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deadlineAttemptLimit } from '../../durable-objects/job/decisions.ts';
import { JobDO } from '../../durable-objects/job/job-do.ts';
import { JobStorage } from '../../durable-objects/job/storage.ts';
import { JobSchema, type Job } from '../../worker/schemas/jobs.ts';
import { failingD1 } from './failing-d1.ts';
import { allEvents, api, createJob, newTenant, sandboxesOf, waitForEnd } from './helpers.ts';

/** What one sandbox second costs with the test prices and the default shape, in USD. */
const SANDBOX_USD_PER_SECOND = 0.004;
/** BUDGET_CHECK_SECONDS in the test bindings. */
const CHECK_SECONDS = 1;

const ProblemSchema = z.object({
  status: z.number(),
  code: z.string(),
  detail: z.string(),
  budget: z.object({
    scope: z.enum(['tenant', 'project']),
    id: z.string(),
    limit_usd: z.number(),
    spend_usd: z.number(),
    reserved_usd: z.number(),
  }),
});

const BudgetsSchema = z.object({
  month: z.string(),
  budgets: z.array(
    z.object({
      scope: z.string(),
      id: z.string(),
      limit_usd: z.number(),
      spend_usd: z.number(),
      reserved_usd: z.number(),
    }),
  ),
});

async function setTenantBudget(apiKey: string, usd: number | null): Promise<void> {
  const res = await api('/v1/budgets/tenant', apiKey, {
    method: 'PUT',
    body: JSON.stringify({ monthly_budget_usd: usd }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Polls `read` until it returns a value (not undefined); bounded by the test's timeout. */
async function until<T>(read: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function getJob(apiKey: string, id: string): Promise<Job> {
  const res = await api(`/v1/jobs/${id}`, apiKey);
  expect(res.status).toBe(200);
  return JobSchema.parse(await res.json());
}

/**
 * The job once its sandbox is deleted (its cost is final then) and its ledger lines in D1 add up
 * to that cost.
 */
async function settled(apiKey: string, id: string): Promise<Job> {
  return until(async () => {
    if ((await sandboxesOf(id)).length > 0) return undefined;
    const job = await getJob(apiKey, id);
    const row = await env.DB.prepare(
      'SELECT SUM(cost_micro_usd) AS cost FROM usage_ledger WHERE job_id = ?',
    )
      .bind(id)
      .first<{ cost: number | null }>();
    return (row?.cost ?? 0) === Math.round(job.cost.total_usd * 1e6) ? job : undefined;
  });
}

function sleepJob(seconds: number, extra: Record<string, unknown> = {}) {
  return {
    repo: { url: env.FIXTURE_REPO_URL },
    command: `sleep ${seconds}`,
    timeout_seconds: 60,
    ...extra,
  };
}

describe('creating a job over a budget', () => {
  it("answers 402 naming the tenant's budget, its limit and its spend", async () => {
    const { apiKey } = await newTenant('owner');
    // A job of 30 s reserves its sandbox for 30 s: 30 × $0.004 = $0.12.
    await setTenantBudget(apiKey, 0.1);
    const first = await createJob(apiKey, { ...sleepJob(30), timeout_seconds: 30 });
    const res = await api('/v1/jobs', apiKey, {
      method: 'POST',
      body: JSON.stringify(sleepJob(1)),
    });
    expect(res.status).toBe(402);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = ProblemSchema.parse(await res.json());
    expect(problem.code).toBe('payment_required');
    expect(problem.budget).toMatchObject({ scope: 'tenant', limit_usd: 0.1 });
    expect(problem.budget.reserved_usd).toBeCloseTo(0.12, 6);
    expect(problem.budget.spend_usd).toBeGreaterThanOrEqual(0);
    expect(problem.detail).toContain("tenant's monthly budget");
    expect(problem.detail).toContain('limit $0.1');
    expect(problem.detail).toMatch(/spend \$[\d.]+ this month/);
    // No job was created for the refused request.
    const list = z
      .object({ data: z.array(z.object({ id: z.string() })) })
      .parse(await (await api('/v1/jobs', apiKey)).json());
    expect(list.data.map((j) => j.id)).toEqual([first.id]);
    await api(`/v1/jobs/${first.id}/cancel`, apiKey, { method: 'POST' });
    // Once the job ended, only its spend counts: a budget above it lets the next job in.
    await settled(apiKey, first.id);
    await setTenantBudget(apiKey, 1);
    const next = await createJob(apiKey, sleepJob(0));
    await waitForEnd(apiKey, next.id);
  });

  it("answers 402 naming the project's budget", async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    const projectId = `prj_${crypto.randomUUID().replaceAll('-', '')}`;
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO projects (id, tenant_id, name, is_default, monthly_budget_micro_usd, repo_allow_list, created_at, updated_at)
       VALUES (?, ?, 'capped', 0, 50000, '[]', ?, ?)`,
    )
      .bind(projectId, tenantId, now, now)
      .run();
    const first = await createJob(apiKey, { ...sleepJob(30), project: projectId });
    const res = await api('/v1/jobs', apiKey, {
      method: 'POST',
      body: JSON.stringify({ ...sleepJob(1), project: projectId }),
    });
    expect(res.status).toBe(402);
    const problem = ProblemSchema.parse(await res.json());
    expect(problem.budget).toMatchObject({ scope: 'project', id: projectId, limit_usd: 0.05 });
    expect(problem.detail).toContain(`project ${projectId}`);
    expect(problem.detail).toContain('limit $0.05');
    // The project's budget binds only its own jobs.
    const other = await createJob(apiKey, sleepJob(0));
    await waitForEnd(apiKey, other.id);
    await api(`/v1/jobs/${first.id}/cancel`, apiKey, { method: 'POST' });
  });
});

describe('a running job over a budget', () => {
  it('is stopped by sandbox time, its sandbox deleted and its cost in the ledger', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    const limitUsd = 0.02; // 5 s of sandbox
    await setTenantBudget(apiKey, limitUsd);
    const job = await createJob(apiKey, sleepJob(55));
    const ended = await waitForEnd(apiKey, job.id);
    expect(ended.status).toBe('failed');
    expect(ended.error?.code).toBe('budget_exceeded');
    expect(ended.error?.message).toContain("tenant's monthly budget of $0.02 was reached");
    const final = await settled(apiKey, job.id);
    // It ran until the budget was reached, and was stopped within a few checks of that: the
    // bound allows the check interval plus 10 s for a loaded machine to stop the job and
    // delete its sandbox (without the stop it would run 55 s: $0.22).
    expect(final.cost.total_usd).toBeGreaterThanOrEqual(limitUsd);
    expect(final.cost.total_usd).toBeLessThan(
      limitUsd + SANDBOX_USD_PER_SECOND * (CHECK_SECONDS + 10),
    );
    expect(final.cost.sandbox_seconds).toBeGreaterThanOrEqual(5);
    expect(final.cost.llm_usd).toBe(0);
    expect(final.cost.price_table).toBe('test-prices');
    // The ledger line in D1 is the job's cost.
    const line = await env.DB.prepare(
      "SELECT * FROM usage_ledger WHERE job_id = ? AND item = 'sandbox'",
    )
      .bind(job.id)
      .first<{ cost_micro_usd: number; vcpu_seconds: number; tenant_id: string }>();
    expect(line?.tenant_id).toBe(tenantId);
    expect(line?.cost_micro_usd).toBe(Math.round(final.cost.total_usd * 1e6));
    expect(line?.vcpu_seconds).toBe(2 * final.cost.sandbox_seconds);
    // The final status event says what the job cost by its end.
    const events = await allEvents(apiKey, job.id);
    const last = events.filter((e) => e.type === 'status').at(-1);
    expect(last).toMatchObject({ status: 'failed', cost: { price_table: 'test-prices' } });
    // The tenant's spend becomes the job's final cost, and its reservation is released.
    const tenantBudget = await until(async () => {
      const page = BudgetsSchema.parse(await (await api('/v1/budgets', apiKey)).json());
      const tenant = page.budgets[0];
      return tenant &&
        Math.abs(tenant.spend_usd - final.cost.total_usd) < 1e-9 &&
        tenant.reserved_usd === 0
        ? tenant
        : undefined;
    });
    expect(tenantBudget).toMatchObject({ scope: 'tenant', id: tenantId, limit_usd: limitUsd });
  });

  it('is stopped by tokens, and by its own max_budget_usd', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    await setTenantBudget(apiKey, 1);
    const job = await createJob(apiKey, sleepJob(55));
    await until(async () =>
      (await getJob(apiKey, job.id)).status === 'running' ? true : undefined,
    );
    // As the agent adapter does when it parses usage: 100k input tokens of claude-opus-4-1 at
    // $15 per million are $1.50, over the tenant's $1.
    await runInDurableObject(env.JOB.getByName(job.id), (instance) => {
      instance['record'].update({
        agentUsage: {
          'claude-opus-4-1-20250805': {
            inputTokens: 100_000,
            outputTokens: 0,
            cacheReadTokens: 0,
            cacheWriteTokens: 0,
            reportedCostMicroUsd: 1_400_000,
          },
        },
      });
    });
    const ended = await waitForEnd(apiKey, job.id);
    expect(ended.error?.code).toBe('budget_exceeded');
    expect(ended.error?.message).toContain("tenant's monthly budget of $1 was reached");
    const final = await settled(apiKey, job.id);
    expect(final.cost.llm_usd).toBe(1.5);
    expect(final.cost.reported_llm_usd).toBe(1.4);
    expect(final.cost.input_tokens).toBe(100_000);
    const llm = await env.DB.prepare(
      "SELECT cost_micro_usd, model, price_table FROM usage_ledger WHERE job_id = ? AND item = 'llm'",
    )
      .bind(job.id)
      .first<{ cost_micro_usd: number; model: string; price_table: string }>();
    expect(llm).toEqual({
      cost_micro_usd: 1_500_000,
      model: 'claude-opus-4-1-20250805',
      price_table: 'test-prices',
    });

    // A job's own cap stops it before the tenant's budget (raised first, so only the cap binds).
    await setTenantBudget(apiKey, 100);
    const capped = await createJob(apiKey, sleepJob(55));
    await until(async () =>
      (await getJob(apiKey, capped.id)).status === 'running' ? true : undefined,
    );
    await runInDurableObject(env.JOB.getByName(capped.id), (instance) => {
      instance['record'].update({
        agent: {
          cli: 'claude-code',
          prompt: 'p',
          model: null,
          maxTurns: null,
          allowedTools: null,
          maxBudgetUsd: 0.25,
        },
        agentUsage: {
          'claude-sonnet-4-5': {
            inputTokens: 0,
            outputTokens: 20_000, // × $15 per million = $0.30
            cacheReadTokens: 0,
            cacheWriteTokens: 0,
            reportedCostMicroUsd: 0,
          },
        },
      });
    });
    const cappedEnd = await waitForEnd(apiKey, capped.id);
    expect(cappedEnd.error?.code).toBe('budget_exceeded');
    expect(cappedEnd.error?.message).toContain("the job's max_budget_usd of $0.25 was reached");
    expect(tenantId).toMatch(/^ten_/);
  });

  it('stops every job of a tenant whose jobs together cross its budget', async () => {
    const { apiKey } = await newTenant('owner');
    const jobs = await Promise.all([1, 2, 3].map(() => createJob(apiKey, sleepJob(55))));
    // Together the three sandboxes cost $0.012 a second: $0.06 is crossed within about 5 s of
    // their creation, while one of them alone would take 15 s.
    const limitUsd = 0.06;
    await setTenantBudget(apiKey, limitUsd);
    const ended = await Promise.all(jobs.map((job) => waitForEnd(apiKey, job.id)));
    for (const job of ended) {
      expect(job.status).toBe('failed');
      expect(job.error?.code).toBe('budget_exceeded');
    }
    const final = await Promise.all(jobs.map((job) => settled(apiKey, job.id)));
    const total = final.reduce((sum, job) => sum + job.cost.total_usd, 0);
    // The overshoot (docs/cost.md) is what every running job accrues from the moment the budget
    // is crossed until its next check stops it and its sandbox is deleted: one check interval
    // each, plus the stop and the deletion. Asserted with 10 s of slack per job for a loaded
    // machine; left running, the three would cost 3 × 55 s × $0.004 = $0.66.
    expect(total).toBeGreaterThanOrEqual(limitUsd);
    expect(total).toBeLessThan(
      limitUsd + jobs.length * SANDBOX_USD_PER_SECOND * (CHECK_SECONDS + 10),
    );
    // Once every job has reported its final cost and returned its slot, the TenantDO's spend is
    // exactly the sum of the jobs' final costs and nothing is still reserved.
    const budgets = await until(async () => {
      const page = BudgetsSchema.parse(await (await api('/v1/budgets', apiKey)).json());
      const tenant = page.budgets[0];
      return tenant && Math.abs(tenant.spend_usd - total) < 1e-9 && tenant.reserved_usd === 0
        ? tenant
        : undefined;
    });
    expect(budgets).toMatchObject({ scope: 'tenant', limit_usd: limitUsd });
    // Whatever is created now is refused: the spend has reached the budget.
    const res = await api('/v1/jobs', apiKey, {
      method: 'POST',
      body: JSON.stringify(sleepJob(0)),
    });
    expect(res.status).toBe(402);
  }, 120_000);
});

describe('reservations', () => {
  it("are released when the job's slot is, and by the audit when its creation never finished", async () => {
    const { tenantId } = await newTenant('owner');
    const tenant = env.TENANT.getByName(tenantId);
    const month = new Date().toISOString().slice(0, 7);
    await tenant.setTenantBudget(tenantId, 1_000_000);
    const reserve = (jobId: string) =>
      tenant.reserveBudget(tenantId, { jobId, projectId: null, month, reserveMicroUsd: 400_000 });
    const reserved = async () => (await tenant.budgetStatus(tenantId, month, [])).tenant;
    expect(await reserve('job_released')).toEqual({ ok: true });
    expect(await reserve('job_lost')).toEqual({ ok: true });
    // Asking again for the same job (a retried creation) reserves nothing more.
    expect(await reserve('job_lost')).toEqual({ ok: true });
    expect((await reserved()).reservedMicroUsd).toBe(800_000);
    // $0.80 of $1 reserved: a third job fits, and then the budget is taken.
    expect(await reserve('job_third')).toEqual({ ok: true });
    expect(await reserve('job_fourth')).toMatchObject({
      ok: false,
      budget: { scope: 'tenant', reservedMicroUsd: 1_200_000, spendMicroUsd: 0 },
    });
    await tenant.release('job_released');
    await tenant.release('job_third');
    expect((await reserved()).reservedMicroUsd).toBe(400_000);
    // job_lost never got a slot and its Job DO never heard of it: once the grace period is
    // over (moved into the past here), the audit releases its reservation.
    await runInDurableObject(tenant, (_instance, state) => {
      state.storage.sql.exec(
        "UPDATE job_costs SET created_at = created_at - 600000 WHERE job_id = 'job_lost'",
      );
    });
    await tenant.audit();
    expect(await reserved()).toEqual({
      limitMicroUsd: 1_000_000,
      spendMicroUsd: 0,
      reservedMicroUsd: 0,
    });
  });
});

describe("a project's budget", () => {
  it('stops a running job of the project, not the jobs of other projects', async () => {
    const { tenantId, apiKey } = await newTenant('owner');
    const projectId = `prj_${crypto.randomUUID().replaceAll('-', '')}`;
    const now = Date.now();
    // $0.02: 5 s of sandbox.
    await env.DB.prepare(
      `INSERT INTO projects (id, tenant_id, name, is_default, monthly_budget_micro_usd, repo_allow_list, created_at, updated_at)
       VALUES (?, ?, 'small', 0, 20000, '[]', ?, ?)`,
    )
      .bind(projectId, tenantId, now, now)
      .run();
    const capped = await createJob(apiKey, { ...sleepJob(55), project: projectId });
    const free = await createJob(apiKey, sleepJob(55));
    const ended = await waitForEnd(apiKey, capped.id);
    expect(ended.error?.code).toBe('budget_exceeded');
    expect(ended.error?.message).toContain(`the monthly budget of project ${projectId} of $0.02`);
    // The job of the default project (no budget) has not ended (on a slow machine it may still
    // be starting).
    expect(['queued', 'provisioning', 'cloning', 'running']).toContain(
      (await getJob(apiKey, free.id)).status,
    );
    await api(`/v1/jobs/${free.id}/cancel`, apiKey, { method: 'POST' });
    const budgets = BudgetsSchema.parse(await (await api('/v1/budgets', apiKey)).json());
    expect(budgets.budgets).toEqual([
      expect.objectContaining({ scope: 'project', id: projectId, limit_usd: 0.02 }),
    ]);
  });
});

describe('the final ledger', () => {
  it('is retried for as long as D1 refuses it, then written', async () => {
    const { apiKey } = await newTenant('owner');
    const job = await createJob(apiKey, sleepJob(0));
    await waitForEnd(apiKey, job.id);
    const final = await settled(apiKey, job.id);
    const stub = env.JOB.getByName(job.id);
    const pending = () =>
      runInDurableObject(stub, (_, state) =>
        new JobStorage(state.storage)
          .deadlines()
          .map((d) => d.kind)
          .filter((kind) => kind !== 'retention'),
      );
    await expect.poll(pending, { timeout: 20_000 }).toEqual([]);
    // The ledger's writes were lost, and D1 refuses them now: after 30 failures, one more.
    await env.DB.prepare('DELETE FROM usage_ledger WHERE job_id = ?').bind(job.id).run();
    const ledgerDown = (sql: string) => sql.includes('usage_ledger');
    const attempts = await runInDurableObject(stub, async (_, state) => {
      const store = new JobStorage(state.storage);
      store.setDeadline('ledger', Date.now(), 30);
      const cutOff = new JobDO(state, { ...env, DB: failingD1(env.DB, ledgerDown) });
      await cutOff.alarm();
      return store.deadlines().find((d) => d.kind === 'ledger')?.attempts;
    });
    expect(attempts).toBe(31);
    const lines = () =>
      env.DB.prepare('SELECT SUM(cost_micro_usd) AS cost FROM usage_ledger WHERE job_id = ?')
        .bind(job.id)
        .first('cost');
    expect(await lines()).toBeNull();
    // D1 is back when the retry comes: the whole ledger is written, and nothing is left to do.
    await runInDurableObject(stub, (_, state) => {
      new JobStorage(state.storage).setDeadline('ledger', Date.now(), 31);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await lines()).toBe(Math.round(final.cost.total_usd * 1e6));
    expect(await pending()).toEqual([]);
    expect(deadlineAttemptLimit('ledger')).toBeNull();
    expect(deadlineAttemptLimit('budget')).toBeNull();
  });
});
