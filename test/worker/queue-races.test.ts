/**
 * Races between a tenant's TenantDO and its jobs' Job DOs: a slot granted before the job's Job DO
 * exists, the audit that reclaims leaked slots, and the slot of a job that ended.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { JobSpec } from '../../durable-objects/job/state.ts';
import { UNKNOWN_JOB_GRACE_MS } from '../../durable-objects/tenant/tenant-do.ts';
import { newTenant, waitForEnd } from './helpers.ts';

const newJobId = () => `job_${crypto.randomUUID().replaceAll('-', '')}`;

function spec(tenantId: string, patch: Partial<JobSpec> = {}): JobSpec {
  return {
    id: newJobId(),
    tenantId,
    repoUrl: env.FIXTURE_REPO_URL,
    repoRef: null,
    command: 'echo my turn',
    timeoutSeconds: 120,
    snapshot: 'omni-sandbox',
    createdBy: 'key:test',
    createdAt: Date.now(),
    ...patch,
  };
}

type TenantStub = ReturnType<typeof env.TENANT.getByName>;

/** Makes the TenantDO's five-minute audit due now and runs its alarm, as the runtime would. */
async function runAudit(tenant: TenantStub): Promise<void> {
  await runInDurableObject(tenant, (_, state) => {
    state.storage.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('audit_at', 0) ON CONFLICT (key) DO UPDATE SET value = 0",
    );
  });
  expect(await runDurableObjectAlarm(tenant)).toBe(true);
}

describe('queue races', () => {
  it('starts a queued job whose slot was granted before its Job DO was created', async () => {
    const { tenantId, apiKey } = await newTenant();
    const tenant = env.TENANT.getByName(tenantId);
    const blocker = newJobId();
    const queued = spec(tenantId);
    expect(await tenant.acquire(blocker, 1, false)).toBe('running');
    expect(await tenant.acquire(queued.id, 1, true)).toBe('waiting');
    // The running job ends while the queued job's creation is still on its way to its Job DO.
    await tenant.release(blocker);
    expect(await tenant.usage()).toEqual({ running: 1, waiting: 0 });
    const job = env.JOB.getByName(queued.id);
    await job.create(queued, 'waiting');

    await expect
      .poll(async () => (await job.get(tenantId))?.status, { timeout: 30_000 })
      .toBe('succeeded');
    expect((await waitForEnd(apiKey, queued.id)).exit_code).toBe(0);
    await expect
      .poll(() => tenant.usage(), { timeout: 20_000 })
      .toEqual({ running: 0, waiting: 0 });
  });

  it('keeps counting a job whose slot was taken before its Job DO exists, so the cap holds', async () => {
    const { tenantId } = await newTenant();
    const tenant = env.TENANT.getByName(tenantId);
    const creating = newJobId();
    expect(await tenant.acquire(creating, 1, false)).toBe('running');

    await runAudit(tenant);
    expect(await tenant.usage()).toEqual({ running: 1, waiting: 0 });
    expect(await tenant.acquire(newJobId(), 1, false)).toBe('rejected');
  });

  it('reclaims the slot of a job that was never created once the grace period is over', async () => {
    const { tenantId } = await newTenant();
    const tenant = env.TENANT.getByName(tenantId);
    const abandoned = newJobId();
    const waiting = newJobId();
    expect(await tenant.acquire(abandoned, 1, false)).toBe('running');
    expect(await tenant.acquire(waiting, 1, true)).toBe('waiting');
    // Both requests died before creating their jobs, longer ago than the grace period.
    await runInDurableObject(tenant, (_, state) => {
      state.storage.sql.exec(
        'UPDATE slots SET created_at = ?',
        Date.now() - UNKNOWN_JOB_GRACE_MS - 1,
      );
    });

    await runAudit(tenant);
    expect(await tenant.usage()).toEqual({ running: 0, waiting: 0 });
    expect(await tenant.acquire(newJobId(), 1, false)).toBe('running');
  });

  it('reclaims a slot held by a job that has ended', async () => {
    const { tenantId, apiKey } = await newTenant();
    const tenant = env.TENANT.getByName(tenantId);
    const s = spec(tenantId, { command: 'true' });
    expect(await tenant.acquire(s.id, 1, false)).toBe('running');
    await env.JOB.getByName(s.id).create(s);
    await waitForEnd(apiKey, s.id);
    await expect
      .poll(() => tenant.usage(), { timeout: 20_000 })
      .toEqual({ running: 0, waiting: 0 });
    // A slot taken again for the ended job (say by a late retry of its creation) is reclaimed.
    expect(await tenant.acquire(s.id, 1, false)).toBe('running');

    await runAudit(tenant);
    expect(await tenant.usage()).toEqual({ running: 0, waiting: 0 });
  });

  it('gives the slot of a queued job that ended while it waited to the next one', async () => {
    const { tenantId, apiKey } = await newTenant();
    const tenant = env.TENANT.getByName(tenantId);
    const blocker = newJobId();
    const canceled = spec(tenantId);
    const next = spec(tenantId);
    expect(await tenant.acquire(blocker, 1, false)).toBe('running');
    for (const s of [canceled, next]) {
      expect(await tenant.acquire(s.id, 1, true)).toBe('waiting');
      await env.JOB.getByName(s.id).create(s, 'waiting');
    }
    expect((await env.JOB.getByName(canceled.id).cancel(tenantId, 'key:test'))?.canceled).toBe(
      true,
    );
    await expect
      .poll(() => tenant.usage(), { timeout: 20_000 })
      .toEqual({ running: 1, waiting: 1 });

    await tenant.release(blocker);
    expect((await waitForEnd(apiKey, next.id)).status).toBe('succeeded');
    await expect
      .poll(() => tenant.usage(), { timeout: 20_000 })
      .toEqual({ running: 0, waiting: 0 });
  });
});
