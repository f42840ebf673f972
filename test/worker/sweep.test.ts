/**
 * The scheduled sweep of orphaned sandboxes, against local-daytona: sandboxes carrying Omni's
 * labels are deleted once their job has ended, or is unknown past the grace period; a sandbox of
 * an active job, or of an unknown job that is young, is left alone, and so is anything unlabelled.
 */
import { createScheduledController } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, afterEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { z } from 'zod';
import type { JobSpec } from '../../durable-objects/job/state.ts';
import worker from '../../worker/index.ts';
import { CRON_SWEEP_SANDBOXES } from '../../worker/scheduled.ts';
import {
  sweepDecision,
  sweepSandboxes,
  UNKNOWN_JOB_SANDBOX_GRACE_MS,
} from '../../worker/services/sweep-sandboxes.ts';
import { newTenant, waitForEnd } from './helpers.ts';

const newJobId = () => `job_${crypto.randomUUID().replaceAll('-', '')}`;
const daytona = (path: string, init: RequestInit = {}) =>
  fetch(`${env.DAYTONA_API_URL}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${env.DAYTONA_API_KEY}`, 'content-type': 'application/json' },
  });

/** Sandboxes this file created, deleted after it whatever happened. */
const created: string[] = [];

/** Creates a sandbox in local-daytona directly, as a stray create of the Job DO would. */
async function sandboxWith(labels: Record<string, string>): Promise<string> {
  const res = await daytona('/sandbox', {
    method: 'POST',
    body: JSON.stringify({ snapshot: 'omni-sandbox', labels }),
  });
  expect(res.status).toBe(200);
  const { id } = z.object({ id: z.string() }).parse(await res.json());
  created.push(id);
  return id;
}

async function exists(sandboxId: string): Promise<boolean> {
  const res = await daytona(`/sandbox/${sandboxId}`);
  await res.body?.cancel();
  if (res.status === 404) return false;
  expect(res.status).toBe(200);
  return true;
}

function spec(tenantId: string, patch: Partial<JobSpec> = {}): JobSpec {
  return {
    id: newJobId(),
    tenantId,
    repoUrl: env.FIXTURE_REPO_URL,
    repoRef: null,
    command: 'true',
    timeoutSeconds: 120,
    snapshot: 'omni-sandbox',
    createdBy: 'key:test',
    createdAt: Date.now(),
    ...patch,
  };
}

const logLineSchema = z.looseObject({ msg: z.string() });
function logged(spy: MockInstance<(...args: unknown[]) => void>): Array<Record<string, unknown>> {
  return spy.mock.calls.flatMap(([line]) => {
    if (typeof line !== 'string' || !line.startsWith('{')) return [];
    const parsed = logLineSchema.safeParse(JSON.parse(line));
    return parsed.success ? [parsed.data] : [];
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  for (const id of created)
    await (await daytona(`/sandbox/${id}`, { method: 'DELETE' })).body?.cancel();
});

describe('orphan sandbox sweep', () => {
  it('deletes the sandbox of an ended job and leaves active, young and foreign ones', async () => {
    const { tenantId, apiKey } = await newTenant();
    const labels = (jobId: string) => ({ 'omni.job': jobId, 'omni.tenant': tenantId });
    // A job that ended, and a sandbox of it that its cleanup did not know of (a late create).
    const ended = spec(tenantId);
    await env.JOB.getByName(ended.id).create(ended);
    expect((await waitForEnd(apiKey, ended.id)).status).toBe('succeeded');
    const orphan = await sandboxWith(labels(ended.id));
    // A job waiting for a slot: active.
    const waiting = spec(tenantId);
    await env.JOB.getByName(waiting.id).create(waiting, 'waiting');
    const active = await sandboxWith(labels(waiting.id));
    const young = await sandboxWith(labels(newJobId()));
    const foreign = await sandboxWith({ team: 'someone else' });
    const malformed = await sandboxWith({ 'omni.job': 'not-a-job-id' });
    const info = vi.spyOn(console, 'log');

    await worker.scheduled(createScheduledController({ cron: CRON_SWEEP_SANDBOXES }), env);

    expect(await exists(orphan)).toBe(false);
    for (const kept of [active, young, foreign, malformed]) expect(await exists(kept)).toBe(true);
    expect(logged(info)).toContainEqual(
      expect.objectContaining({
        msg: 'orphan sandbox deleted',
        sandbox_id: orphan,
        job_id: ended.id,
        tenant_id: tenantId,
        reason: 'job_finished',
      }),
    );
    expect(logged(info)).toContainEqual(
      expect.objectContaining({ msg: 'sandbox sweep finished', complete: true }),
    );
    await env.JOB.getByName(waiting.id).cancel(tenantId, 'key:test');
  });

  it('deletes the sandbox of an unknown job once it is older than the grace period', async () => {
    const { tenantId } = await newTenant();
    const unknownJob = newJobId();
    const stray = await sandboxWith({ 'omni.job': unknownJob, 'omni.tenant': tenantId });
    const waiting = spec(tenantId);
    await env.JOB.getByName(waiting.id).create(waiting, 'waiting');
    const active = await sandboxWith({ 'omni.job': waiting.id, 'omni.tenant': tenantId });

    // Later than the grace period; narrowed to this tenant's sandboxes, which no other test has.
    const summary = await sweepSandboxes(env, {
      now: Date.now() + UNKNOWN_JOB_SANDBOX_GRACE_MS + 60_000,
      labels: { 'omni.tenant': tenantId },
    });

    expect(summary.deleted).toEqual([
      { sandbox_id: stray, job_id: unknownJob, reason: 'job_unknown' },
    ]);
    expect(summary).toMatchObject({ checked: 2, failed: 0, complete: true });
    expect(await exists(stray)).toBe(false);
    expect(await exists(active)).toBe(true);
    // Asking about the unknown job created no storage for it.
    expect(await env.JOB.getByName(unknownJob).activity()).toBe('unknown');
    await env.JOB.getByName(waiting.id).cancel(tenantId, 'key:test');
  });

  it('decides from the job and the sandbox age alone', () => {
    const now = Date.now();
    const old = now - UNKNOWN_JOB_SANDBOX_GRACE_MS;
    expect(sweepDecision('active', old - 1, now)).toBeNull();
    expect(sweepDecision('finished', now, now)).toBe('job_finished');
    expect(sweepDecision('unknown', old, now)).toBe('job_unknown');
    expect(sweepDecision('unknown', old + 1, now)).toBeNull();
    expect(sweepDecision('unknown', null, now)).toBeNull();
  });
});
