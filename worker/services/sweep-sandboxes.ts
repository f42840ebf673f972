/**
 * The scheduled sweep of orphaned sandboxes: Daytona sandboxes carrying Omni's `omni.job` label
 * whose job has ended or does not exist are deleted, and each deletion is logged. A Job DO deletes
 * its own sandbox when its job ends (the `cleanup` deadline); the sweep catches what that misses:
 * a create that answered after the job was canceled, a cleanup that gave up, a Job DO whose
 * storage is gone.
 *
 * One Daytona organisation must serve one Omni deployment: the jobs of another deployment are
 * unknown here, so their sandboxes would be deleted once past the grace period.
 */
import { DaytonaNotFoundError, type Sandbox } from '@daytonaio/sdk';
import type { JobActivity } from '../../durable-objects/job/job-do.ts';
import { daytonaClient } from '../../durable-objects/job/daytona.ts';
import { loadConfig } from '../config.ts';
import { errorFields, log } from '../lib/log.ts';
import { JOB_ID_PATTERN } from '../schemas/jobs.ts';

/** The label the Job DO gives a job's sandbox: the job's id (runner.ts). */
const JOB_LABEL = 'omni.job';
const TENANT_LABEL = 'omni.tenant';
/**
 * A sandbox whose job its Job DO does not know is left alone this long after its creation. The
 * Job DO stores a job before it creates the sandbox, so such a sandbox is not expected at all;
 * the grace only keeps a clock skew or a slow listing from deleting a sandbox being set up.
 */
export const UNKNOWN_JOB_SANDBOX_GRACE_MS = 30 * 60_000;
const PAGE_SIZE = 100;
/** Bounds of one run (sandboxes listed, wall time); a later run carries on. */
const MAX_SANDBOXES_PER_RUN = 1_000;
const TIME_BUDGET_MS = 5 * 60_000;
/** Sandboxes in these states are already on their way out. */
const GONE_STATES: ReadonlySet<string> = new Set(['destroyed', 'destroying']);

/** Why a sandbox was deleted. */
type SweepReason = 'job_finished' | 'job_unknown';

/**
 * Whether to delete a sandbox labelled with a job that is in `activity`, created at `createdAt`
 * (Unix ms, null if Daytona did not say): never while the job is active, always once it has ended,
 * and for an unknown job only past the grace period.
 */
export function sweepDecision(
  activity: JobActivity,
  createdAt: number | null,
  now: number,
): SweepReason | null {
  if (activity === 'finished') return 'job_finished';
  if (activity === 'unknown' && createdAt !== null) {
    return now - createdAt >= UNKNOWN_JOB_SANDBOX_GRACE_MS ? 'job_unknown' : null;
  }
  return null;
}

/** What one run did. */
interface SweepSummary {
  /** Sandboxes carrying a valid `omni.job` label that were looked at. */
  checked: number;
  deleted: Array<{ sandbox_id: string; job_id: string; reason: SweepReason }>;
  /** Sandboxes whose job could not be asked or that could not be deleted. */
  failed: number;
  /** False when a bound stopped the run before the end of the list. */
  complete: boolean;
}

interface SweepOptions {
  /** The clock (tests pass a later one to age sandboxes). */
  now?: number;
  /** Only sandboxes that also carry these labels (tests narrow the sweep to their own). */
  labels?: Record<string, string>;
}

/** Lists Omni's sandboxes, oldest first, and deletes the orphans among them. */
export async function sweepSandboxes(env: Env, options: SweepOptions = {}): Promise<SweepSummary> {
  const started = Date.now();
  const now = options.now ?? started;
  const daytona = daytonaClient(loadConfig(env).daytona);
  const summary: SweepSummary = { checked: 0, deleted: [], failed: 0, complete: false };
  let listed = 0;
  const sandboxes = daytona.list({
    limit: PAGE_SIZE,
    sort: 'createdAt',
    order: 'asc',
    ...(options.labels ? { labels: options.labels } : {}),
  });
  for await (const sandbox of sandboxes) {
    if (++listed > MAX_SANDBOXES_PER_RUN || Date.now() - started > TIME_BUDGET_MS) {
      log('info', 'sandbox sweep stopped at its bound', { listed: listed - 1 });
      return finish(summary, started);
    }
    const jobId = sandbox.labels[JOB_LABEL];
    if (jobId === undefined || !JOB_ID_PATTERN.test(jobId)) continue;
    if (sandbox.state !== undefined && GONE_STATES.has(sandbox.state)) continue;
    summary.checked++;
    await sweepOne(env, sandbox, jobId, now, summary);
  }
  summary.complete = true;
  return finish(summary, started);
}

/** Asks the Job DO of `sandbox`'s job about it and deletes the sandbox if it is an orphan. */
async function sweepOne(
  env: Env,
  sandbox: Sandbox,
  jobId: string,
  now: number,
  summary: SweepSummary,
): Promise<void> {
  const fields = {
    sandbox_id: sandbox.id,
    sandbox_name: sandbox.name,
    job_id: jobId,
    tenant_id: sandbox.labels[TENANT_LABEL] ?? null,
    created_at: sandbox.createdAt ?? null,
  };
  try {
    const activity = await env.JOB.getByName(jobId).activity();
    const createdAt = sandbox.createdAt ? Date.parse(sandbox.createdAt) : NaN;
    const reason = sweepDecision(activity, Number.isNaN(createdAt) ? null : createdAt, now);
    if (reason === null) return;
    await sandbox.delete().catch((error: unknown) => {
      // Gone meanwhile (its Job DO's cleanup, or Daytona's auto-delete): what the sweep wanted.
      if (!(error instanceof DaytonaNotFoundError)) throw error;
    });
    summary.deleted.push({ sandbox_id: sandbox.id, job_id: jobId, reason });
    log('info', 'orphan sandbox deleted', { ...fields, reason });
  } catch (error) {
    summary.failed++;
    log('warn', 'could not sweep a sandbox', { ...fields, ...errorFields(error) });
  }
}

function finish(summary: SweepSummary, started: number): SweepSummary {
  log('info', 'sandbox sweep finished', {
    checked: summary.checked,
    deleted: summary.deleted.length,
    failed: summary.failed,
    complete: summary.complete,
    duration_ms: Date.now() - started,
  });
  return summary;
}
