/** D1 queries on the `jobs` table. Every read filters by tenant: another tenant's job is not found. */
import { and, asc, desc, eq, lt, sql, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import type { JobStatus } from '../domain/jobs.ts';
import { olderThan, toPage, type Cursor } from './page.ts';
import { jobs, unfinishedJob, type JobRow } from './schema.ts';

/**
 * Inserts or updates the row of a job (the Job DO is its only writer). A write older than the
 * row (by `updated_at`, which the Job DO keeps strictly increasing) changes nothing, so two
 * mirror writes that overlap can never leave the older state behind.
 */
export async function upsertJob(d1: D1Database, row: JobRow): Promise<void> {
  const { id: _id, ...rest } = row;
  await drizzle(d1)
    .insert(jobs)
    .values(row)
    .onConflictDoUpdate({
      target: jobs.id,
      set: rest,
      setWhere: sql`${jobs.updatedAt} < excluded.updated_at`,
    });
}

interface ListJobsOptions {
  limit: number;
  cursor?: Cursor | undefined;
  status?: JobStatus | undefined;
  /** Only the jobs of this project. */
  projectId?: string | undefined;
}

/** One page of the tenant's jobs, newest first, and the cursor of the next page. */
export async function listJobs(
  d1: D1Database,
  tenantId: string,
  options: ListJobsOptions,
): Promise<{ rows: JobRow[]; next: Cursor | null }> {
  const filters: Array<SQL | undefined> = [
    eq(jobs.tenantId, tenantId),
    olderThan(options.cursor, jobs.createdAt, jobs.id),
  ];
  if (options.status) filters.push(eq(jobs.status, options.status));
  // No index of its own: the tenant's newest-first index is scanned until a page is full.
  if (options.projectId) filters.push(eq(jobs.projectId, options.projectId));
  const rows = await drizzle(d1)
    .select()
    .from(jobs)
    .where(and(...filters))
    .orderBy(desc(jobs.createdAt), desc(jobs.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ createdAt: row.createdAt, id: row.id }));
}

/**
 * Up to `limit` jobs of any tenant whose row is not final although their time limit ended more
 * than `graceMs` before `now`, oldest first, after `after`. These are rows a mirror write missed
 * (D1 was down when the job ended); the scheduled reconciliation asks their Job DO. Reads only
 * the partial index of unfinished jobs.
 */
export async function listOverdueJobs(
  d1: D1Database,
  now: number,
  graceMs: number,
  after: Cursor | null,
  limit: number,
): Promise<JobRow[]> {
  const cutoff = now - graceMs;
  return drizzle(d1)
    .select()
    .from(jobs)
    .where(
      and(
        unfinishedJob,
        lt(jobs.createdAt, cutoff),
        sql`${jobs.createdAt} + ${jobs.timeoutSeconds} * 1000 < ${cutoff}`,
        after
          ? sql`(${jobs.createdAt}, ${jobs.id}) > (${after.createdAt}, ${after.id})`
          : undefined,
      ),
    )
    .orderBy(asc(jobs.createdAt), asc(jobs.id))
    .limit(limit);
}
