/**
 * Creating a job: validation that needs configuration, the Idempotency-Key, the tenant's
 * running-jobs cap, the Job DO and the audit record, in the order that keeps them consistent.
 * `createJobFor` needs no HTTP request (GitHubAppDO creates jobs from its alarm); `createJob`
 * is the wrapper for `POST /v1/jobs`.
 */
import type { Context } from 'hono';
import type { JobActivity } from '../../durable-objects/job/job-do.ts';
import { loadConfig } from '../config.ts';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  purgeExpiredIdempotencyKeys,
  releaseIdempotencyKey,
} from '../db/idempotency.ts';
import type { JobRow } from '../db/schema.ts';
import type { AuditAction } from '../db/audit.ts';
import { isFinalStatus } from '../domain/jobs.ts';
import { ApiError } from '../errors.ts';
import { audit } from '../lib/audit.ts';
import { canonicalJson, sha256Hex } from '../lib/canonical-json.ts';
import { checkRepoUrl } from '../lib/repo-url.ts';
import type { GitHubJobLink } from '../github/work.ts';
import type { CreateJobBody } from '../schemas/jobs.ts';
import type { AppEnv } from '../types.ts';
import { afterAccept, type WaitUntil } from './after-accept.ts';
import { agentCommand, agentSecretRefs, agentSpecOf, requireAgentSecrets } from './agent-job.ts';
import { requireEnvSecrets } from './job-env.ts';
import { jobProject } from './job-project.ts';
import { reserveBudget } from './job-budget.ts';

/** Idempotency keys: 1 to 255 visible ASCII characters (a UUID is typical). */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface CreatedJob {
  row: JobRow;
  /** True when an earlier request with the same Idempotency-Key created the job. */
  replayed: boolean;
}

function newJobId(): string {
  return `job_${crypto.randomUUID().replaceAll('-', '')}`;
}

/** Who creates a job, and what creating it may use, with or without an HTTP request. */
export interface JobCreation {
  env: Env;
  tenantId: string;
  /** How the audit log and the job name the creator (`key:<id>`, `github:<login>`, ...). */
  actor: string;
  /** Names the creation in log lines. */
  requestId: string;
  waitUntil: WaitUntil;
  /** Records the creation in the audit log (the caller's IP, when there is a request). */
  audit: (action: AuditAction, target: string, details: Record<string, unknown>) => Promise<void>;
  /** Makes creation safe to retry: the same key and body return the same job (24 hours). */
  idempotencyKey: string | null;
  /** The id to give a new job (a caller that must know it beforehand); a fresh one if absent. */
  jobId?: string;
  /** The GitHub App installation and repository the job answers (GitHubAppDO). */
  github?: GitHubJobLink | null;
}

/** Reads and checks the Idempotency-Key header (null when absent). */
function idempotencyKey(c: Context<AppEnv>): string | null {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return null;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new ApiError(
      'invalid_request',
      'Idempotency-Key must be 1 to 255 visible ASCII characters.',
      [{ path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }],
    );
  }
  return key;
}

/** Creates the job `body` describes for the request's caller (or returns the one a retry refers to). */
export async function createJob(c: Context<AppEnv>, body: CreateJobBody): Promise<CreatedJob> {
  const caller = c.var.caller;
  return createJobFor(
    {
      env: c.env,
      tenantId: caller.tenantId,
      actor: caller.actor,
      requestId: c.var.requestId,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
      audit: (action, target, details) => audit(c, action, target, details),
      idempotencyKey: idempotencyKey(c),
    },
    body,
  );
}

/**
 * Creates the job `body` describes for `creation`'s tenant (or returns the one a retry with the
 * same Idempotency-Key refers to).
 * @throws ApiError as `POST /v1/jobs` answers it (400, 402, 409, 422, 429, ...).
 */
export async function createJobFor(
  creation: JobCreation,
  body: CreateJobBody,
): Promise<CreatedJob> {
  const { env: workerEnv, tenantId, waitUntil } = creation;
  const config = loadConfig(workerEnv);
  const repoUrl = checkRepoUrl(body.repo.url, config);
  const timeoutSeconds = body.timeout_seconds ?? config.jobTimeoutSeconds;
  if (timeoutSeconds > config.jobMaxTimeoutSeconds) {
    const message = `must be at most ${config.jobMaxTimeoutSeconds}`;
    throw new ApiError('invalid_request', `timeout_seconds ${message}`, [
      { path: 'timeout_seconds', message },
    ]);
  }

  const env = body.env ?? {};
  await requireEnvSecrets(workerEnv.DB, tenantId, env, workerEnv);
  // An agent job runs the agent CLI: the secrets it needs (its API key, unless `env` names one
  // for it) must exist now too, not fail the job in its sandbox later.
  const agent = body.agent ? agentSpecOf(body.agent) : null;
  const command = agent ? agentCommand(agent) : (body.command ?? '');
  if (agent) await requireAgentSecrets(workerEnv.DB, tenantId, agentSecretRefs(agent, env));

  const { project, sandboxShape, sandboxImage } = await jobProject(
    workerEnv.DB,
    tenantId,
    body.project,
    repoUrl,
    config,
  );

  const now = Date.now();
  const key = creation.idempotencyKey;
  let id = creation.jobId ?? newJobId();
  if (key) {
    const requestHash = await sha256Hex(canonicalJson(body));
    const claim = await claimIdempotencyKey(workerEnv.DB, tenantId, key, requestHash, id, now);
    if (claim.kind === 'mismatch') {
      throw new ApiError(
        'idempotency_mismatch',
        'This Idempotency-Key was already used with a different request body; use a new key for a new job.',
      );
    }
    if (claim.kind === 'in_flight') {
      throw new ApiError(
        'idempotency_in_flight',
        'A request with this Idempotency-Key is still being processed; retry in a moment.',
      );
    }
    if (claim.kind === 'replay' || claim.jobId !== id) {
      // A replay, or the takeover of an attempt that died, perhaps after its job was created.
      const row = await workerEnv.JOB.getByName(claim.jobId).get(tenantId);
      if (row) {
        if (claim.kind === 'proceed') {
          await afterAccept(waitUntil, 'complete the Idempotency-Key', { job_id: row.id }, () =>
            completeIdempotencyKey(workerEnv.DB, tenantId, key),
          );
        }
        return { row, replayed: true };
      }
    }
    id = claim.jobId;
    // Now and then, forget keys older than 24 hours.
    if (Math.random() < 0.01) waitUntil(purgeExpiredIdempotencyKeys(workerEnv.DB, now));
  }

  const tenant = workerEnv.TENANT.getByName(tenantId);
  let row: JobRow;
  let slot: 'running' | 'waiting';
  try {
    // 402 if the tenant's or the project's budget is reached; else the job's share is reserved.
    await reserveBudget(
      workerEnv,
      {
        id,
        tenantId,
        projectId: project.id,
        createdAt: now,
        timeoutSeconds,
        sandboxShape,
        agent: body.agent ? { maxBudgetUsd: body.agent.max_budget_usd ?? null } : null,
      },
      project.monthlyBudgetMicroUsd,
    );
    const acquired = await tenant.acquire(id, config.tenantMaxRunningJobs, body.queue ?? false);
    if (acquired === 'deleted') {
      // This request was authenticated just before its tenant's deletion began.
      throw new ApiError('unauthorized', 'This tenant has been deleted.');
    }
    if (acquired === 'rejected') {
      throw new ApiError(
        'concurrency_limit',
        `${config.tenantMaxRunningJobs} jobs are already running for this tenant, the most allowed at once. Retry when one has ended, or send "queue": true to have the job wait for a free slot.`,
      );
    }
    slot = acquired;
    row = await workerEnv.JOB.getByName(id).create(
      {
        id,
        tenantId,
        repoUrl,
        repoRef: body.repo.ref ?? null,
        command,
        env,
        kind: agent ? 'agent' : 'command',
        agent,
        timeoutSeconds,
        snapshot: config.daytona.snapshot,
        createdBy: creation.actor,
        createdAt: now,
        projectId: project.id,
        sandboxShape,
        sandboxImage,
        github: creation.github ?? null,
      },
      slot,
    );
  } catch (error) {
    // Nothing was created that a retry could find: free what this attempt took. If the Job DO
    // cannot say, keep the slot: TenantDO's audit reclaims it if the job never appears.
    const activity = await workerEnv.JOB.getByName(id)
      .activity()
      .catch((): JobActivity => 'active');
    if (activity === 'unknown') {
      await tenant.release(id).catch(() => undefined);
      if (key) await releaseIdempotencyKey(workerEnv.DB, tenantId, key).catch(() => undefined);
    }
    throw error;
  }

  // The Job DO has accepted the job and runs it: nothing after this may fail the request.
  const fields = { job_id: id, tenant_id: tenantId, request_id: creation.requestId };
  if (isFinalStatus(row.status)) {
    // A retry found the job already ended, and acquire() has just taken a slot for it again.
    waitUntil(tenant.release(id).catch(() => undefined));
  }
  await afterAccept(waitUntil, 'record job.create in the audit log', fields, () =>
    creation.audit('job.create', id, {
      repo_url: repoUrl,
      queued: slot === 'waiting',
      project_id: project.id,
      kind: agent ? 'agent' : 'command',
    }),
  );
  if (key) {
    await afterAccept(waitUntil, 'complete the Idempotency-Key', fields, () =>
      completeIdempotencyKey(workerEnv.DB, tenantId, key),
    );
  }
  return { row, replayed: false };
}
