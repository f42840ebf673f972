/**
 * Output retention: a finished job's output is deleted JOB_OUTPUT_RETENTION_DAYS after it ended,
 * by the `retention` deadline that finish() sets. The job's state (so `GET /v1/jobs/{id}` and its
 * D1 row) stays, and so do its `status` and `exit` events; `stdout`, `stderr`, `truncated` and
 * `agent` events go, which leaves gaps in the event log's `seq` where the output was.
 */
import { jobOutputRetentionDays } from '../../worker/config.ts';
import { log } from '../../worker/lib/log.ts';
import type { JobState } from './state.ts';
import type { JobStorage } from './storage.ts';

const DAY_MS = 24 * 60 * 60_000;
/** Events deleted per alarm run, so that a huge log never holds one alarm for long. */
const RETENTION_BATCH = 5_000;

/**
 * Runs the `retention` deadline at `now`: re-arms it for when the job's output expires (the
 * setting is read each time, so a longer retention also holds back jobs already finished), or
 * deletes one batch of output and re-arms it at once while more is left.
 * @throws ConfigError if JOB_OUTPUT_RETENTION_DAYS is invalid (the deadline retries).
 */
export function expireOutput(store: JobStorage, state: JobState, env: object, now: number): void {
  // Only finish() sets this deadline, and it also sets finishedAt.
  if (state.finishedAt === null) return;
  const expiresAt = state.finishedAt + jobOutputRetentionDays(env) * DAY_MS;
  if (now < expiresAt) {
    store.setDeadline('retention', expiresAt);
    return;
  }
  const deleted = store.deleteOutput(RETENTION_BATCH);
  if (deleted === RETENTION_BATCH) {
    store.setDeadline('retention', now);
    return;
  }
  log('info', 'job output deleted', { job_id: state.id, finished_at: state.finishedAt });
}
