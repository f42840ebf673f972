/**
 * The scheduled reconciliation of D1 with the Job DOs. A Job DO writes its job's D1 row on every
 * change and retries a failed write (its `sync` deadline) for as long as it takes; this is the net
 * behind that: rows still unfinished well after their job's time limit are refreshed from their
 * Job DO, which holds the truth. upsertJob never goes back in time, so a refresh that races the
 * DO's own write changes nothing.
 */
import { listOverdueJobs, upsertJob } from '../db/jobs.ts';
import type { Cursor } from '../db/page.ts';
import { isFinalStatus } from '../domain/jobs.ts';
import { errorFields, log } from '../lib/log.ts';

/** How long after its time limit a job's row must have been final: the DO ends it at the limit. */
const RECONCILE_GRACE_MS = 10 * 60_000;
const PAGE_SIZE = 100;
/** Bounds of one run; a later run carries on with what is left. */
const MAX_PAGES = 10;
const TIME_BUDGET_MS = 2 * 60_000;

/** What one run did. */
interface ReconcileSummary {
  /** Overdue rows looked at. */
  checked: number;
  /** Rows rewritten from their Job DO. */
  updated: number;
  /** Jobs whose Job DO says they still run, past their time limit and the grace. */
  stuck: number;
  /** Rows whose Job DO holds no job. */
  missing: number;
  /** Rows that could not be checked (the Job DO or D1 failed). */
  failed: number;
}

/** Refreshes overdue unfinished job rows from their Job DOs; logs each change and a summary. */
export async function reconcileJobs(env: Env): Promise<ReconcileSummary> {
  const started = Date.now();
  const summary: ReconcileSummary = { checked: 0, updated: 0, stuck: 0, missing: 0, failed: 0 };
  let after: Cursor | null = null;
  for (let page = 0; page < MAX_PAGES && Date.now() - started < TIME_BUDGET_MS; page++) {
    const rows = await listOverdueJobs(env.DB, started, RECONCILE_GRACE_MS, after, PAGE_SIZE);
    for (const row of rows) {
      summary.checked++;
      const fields = { job_id: row.id, tenant_id: row.tenantId, d1_status: row.status };
      try {
        const truth = await env.JOB.getByName(row.id).get(row.tenantId);
        if (!truth) {
          summary.missing++;
          log('warn', 'job row has no Job DO', fields);
          continue;
        }
        if (truth.updatedAt > row.updatedAt) {
          await upsertJob(env.DB, truth);
          summary.updated++;
          log('info', 'job row reconciled', { ...fields, status: truth.status });
        }
        if (!isFinalStatus(truth.status)) {
          summary.stuck++;
          log('warn', 'job is past its time limit and has not ended', {
            ...fields,
            status: truth.status,
          });
        }
      } catch (error) {
        summary.failed++;
        log('warn', 'could not reconcile a job row', { ...fields, ...errorFields(error) });
      }
    }
    const last = rows.at(-1);
    if (!last || rows.length < PAGE_SIZE) break;
    after = { createdAt: last.createdAt, id: last.id };
  }
  log('info', 'job rows reconciled', { ...summary, duration_ms: Date.now() - started });
  return summary;
}
