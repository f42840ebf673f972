/** D1 queries on the `jobs` table. Every read filters by tenant: another tenant's job is not found. */
import { and, desc, eq, lt, or, sql, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { jobs, type JobRow, type JobStatus } from './schema.ts';

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

/** Position after which a page starts: the last row of the previous page. */
export interface JobCursor {
  createdAt: number;
  id: string;
}

export interface ListJobsOptions {
  limit: number;
  cursor?: JobCursor | undefined;
  status?: JobStatus | undefined;
}

/** One page of the tenant's jobs, newest first, and the cursor of the next page. */
export async function listJobs(
  d1: D1Database,
  tenantId: string,
  options: ListJobsOptions,
): Promise<{ rows: JobRow[]; next: JobCursor | null }> {
  const filters: SQL[] = [eq(jobs.tenantId, tenantId)];
  if (options.status) filters.push(eq(jobs.status, options.status));
  const cursor = options.cursor;
  if (cursor) {
    const before = or(
      lt(jobs.createdAt, cursor.createdAt),
      and(eq(jobs.createdAt, cursor.createdAt), lt(jobs.id, cursor.id)),
    );
    if (before) filters.push(before);
  }
  const rows = await drizzle(d1)
    .select()
    .from(jobs)
    .where(and(...filters))
    .orderBy(desc(jobs.createdAt), desc(jobs.id))
    .limit(options.limit + 1);
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  const next =
    rows.length > options.limit && last ? { createdAt: last.createdAt, id: last.id } : null;
  return { rows: page, next };
}
