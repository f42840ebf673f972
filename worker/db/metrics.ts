/**
 * The aggregate reads behind GET /metrics: two queries over every tenant, sent in one D1 batch.
 * The first reads each `jobs` row once and groups them by kind, status and error code, with
 * the histogram buckets of each group counted in the same pass (`SUM(duration <= bound)`); the
 * second sums `usage_ledger` by item. Neither can use an index (they read every row), so a
 * scrape reads about as many rows as there are jobs and ledger lines: `rowsRead` says how many.
 */
import { z } from 'zod';

/** A histogram measured from job rows: a duration in milliseconds between two timestamps. */
export interface Timing {
  /** Column-name prefix of its buckets in the query. */
  key: string;
  /** The SQL expression of the duration in ms; NULL when the job did not get that far. */
  sql: string;
  /** Upper bounds, in seconds, ascending. */
  bounds: readonly number[];
}

/** Buckets of whole jobs: from a few seconds to the longest time limit (2 h by default). */
const JOB_BOUNDS = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200] as const;
/** Buckets of one phase of a job: sandbox creation and clones take seconds to minutes. */
const PHASE_BOUNDS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600] as const;

/** Created to finished, for jobs that have ended. */
export const JOB_DURATION: Timing = {
  key: 'd',
  sql: 'finished_at - created_at',
  bounds: JOB_BOUNDS,
};

/** The phases of a job's sandbox, in order, each from the timestamp of one status to the next. */
export const PHASES = {
  /** Created to `provisioning`: waiting for a running slot and for Daytona to be admitted. */
  queue: { key: 'q', sql: 'provisioning_at - created_at', bounds: PHASE_BOUNDS },
  /** `provisioning` to `cloning`: Daytona creating (or adopting) the sandbox. */
  create: { key: 'c', sql: 'cloning_at - provisioning_at', bounds: PHASE_BOUNDS },
  /** `cloning` to `running`: the repository clone. */
  clone: { key: 'g', sql: 'running_at - cloning_at', bounds: PHASE_BOUNDS },
  /** `running` to the command's first output (stdout or stderr); jobs that printed nothing have none. */
  first_output: { key: 'o', sql: 'first_output_at - running_at', bounds: PHASE_BOUNDS },
} as const satisfies Record<string, Timing>;

const TIMINGS: readonly Timing[] = [JOB_DURATION, ...Object.values(PHASES)];

/** The SQL columns of one timing: a cumulative count per bound, the count and the sum in ms. */
function timingColumns(t: Timing): string[] {
  const buckets = t.bounds.map((bound, i) => `SUM((${t.sql}) <= ${bound * 1000}) AS ${t.key}${i}`);
  return [...buckets, `COUNT(${t.sql}) AS ${t.key}_count`, `SUM(${t.sql}) AS ${t.key}_sum`];
}

const JOBS_SQL = `SELECT kind, status, error_code, COUNT(*) AS jobs, ${TIMINGS.flatMap(
  timingColumns,
).join(', ')} FROM jobs GROUP BY kind, status, error_code`;

const LEDGER_SQL =
  'SELECT item, SUM(cost_micro_usd) AS micro_usd FROM usage_ledger GROUP BY item ORDER BY item';

/** A histogram's counts read back for one group of jobs. */
export interface TimingCounts {
  buckets: number[];
  count: number;
  sumMs: number;
}

/** One group of job rows. */
export interface JobGroup {
  kind: string;
  status: string;
  errorCode: string | null;
  jobs: number;
  timings: Map<Timing, TimingCounts>;
}

export interface MetricsRows {
  groups: JobGroup[];
  /** Spend in micro USD per ledger item. */
  spend: Array<{ item: string; microUsd: number }>;
  /** What D1 reported reading for both queries (`meta.rows_read`). */
  rowsRead: number;
}

/** A SUM over no rows (or over NULLs) is NULL: zero here. */
const count = z
  .number()
  .nullable()
  .transform((v) => v ?? 0);

const GroupSchema = z.object({
  kind: z.string(),
  status: z.string(),
  error_code: z.string().nullable(),
  jobs: z.number(),
});

const SpendSchema = z.object({ item: z.string(), micro_usd: count });

function timingCounts(row: Record<string, unknown>, t: Timing): TimingCounts {
  return {
    buckets: t.bounds.map((_, i) => count.parse(row[`${t.key}${i}`])),
    count: count.parse(row[`${t.key}_count`]),
    sumMs: count.parse(row[`${t.key}_sum`]),
  };
}

/** Reads the aggregates of every tenant's jobs and spend, in one round trip. */
export async function readMetricsRows(db: D1Database): Promise<MetricsRows> {
  const [jobs, ledger] = await db.batch<Record<string, unknown>>([
    db.prepare(JOBS_SQL),
    db.prepare(LEDGER_SQL),
  ]);
  if (!jobs || !ledger) throw new Error('D1 answered the metrics batch with too few results');
  const groups = jobs.results.map((row) => {
    const g = GroupSchema.parse(row);
    return {
      kind: g.kind,
      status: g.status,
      errorCode: g.error_code,
      jobs: g.jobs,
      timings: new Map(TIMINGS.map((t) => [t, timingCounts(row, t)])),
    };
  });
  const spend = ledger.results.map((row) => {
    const s = SpendSchema.parse(row);
    return { item: s.item, microUsd: s.micro_usd };
  });
  return { groups, spend, rowsRead: jobs.meta.rows_read + ledger.meta.rows_read };
}
