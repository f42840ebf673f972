/**
 * A tenant's budgets, kept exactly in its TenantDO (docs/cost.md): the month's spend of every
 * job (the last total each job reported), what running jobs have reserved, the tenant's own
 * monthly budget, the project budgets last read from D1, and the notices at 80, 90, 95 and 100 %.
 *
 * A job's whole cost counts in the UTC month it was created in. Every decision reads and writes
 * SQLite without awaiting in between, so concurrent creations and reports of one tenant see one
 * another's effects: two jobs cannot both take the last of a budget.
 */
import { z } from 'zod';
import { insertBudgetNotices, projectBudgets } from '../../worker/db/ledger.ts';
import { errorFields, log } from '../../worker/lib/log.ts';
import { queueWebhookEvent } from '../webhooks/queue.ts';

/** Percent of a budget at which a notice is recorded, once per budget and month. */
export const NOTICE_THRESHOLDS = [80, 90, 95, 100] as const;

/** How long a project budget read from D1 is trusted before it is read again. */
const PROJECT_LIMIT_TTL_MS = 30_000;

/** One budget: which, its limit, and (for a month) its spend and what open jobs reserve. */
export interface BudgetState {
  scope: 'tenant' | 'project';
  /** The tenant id, or the project id. */
  scopeId: string;
  limitMicroUsd: number;
  spendMicroUsd: number;
  reservedMicroUsd: number;
}

/** What a job asks for at creation. */
export interface ReserveRequest {
  jobId: string;
  projectId: string | null;
  /** The UTC month (YYYY-MM) the job counts in. */
  month: string;
  reserveMicroUsd: number;
  /** The project's budget as the caller just read it from D1; absent: read it here. */
  projectLimitMicroUsd?: number | null;
}

/** A budget a job may not be created or keep running under: its spend (and reservations) reached it. */
export type BudgetVerdict = { ok: true } | { ok: false; budget: BudgetState };

const costRowSchema = z.object({ spend: z.number().nullable(), reserved: z.number().nullable() });
const limitRowSchema = z.object({ limit_micro: z.number().nullable(), fetched_at: z.number() });
const noticeRowSchema = z.object({
  scope: z.enum(['tenant', 'project']),
  scope_id: z.string(),
  month: z.string(),
  threshold: z.number(),
  spend: z.number(),
  limit_micro: z.number(),
  created_at: z.number(),
});

export class TenantBudgets {
  private readonly sql: SqlStorage;
  private readonly env: Env;

  constructor(sql: SqlStorage, env: Env) {
    this.sql = sql;
    this.env = env;
    sql.exec(`CREATE TABLE IF NOT EXISTS budget_tenant (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1), tenant_id TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS job_costs (
      job_id TEXT PRIMARY KEY,
      project_id TEXT,
      month TEXT NOT NULL,
      reserve INTEGER NOT NULL,
      accrued INTEGER NOT NULL DEFAULT 0,
      open INTEGER NOT NULL DEFAULT 1,
      created_at INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX IF NOT EXISTS job_costs_month ON job_costs (month, project_id);
    CREATE TABLE IF NOT EXISTS budget_settings (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS project_limits (
      project_id TEXT PRIMARY KEY, limit_micro INTEGER, fetched_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS notices (
      scope TEXT NOT NULL, scope_id TEXT NOT NULL, month TEXT NOT NULL, threshold INTEGER NOT NULL,
      spend INTEGER NOT NULL, limit_micro INTEGER NOT NULL, created_at INTEGER NOT NULL,
      synced INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (scope, scope_id, month, threshold))`);
  }

  /**
   * Remembers whose budgets these are (a Durable Object does not know the name it was reached
   * by): every call that may need it passes the tenant id.
   */
  rememberTenant(tenantId: string): void {
    this.sql.exec(
      'INSERT INTO budget_tenant (singleton, tenant_id) VALUES (1, ?) ON CONFLICT (singleton) DO NOTHING',
      tenantId,
    );
  }

  private tenantId(): string | null {
    const row = this.sql.exec('SELECT tenant_id FROM budget_tenant').toArray()[0];
    return typeof row?.tenant_id === 'string' ? row.tenant_id : null;
  }

  /** The tenant's monthly budget in micro USD, or null: none. */
  tenantLimit(): number | null {
    const row = this.sql
      .exec("SELECT value FROM budget_settings WHERE key = 'tenant_monthly'")
      .toArray()[0];
    return typeof row?.value === 'number' ? row.value : null;
  }

  setTenantLimit(limitMicroUsd: number | null): void {
    if (limitMicroUsd === null) {
      this.sql.exec("DELETE FROM budget_settings WHERE key = 'tenant_monthly'");
    } else {
      this.sql.exec(
        "INSERT INTO budget_settings (key, value) VALUES ('tenant_monthly', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        limitMicroUsd,
      );
    }
  }

  /**
   * Reserves `reserveMicroUsd` for a new job unless the month's spend plus what open jobs
   * reserve has reached the tenant's or the job's project's budget. Asking again for the same
   * job answers ok (a retried creation).
   */
  async reserve(request: ReserveRequest): Promise<BudgetVerdict> {
    if (request.projectId !== null) {
      if (request.projectLimitMicroUsd === undefined) {
        await this.refreshProjectLimit(request.projectId);
      } else {
        this.rememberProjectLimit(request.projectId, request.projectLimitMicroUsd, Date.now());
      }
    }
    // From here on nothing is awaited: the check and the reservation are one step.
    const existing = this.sql
      .exec('SELECT job_id FROM job_costs WHERE job_id = ?', request.jobId)
      .toArray();
    if (existing.length > 0) return { ok: true };
    for (const budget of this.budgetsOf(request.projectId, request.month)) {
      if (budget.spendMicroUsd + budget.reservedMicroUsd >= budget.limitMicroUsd) {
        return { ok: false, budget };
      }
    }
    this.sql.exec(
      'INSERT INTO job_costs (job_id, project_id, month, reserve, created_at) VALUES (?, ?, ?, ?, ?)',
      request.jobId,
      request.projectId,
      request.month,
      request.reserveMicroUsd,
      Date.now(),
    );
    // Months before the previous one take no more reports that matter: forget their jobs.
    this.sql.exec(
      'DELETE FROM job_costs WHERE open = 0 AND month < ?',
      previousMonth(request.month),
    );
    return { ok: true };
  }

  /**
   * Records a job's cost so far (its latest total, not an increment: a repeated report changes
   * nothing), records the notices this crosses (syncNotices() writes them to D1), and says
   * whether a budget of the job is now reached.
   */
  async accrue(
    jobId: string,
    projectId: string | null,
    month: string,
    totalMicroUsd: number,
  ): Promise<BudgetVerdict> {
    if (projectId !== null) await this.refreshProjectLimit(projectId);
    this.sql.exec(
      `INSERT INTO job_costs (job_id, project_id, month, reserve, accrued, open) VALUES (?, ?, ?, 0, ?, 0)
       ON CONFLICT (job_id) DO UPDATE SET accrued = excluded.accrued`,
      jobId,
      projectId,
      month,
      totalMicroUsd,
    );
    let verdict: BudgetVerdict = { ok: true };
    for (const budget of this.budgetsOf(projectId, month)) {
      this.recordNotices(budget, month);
      if (verdict.ok && budget.spendMicroUsd >= budget.limitMicroUsd)
        verdict = { ok: false, budget };
    }
    return verdict;
  }

  /** The job has ended: what it had reserved is no longer held (its spend stays). */
  settle(jobId: string): void {
    this.sql.exec('UPDATE job_costs SET open = 0 WHERE job_id = ?', jobId);
  }

  /**
   * The budgets of `projects` (with the limits the caller just read from D1, which replace the
   * remembered ones) for `month`.
   */
  projectStatus(
    month: string,
    projects: readonly { id: string; limitMicroUsd: number | null }[],
  ): BudgetState[] {
    const now = Date.now();
    for (const project of projects)
      this.rememberProjectLimit(project.id, project.limitMicroUsd, now);
    const states: BudgetState[] = [];
    for (const project of projects) {
      const state = this.projectBudget(project.id, month);
      if (state) states.push(state);
    }
    return states;
  }

  /**
   * Jobs that still hold a reservation but no slot, reserved before `before`: their creation
   * failed after the reservation (and its release was lost), or their slot was reclaimed. The
   * TenantDO's audit asks their Job DOs and settles those that are not running.
   */
  reservationsWithoutSlot(before: number): string[] {
    return this.sql
      .exec(
        'SELECT job_id FROM job_costs WHERE open = 1 AND created_at < ? AND job_id NOT IN (SELECT job_id FROM slots)',
        before,
      )
      .toArray()
      .map((row) => String(row.job_id));
  }

  /** Whether some job holds a reservation but no slot (the audit must look at it). */
  hasReservationsWithoutSlot(): boolean {
    return this.reservationsWithoutSlot(Number.MAX_SAFE_INTEGER).length > 0;
  }

  /** Whether notices wait to be written to D1. */
  hasUnsyncedNotices(): boolean {
    return this.sql.exec('SELECT 1 FROM notices WHERE synced = 0 LIMIT 1').toArray().length > 0;
  }

  /** Writes the notices not yet in D1 there (duplicates are ignored by D1's primary key). */
  async syncNotices(): Promise<void> {
    const tenantId = this.tenantId();
    if (tenantId === null) return;
    const rows = this.sql
      .exec(
        'SELECT scope, scope_id, month, threshold, spend, limit_micro, created_at FROM notices WHERE synced = 0 LIMIT 50',
      )
      .toArray()
      .map((row) => noticeRowSchema.parse(row));
    if (rows.length === 0) return;
    await insertBudgetNotices(
      this.env.DB,
      rows.map((row) => ({
        tenantId,
        scope: row.scope,
        scopeId: row.scope_id,
        month: row.month,
        threshold: row.threshold,
        spendMicroUsd: row.spend,
        limitMicroUsd: row.limit_micro,
        createdAt: row.created_at,
      })),
    );
    // One budget.threshold event per notice; a notice stays unsynced until its event is queued
    // too, and queueing again after a failure sends nothing twice (durable-objects/webhooks/queue.ts).
    for (const row of rows) {
      await queueWebhookEvent(this.env, {
        tenantId,
        type: 'budget.threshold',
        source: `budget:${row.scope}:${row.scope_id}:${row.month}:${row.threshold}`,
        occurredAt: row.created_at,
        data: {
          budget: {
            scope: row.scope,
            ...(row.scope === 'project' ? { project_id: row.scope_id } : {}),
            month: row.month,
            threshold_percent: row.threshold,
            spend_usd: row.spend / 1_000_000,
            limit_usd: row.limit_micro / 1_000_000,
          },
        },
      });
    }
    for (const row of rows) {
      this.sql.exec(
        'UPDATE notices SET synced = 1 WHERE scope = ? AND scope_id = ? AND month = ? AND threshold = ?',
        row.scope,
        row.scope_id,
        row.month,
        row.threshold,
      );
    }
  }

  /** Erases every budget record (the tenant's deletion). */
  eraseAll(): void {
    for (const table of [
      'job_costs',
      'budget_settings',
      'project_limits',
      'notices',
      'budget_tenant',
    ]) {
      this.sql.exec(`DELETE FROM ${table}`);
    }
  }

  /** The budgets a job of `projectId` counts against, for `month`. */
  private budgetsOf(projectId: string | null, month: string): BudgetState[] {
    const budgets: BudgetState[] = [];
    const tenant = this.tenantBudget(month);
    if (tenant) budgets.push(tenant);
    const project = projectId === null ? null : this.projectBudget(projectId, month);
    if (project) budgets.push(project);
    return budgets;
  }

  private tenantBudget(month: string): BudgetState | null {
    const limit = this.tenantLimit();
    const tenantId = this.tenantId();
    if (limit === null || tenantId === null) return null;
    return { scope: 'tenant', scopeId: tenantId, limitMicroUsd: limit, ...this.costs(month, null) };
  }

  private projectBudget(projectId: string, month: string): BudgetState | null {
    const row = this.sql
      .exec('SELECT limit_micro, fetched_at FROM project_limits WHERE project_id = ?', projectId)
      .toArray()[0];
    const limit = row ? limitRowSchema.parse(row).limit_micro : null;
    if (limit === null) return null;
    return {
      scope: 'project',
      scopeId: projectId,
      limitMicroUsd: limit,
      ...this.costs(month, projectId),
    };
  }

  /** Spend and open reservations of `month`, of the whole tenant or (`projectId`) of one project. */
  costs(
    month: string,
    projectId: string | null,
  ): { spendMicroUsd: number; reservedMicroUsd: number } {
    const row = costRowSchema.parse(
      this.sql
        .exec(
          `SELECT SUM(accrued) AS spend,
                  SUM(CASE WHEN open = 1 AND reserve > accrued THEN reserve - accrued ELSE 0 END) AS reserved
           FROM job_costs WHERE month = ? AND (? IS NULL OR project_id = ?)`,
          month,
          projectId,
          projectId,
        )
        .one(),
    );
    return { spendMicroUsd: row.spend ?? 0, reservedMicroUsd: row.reserved ?? 0 };
  }

  /** Records each threshold `budget` has reached this month, once. */
  private recordNotices(budget: BudgetState, month: string): void {
    const now = Date.now();
    for (const threshold of NOTICE_THRESHOLDS) {
      if (budget.spendMicroUsd * 100 < budget.limitMicroUsd * threshold) break;
      const inserted = this.sql.exec(
        `INSERT INTO notices (scope, scope_id, month, threshold, spend, limit_micro, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        budget.scope,
        budget.scopeId,
        month,
        threshold,
        budget.spendMicroUsd,
        budget.limitMicroUsd,
        now,
      ).rowsWritten;
      if (inserted > 0) {
        log('info', 'budget notice', {
          tenant_id: this.tenantId(),
          scope: budget.scope,
          scope_id: budget.scopeId,
          month,
          threshold,
          spend_micro_usd: budget.spendMicroUsd,
          limit_micro_usd: budget.limitMicroUsd,
        });
      }
    }
  }

  /**
   * Reads the project's budget from D1 if the remembered one is older than a few seconds. If D1
   * cannot be read, the remembered budget stands; a budget never read is read again next time.
   */
  private async refreshProjectLimit(projectId: string): Promise<void> {
    const tenantId = this.tenantId();
    if (tenantId === null) return;
    const row = this.sql
      .exec('SELECT limit_micro, fetched_at FROM project_limits WHERE project_id = ?', projectId)
      .toArray()[0];
    const now = Date.now();
    if (row && now - limitRowSchema.parse(row).fetched_at < PROJECT_LIMIT_TTL_MS) return;
    try {
      const limits = await projectBudgets(this.env.DB, tenantId, [projectId]);
      this.rememberProjectLimit(projectId, limits.get(projectId) ?? null, now);
    } catch (error) {
      log('warn', 'could not read a project budget; using the last one read', {
        tenant_id: tenantId,
        project_id: projectId,
        ...errorFields(error),
      });
    }
  }

  private rememberProjectLimit(projectId: string, limit: number | null, now: number): void {
    this.sql.exec(
      `INSERT INTO project_limits (project_id, limit_micro, fetched_at) VALUES (?, ?, ?)
       ON CONFLICT (project_id) DO UPDATE SET limit_micro = excluded.limit_micro, fetched_at = excluded.fetched_at`,
      projectId,
      limit,
      now,
    );
  }
}

/** The month (YYYY-MM) before `month`. */
export function previousMonth(month: string): string {
  const [year = 0, number = 1] = month.split('-').map(Number);
  const date = new Date(Date.UTC(year, number - 2, 1));
  return date.toISOString().slice(0, 7);
}
