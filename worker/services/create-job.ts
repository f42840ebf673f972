/**
 * Creating a job: validation that needs configuration, the Idempotency-Key, the tenant's
 * running-jobs cap, the Job DO and the audit record, in the order that keeps them consistent.
 */
import type { Context } from 'hono';
import { loadConfig } from '../config.ts';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  purgeExpiredIdempotencyKeys,
  releaseIdempotencyKey,
} from '../db/idempotency.ts';
import type { JobRow } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { audit } from '../lib/audit.ts';
import { canonicalJson, sha256Hex } from '../lib/canonical-json.ts';
import { checkRepoUrl } from '../lib/repo-url.ts';
import type { CreateJobBody } from '../schemas/jobs.ts';
import type { AppEnv } from '../types.ts';

/** Idempotency keys: 1 to 255 visible ASCII characters (a UUID is typical). */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

interface CreatedJob {
  row: JobRow;
  /** True when an earlier request with the same Idempotency-Key created the job. */
  replayed: boolean;
}

function newJobId(): string {
  return `job_${crypto.randomUUID().replaceAll('-', '')}`;
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
  const config = loadConfig(c.env);
  const caller = c.var.caller;
  const repoUrl = checkRepoUrl(body.repo.url, config);
  const timeoutSeconds = body.timeout_seconds ?? config.jobTimeoutSeconds;
  if (timeoutSeconds > config.jobMaxTimeoutSeconds) {
    const message = `must be at most ${config.jobMaxTimeoutSeconds}`;
    throw new ApiError('invalid_request', `timeout_seconds ${message}`, [
      { path: 'timeout_seconds', message },
    ]);
  }

  const now = Date.now();
  const key = idempotencyKey(c);
  let id = newJobId();
  if (key) {
    const requestHash = await sha256Hex(canonicalJson(body));
    const claim = await claimIdempotencyKey(c.env.DB, caller.tenantId, key, requestHash, id, now);
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
    if (claim.kind === 'replay') {
      const row = await c.env.JOB.getByName(claim.jobId).get(caller.tenantId);
      if (row) return { row, replayed: true };
    }
    id = claim.jobId;
    // Now and then, forget keys older than 24 hours.
    if (Math.random() < 0.01) c.executionCtx.waitUntil(purgeExpiredIdempotencyKeys(c.env.DB, now));
  }

  const tenant = c.env.TENANT.getByName(caller.tenantId);
  try {
    const slot = await tenant.acquire(id, config.tenantMaxRunningJobs, body.queue ?? false);
    if (slot === 'rejected') {
      throw new ApiError(
        'concurrency_limit',
        `${config.tenantMaxRunningJobs} jobs are already running for this tenant, the most allowed at once. Retry when one has ended, or send "queue": true to have the job wait for a free slot.`,
      );
    }
    const row = await c.env.JOB.getByName(id).create(
      {
        id,
        tenantId: caller.tenantId,
        repoUrl,
        repoRef: body.repo.ref ?? null,
        command: body.command,
        timeoutSeconds,
        snapshot: config.daytona.snapshot,
        createdBy: caller.actor,
        createdAt: now,
      },
      slot,
    );
    await audit(c, 'job.create', id, { repo_url: repoUrl, queued: slot === 'waiting' });
    if (key) await completeIdempotencyKey(c.env.DB, caller.tenantId, key);
    return { row, replayed: false };
  } catch (error) {
    // Nothing was created that a retry could find: free what this attempt took.
    const active = await c.env.JOB.getByName(id)
      .isActive()
      .catch(() => true);
    if (!active) {
      await tenant.release(id).catch(() => undefined);
      if (key) await releaseIdempotencyKey(c.env.DB, caller.tenantId, key).catch(() => undefined);
    }
    throw error;
  }
}
