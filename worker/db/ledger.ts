/**
 * D1 queries of the cost ledger (`usage_ledger`, `jobs.cost_micro_usd`), the budget notices and
 * the usage reports. The Job DO writes a job's lines; the TenantDO writes the notices; reads
 * filter by tenant, always.
 */
import { and, asc, desc, eq, gt, inArray, isNotNull, sql, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { toPage, type Cursor } from './page.ts';
import {
  budgetNotices,
  jobs,
  projects,
  usageLedger,
  type BudgetNoticeRow,
  type UsageLedgerRow,
} from './schema.ts';

/**
 * Writes a job's ledger lines and its total in one batch. A line already written with a later
 * `updatedAt` is kept: of two writes that overlap, the newer one stays.
 */
export async function writeLedger(
  d1: D1Database,
  jobId: string,
  lines: readonly UsageLedgerRow[],
  totalMicroUsd: number,
): Promise<void> {
  const db = drizzle(d1);
  const upserts = lines.map((line) => {
    const { jobId: _j, item: _i, model: _m, ...rest } = line;
    return db
      .insert(usageLedger)
      .values(line)
      .onConflictDoUpdate({
        target: [usageLedger.jobId, usageLedger.item, usageLedger.model],
        set: rest,
        setWhere: sql`${usageLedger.updatedAt} <= excluded.updated_at`,
      });
  });
  const total = db.update(jobs).set({ costMicroUsd: totalMicroUsd }).where(eq(jobs.id, jobId));
  await db.batch([total, ...upserts]);
}

/** The ledger totals of some of a tenant's jobs, by job id and item (for job lists). */
export async function jobLedgerLines(
  d1: D1Database,
  tenantId: string,
  jobIds: readonly string[],
): Promise<UsageLedgerRow[]> {
  if (jobIds.length === 0) return [];
  return drizzle(d1)
    .select()
    .from(usageLedger)
    .where(and(eq(usageLedger.tenantId, tenantId), inArray(usageLedger.jobId, [...jobIds])));
}

/** Records notices; one already recorded (same budget, month and threshold) is left as it is. */
export async function insertBudgetNotices(
  d1: D1Database,
  rows: readonly BudgetNoticeRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await drizzle(d1)
    .insert(budgetNotices)
    .values([...rows])
    .onConflictDoNothing();
}

/** The monthly budgets (micro USD, null: none) of some of a tenant's projects. */
export async function projectBudgets(
  d1: D1Database,
  tenantId: string,
  projectIds: readonly string[],
): Promise<Map<string, number | null>> {
  if (projectIds.length === 0) return new Map();
  const rows = await drizzle(d1)
    .select({ id: projects.id, limit: projects.monthlyBudgetMicroUsd })
    .from(projects)
    .where(and(eq(projects.tenantId, tenantId), inArray(projects.id, [...projectIds])));
  return new Map(rows.map((row) => [row.id, row.limit]));
}

/** The tenant's projects that have a budget (at most `max`), by name. */
export async function budgetedProjects(
  d1: D1Database,
  tenantId: string,
  max: number,
): Promise<{ id: string; name: string; limitMicroUsd: number | null }[]> {
  return drizzle(d1)
    .select({ id: projects.id, name: projects.name, limitMicroUsd: projects.monthlyBudgetMicroUsd })
    .from(projects)
    .where(and(eq(projects.tenantId, tenantId), isNotNull(projects.monthlyBudgetMicroUsd)))
    .orderBy(asc(projects.name))
    .limit(max);
}

/** The sort key that orders notices of the same millisecond. */
const noticeKey = sql<string>`${budgetNotices.scope} || '|' || ${budgetNotices.scopeId} || '|' || ${budgetNotices.month} || '|' || ${budgetNotices.threshold}`;

/** One page of the tenant's budget notices, newest first. */
export async function listBudgetNotices(
  d1: D1Database,
  tenantId: string,
  options: { limit: number; cursor?: Cursor | undefined },
): Promise<{ rows: BudgetNoticeRow[]; next: Cursor | null }> {
  const rows = await drizzle(d1)
    .select()
    .from(budgetNotices)
    .where(
      and(
        eq(budgetNotices.tenantId, tenantId),
        options.cursor
          ? sql`(${budgetNotices.createdAt} < ${options.cursor.createdAt} OR (${budgetNotices.createdAt} = ${options.cursor.createdAt} AND ${noticeKey} < ${options.cursor.id}))`
          : undefined,
      ),
    )
    .orderBy(desc(budgetNotices.createdAt), desc(noticeKey))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({
    createdAt: row.createdAt,
    id: `${row.scope}|${row.scopeId}|${row.month}|${row.threshold}`,
  }));
}

/** What a usage report groups by. */
export const usageGroups = ['project', 'user', 'day', 'model'] as const;
export type UsageGroup = (typeof usageGroups)[number];

/** The sandbox's lines in a report grouped by model (they have no model). */
export const SANDBOX_GROUP = '(sandbox)';

/** The grouping key of each group, as SQL (never null: the key orders the pages). */
function groupKey(group: UsageGroup): SQL<string> {
  switch (group) {
    case 'project':
      return sql<string>`COALESCE(${usageLedger.projectId}, '')`;
    case 'user':
      return sql<string>`COALESCE(${usageLedger.actor}, '')`;
    case 'day':
      return sql<string>`${usageLedger.day}`;
    case 'model':
      return sql<string>`CASE WHEN ${usageLedger.item} = 'sandbox' THEN ${SANDBOX_GROUP} ELSE ${usageLedger.model} END`;
  }
}

/** The sums a report shows, for a group or for the whole range. */
const sums = {
  costMicroUsd: sql<number>`COALESCE(SUM(${usageLedger.costMicroUsd}), 0)`,
  llmMicroUsd: sql<number>`COALESCE(SUM(CASE WHEN ${usageLedger.item} = 'llm' THEN ${usageLedger.costMicroUsd} ELSE 0 END), 0)`,
  sandboxMicroUsd: sql<number>`COALESCE(SUM(CASE WHEN ${usageLedger.item} = 'sandbox' THEN ${usageLedger.costMicroUsd} ELSE 0 END), 0)`,
  reportedMicroUsd: sql<number>`COALESCE(SUM(${usageLedger.reportedCostMicroUsd}), 0)`,
  inputTokens: sql<number>`COALESCE(SUM(${usageLedger.inputTokens}), 0)`,
  outputTokens: sql<number>`COALESCE(SUM(${usageLedger.outputTokens}), 0)`,
  cacheWriteTokens: sql<number>`COALESCE(SUM(${usageLedger.cacheWriteTokens}), 0)`,
  cacheReadTokens: sql<number>`COALESCE(SUM(${usageLedger.cacheReadTokens}), 0)`,
  sandboxSeconds: sql<number>`COALESCE(SUM(${usageLedger.sandboxSeconds}), 0)`,
  vcpuSeconds: sql<number>`COALESCE(SUM(${usageLedger.vcpuSeconds}), 0)`,
  gibSeconds: sql<number>`COALESCE(SUM(${usageLedger.gibSeconds}), 0)`,
  jobs: sql<number>`COUNT(DISTINCT ${usageLedger.jobId})`,
};

export type UsageSums = { [K in keyof typeof sums]: number };

interface UsageQuery {
  tenantId: string;
  /** First and last UTC day, YYYY-MM-DD, both included. */
  from: string;
  to: string;
  groupBy: UsageGroup;
  limit: number;
  /** The key of the previous page's last group. */
  after?: string | undefined;
}

/** One page of a usage report: groups in key order, and the key to read on from. */
export async function usageReport(
  d1: D1Database,
  query: UsageQuery,
): Promise<{ groups: Array<UsageSums & { key: string }>; next: string | null; totals: UsageSums }> {
  const db = drizzle(d1);
  const range = and(
    eq(usageLedger.tenantId, query.tenantId),
    sql`${usageLedger.day} BETWEEN ${query.from} AND ${query.to}`,
  );
  const key = groupKey(query.groupBy);
  const [rows, totals] = await Promise.all([
    db
      .select({ key, ...sums })
      .from(usageLedger)
      .where(and(range, query.after === undefined ? undefined : gt(key, query.after)))
      .groupBy(key)
      .orderBy(asc(key))
      .limit(query.limit + 1),
    db.select(sums).from(usageLedger).where(range),
  ]);
  const groups = rows.slice(0, query.limit);
  const last = groups.at(-1);
  return {
    groups,
    next: rows.length > query.limit && last ? last.key : null,
    totals: totals[0] ?? zeroSums(),
  };
}

function zeroSums(): UsageSums {
  return {
    costMicroUsd: 0,
    llmMicroUsd: 0,
    sandboxMicroUsd: 0,
    reportedMicroUsd: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheWriteTokens: 0,
    cacheReadTokens: 0,
    sandboxSeconds: 0,
    vcpuSeconds: 0,
    gibSeconds: 0,
    jobs: 0,
  };
}

/**
 * One page of the tenant's ledger lines in key order (job, item, model), for the tenant export.
 * The cursor's id is the JSON of the last line's key.
 */
export async function listLedgerRows(
  d1: D1Database,
  tenantId: string,
  options: { limit: number; cursor?: Cursor | undefined },
): Promise<{ rows: UsageLedgerRow[]; next: Cursor | null }> {
  const after = options.cursor ? ledgerKeySchema.parse(JSON.parse(options.cursor.id)) : null;
  const rows = await drizzle(d1)
    .select()
    .from(usageLedger)
    .where(
      and(
        eq(usageLedger.tenantId, tenantId),
        after
          ? sql`(${usageLedger.jobId}, ${usageLedger.item}, ${usageLedger.model}) > (${after[0]}, ${after[1]}, ${after[2]})`
          : undefined,
      ),
    )
    .orderBy(asc(usageLedger.jobId), asc(usageLedger.item), asc(usageLedger.model))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({
    createdAt: 0,
    id: JSON.stringify([row.jobId, row.item, row.model]),
  }));
}

const ledgerKeySchema = z.tuple([z.string(), z.string(), z.string()]);
