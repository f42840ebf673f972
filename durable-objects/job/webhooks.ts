/**
 * The job's webhook events: `job.started` once it ran, and `job.<final status>` once it ended.
 * Queued from the `webhook` deadline, which the record sets in the same transaction as the
 * status change, so an event survives an eviction or a D1 outage; queueing twice is harmless
 * (durable-objects/webhooks/queue.ts). A job from GitHub is also reported to its installation's
 * GitHubAppDO at the same points (jobChanged, idempotent, latest wins); its end once the push of
 * its changes is recorded, when the record sets the deadline again.
 */
import { isTerminal } from './decisions.ts';
import type { JobState } from './state.ts';
import { queueWebhookEvent } from '../webhooks/queue.ts';
import type { WebhookEvent } from '../../worker/db/schema.ts';
import { gitHubAppObjectName } from '../../worker/github/work.ts';
import { gitHubUpdate } from './github.ts';

const finalEvents: Partial<Record<JobState['status'], WebhookEvent>> = {
  succeeded: 'job.succeeded',
  failed: 'job.failed',
  canceled: 'job.canceled',
  timed_out: 'job.timed_out',
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What a job event says about the job: ids, status and times; no command, prompt or env. */
function jobData(state: JobState): Record<string, unknown> {
  return {
    job: {
      id: state.id,
      kind: state.kind,
      project_id: state.projectId,
      status: state.status,
      exit_code: state.exitCode,
      error: state.errorCode ? { code: state.errorCode, message: state.errorMessage } : null,
      cost_usd: state.costMicroUsd / 1_000_000,
      created_at: iso(state.createdAt),
      started_at: iso(state.runningAt),
      finished_at: iso(state.finishedAt),
    },
  };
}

/**
 * Queues the events the job's state implies (started, ended) and tells GitHubAppDO of a GitHub
 * job; throws if either could not be done (the deadline then runs again, doing both again).
 */
export async function queueJobEvents(env: Env, state: JobState): Promise<void> {
  await queueWebhookEvents(env, state);
  const update = gitHubUpdate(state);
  if (state.github !== null && update !== null) {
    await env.GITHUB.getByName(gitHubAppObjectName(state.github.installationId)).jobChanged(update);
  }
}

/** Queues the webhook events the job's state implies. */
async function queueWebhookEvents(env: Env, state: JobState): Promise<void> {
  if (state.runningAt !== null) {
    await queueWebhookEvent(env, {
      tenantId: state.tenantId,
      type: 'job.started',
      source: `job:${state.id}:job.started`,
      occurredAt: state.runningAt,
      data: jobData({
        ...state,
        status: 'running',
        exitCode: null,
        errorCode: null,
        errorMessage: null,
        finishedAt: null,
      }),
    });
  }
  const final = finalEvents[state.status];
  if (final && isTerminal(state) && state.finishedAt !== null) {
    await queueWebhookEvent(env, {
      tenantId: state.tenantId,
      type: final,
      source: `job:${state.id}:${final}`,
      occurredAt: state.finishedAt,
      data: jobData(state),
    });
  }
}
