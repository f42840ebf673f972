/**
 * The jobs GitHub triggers start: the job body of a trigger (an agent job on the commit to answer,
 * with the installation's agent options), and its creation through the same path as
 * `POST /v1/jobs` (worker/services/create-job.ts: the tenant's budgets, secrets and running-jobs
 * cap apply), on behalf of `github:<sender>`, with an Idempotency-Key from the delivery id so a
 * retried alarm never creates a second job. GitHubAppDO calls this; it knows no HTTP layer.
 */
import { ApiError, errorCodes } from '../errors.ts';
import { auditAs } from '../lib/audit.ts';
import { CreateJobBodySchema, type CreateJobBody } from '../schemas/jobs.ts';
import { createJobFor } from '../services/create-job.ts';
import type { GitHubJobLink, GitHubWork } from './work.ts';

export type { CreateJobBody };

/** The job body of a trigger: the agent, its options from the settings, the repository and ref. */
export function jobBodyOf(
  work: Pick<GitHubWork, 'settings' | 'projectId' | 'prompt'>,
  head: { ref: string; cloneUrl: string },
): CreateJobBody {
  const agent = work.settings.agent;
  return {
    repo: { url: head.cloneUrl, ref: head.ref },
    project: work.projectId,
    agent: {
      prompt: work.prompt,
      ...(agent.model === undefined ? {} : { model: agent.model }),
      ...(agent.max_turns === undefined ? {} : { max_turns: agent.max_turns }),
      ...(agent.max_budget_usd === undefined ? {} : { max_budget_usd: agent.max_budget_usd }),
    },
    ...(agent.timeout_seconds === undefined ? {} : { timeout_seconds: agent.timeout_seconds }),
    // A trigger waits for a free slot rather than being refused.
    queue: true,
  };
}

/** A stored job body (github_jobs.spec) read back, or null when it is not one. */
export function parseJobBody(value: unknown): CreateJobBody | null {
  const parsed = CreateJobBodySchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** What asking for a GitHub job came to. */
export type GitHubJobCreation = { kind: 'created' } | { kind: 'refused'; reason: string };

/** Who asks for the job, and what it answers. */
export interface GitHubJobRequest {
  env: Env;
  tenantId: string;
  sender: string;
  deliveryId: string;
  jobId: string;
  link: GitHubJobLink;
  body: CreateJobBody;
  waitUntil: (promise: Promise<unknown>) => void;
}

/**
 * Why a job was refused, in words for a comment on GitHub: what happened and what to do.
 */
export function refusalReason(error: ApiError): string {
  switch (error.code) {
    case 'payment_required':
      // The message names the budget, its limit and spend, and where to raise it.
      return `${error.message} Then ask again.`;
    default:
      return error.message;
  }
}

/**
 * Creates the job (or finds the one an earlier attempt created). A refusal — budget reached,
 * a missing secret, an invalid body, the tenant deleted — is handed back with its reason.
 * @throws when trying again may help (D1 or a Durable Object failed, a retry still in flight).
 */
export async function createGitHubJob(request: GitHubJobRequest): Promise<GitHubJobCreation> {
  const actor = `github:${request.sender}`;
  const source = { tenantId: request.tenantId, actor, requestId: request.deliveryId, ip: null };
  try {
    await createJobFor(
      {
        env: request.env,
        tenantId: request.tenantId,
        actor,
        requestId: request.deliveryId,
        waitUntil: request.waitUntil,
        audit: (action, target, details) =>
          auditAs(request.env.DB, source, action, target, {
            ...details,
            github_delivery: request.deliveryId,
          }),
        // The idempotency table is per tenant; a retried step finds the job it created.
        idempotencyKey: `github:${request.deliveryId}`,
        jobId: request.jobId,
        github: request.link,
      },
      request.body,
    );
    return { kind: 'created' };
  } catch (error) {
    const refused =
      error instanceof ApiError &&
      errorCodes[error.code].status < 500 &&
      error.code !== 'idempotency_in_flight';
    if (!refused) throw error;
    return { kind: 'refused', reason: refusalReason(error) };
  }
}
