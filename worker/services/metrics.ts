/**
 * The metrics of GET /metrics: every tenant's jobs and spend, computed from D1 (the rows every
 * isolate and Job DO share, so each answer is right whichever isolate gives it) and kept for a
 * few seconds per isolate, so that a burst of scrapes costs one D1 batch. docs/operations.md
 * lists the metrics and what a scrape costs.
 */
import { isFinalStatus, jobErrorCodes, jobKinds, jobStatuses } from '../domain/jobs.ts';
import {
  JOB_DURATION,
  PHASES,
  readMetricsRows,
  type MetricsRows,
  type Timing,
} from '../db/metrics.ts';
import {
  renderFamilies,
  type Family,
  type HistogramSeries,
  type Sample,
} from '../lib/prometheus.ts';

/** How long one isolate answers from the last read. */
export const METRICS_CACHE_MS = 5_000;

const ledgerItems = ['llm', 'sandbox'] as const;

/** Adds `value` to the sample of `key` in `map`, creating it with `labels`. */
function add(map: Map<string, Sample>, labels: Record<string, string>, value: number): void {
  const key = JSON.stringify(labels);
  const sample = map.get(key) ?? { labels, value: 0 };
  map.set(key, { labels, value: sample.value + value });
}

/** Sums the counts of `timing` over the groups `keep` selects. */
function histogram(
  rows: MetricsRows,
  timing: Timing,
  labels: Record<string, string>,
  keep: (group: MetricsRows['groups'][number]) => boolean,
): HistogramSeries {
  const buckets = timing.bounds.map(() => 0);
  let count = 0;
  let sumMs = 0;
  for (const group of rows.groups) {
    const t = group.timings.get(timing);
    if (!t || !keep(group)) continue;
    t.buckets.forEach((n, i) => (buckets[i] = (buckets[i] ?? 0) + n));
    count += t.count;
    sumMs += t.sumMs;
  }
  return { labels, buckets, count, sum: sumMs / 1000 };
}

/** The metric families of `rows`; known label values are present even at zero. */
export function metricFamilies(rows: MetricsRows): Family[] {
  const created = new Map<string, Sample>();
  const active = new Map<string, Sample>();
  const finished = new Map<string, Sample>();
  const errors = new Map<string, Sample>();
  for (const kind of jobKinds) add(created, { kind }, 0);
  const finalStatuses = jobStatuses.filter(isFinalStatus);
  for (const status of jobStatuses.filter((s) => !isFinalStatus(s))) add(active, { status }, 0);
  for (const kind of jobKinds)
    for (const status of finalStatuses) add(finished, { kind, status }, 0);
  for (const code of jobErrorCodes) add(errors, { code }, 0);
  const spend = new Map<string, Sample>();
  for (const item of ledgerItems) add(spend, { item }, 0);

  for (const g of rows.groups) {
    add(created, { kind: g.kind }, g.jobs);
    const final = (finalStatuses as readonly string[]).includes(g.status);
    if (final) add(finished, { kind: g.kind, status: g.status }, g.jobs);
    else add(active, { status: g.status }, g.jobs);
    if (g.errorCode !== null) add(errors, { code: g.errorCode }, g.jobs);
  }
  for (const s of rows.spend) add(spend, { item: s.item }, s.microUsd / 1_000_000);

  const durations = jobKinds.flatMap((kind) =>
    finalStatuses.map((status) =>
      histogram(
        rows,
        JOB_DURATION,
        { kind, status },
        (g) => g.kind === kind && g.status === status,
      ),
    ),
  );
  const phases = Object.entries(PHASES).map(([phase, timing]) =>
    histogram(rows, timing, { phase }, () => true),
  );

  return [
    {
      type: 'counter',
      name: 'omni_jobs_created_total',
      help: 'Jobs created, by kind (command or agent).',
      samples: [...created.values()],
    },
    {
      type: 'gauge',
      name: 'omni_jobs_active',
      help: 'Jobs that have not ended, by status.',
      samples: [...active.values()],
    },
    {
      type: 'counter',
      name: 'omni_jobs_finished_total',
      help: 'Jobs that ended, by kind and final status.',
      samples: [...finished.values()],
    },
    {
      type: 'counter',
      name: 'omni_job_errors_total',
      help: 'Jobs that ended with an error code, by code (sandbox_create_failed, sandbox_error, clone_failed and stalled are Daytona failures).',
      samples: [...errors.values()],
    },
    {
      type: 'histogram',
      name: 'omni_job_duration_seconds',
      help: 'Time from creation to end of jobs that ended, by kind and final status.',
      bounds: JOB_DURATION.bounds,
      series: durations,
    },
    {
      type: 'histogram',
      name: 'omni_job_phase_seconds',
      help: "Time a job spent in one phase of its sandbox: queue (created to provisioning), create (the sandbox), clone (the repository), first_output (running to the command's first output).",
      bounds: PHASES.queue.bounds,
      series: phases,
    },
    {
      type: 'counter',
      name: 'omni_spend_usd_total',
      help: 'Cost of jobs in US dollars from the cost ledger, by item (llm or sandbox).',
      samples: [...spend.values()],
    },
    {
      type: 'gauge',
      name: 'omni_metrics_d1_rows_read',
      help: 'Rows D1 read to compute these metrics (one batch of two queries).',
      samples: [{ labels: {}, value: rows.rowsRead }],
    },
  ];
}

let cached: { at: number; text: Promise<string> } | null = null;

/**
 * The exposition text, from the last read if it is younger than METRICS_CACHE_MS. Concurrent
 * scrapes share one read; a failed read is not kept.
 */
export function metricsText(db: D1Database, now = Date.now()): Promise<string> {
  if (cached && now - cached.at < METRICS_CACHE_MS) return cached.text;
  const text = readMetricsRows(db).then((rows) => renderFamilies(metricFamilies(rows)));
  const entry = { at: now, text };
  cached = entry;
  text.catch(() => {
    if (cached === entry) cached = null;
  });
  return text;
}

/** Forgets the cached answer (tests). */
export function clearMetricsCache(): void {
  cached = null;
}
