/**
 * Stopped means stopped: a cancel or a timeout wins over whatever step is in flight, even one
 * stuck in a Daytona call that never answers; nothing runs, is written or is told afterwards.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  addFaults,
  newJobId,
  removeFaults,
  sandboxStats,
  startJob,
  waitForStatus,
} from './faults.ts';
import { allEvents, api, newTenant } from './helpers.ts';

const final = (s: string) => ['succeeded', 'failed', 'timed_out', 'canceled'].includes(s);

/** Waits until local-daytona has deleted the sandbox and none of its processes live. */
async function expectNothingLeft(sandbox: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const stats = await sandboxStats(sandbox);
        return stats.every((s) => s.state === 'destroyed' && s.processesAlive === 0);
      },
      { timeout: 30_000 },
    )
    .toBe(true);
}

/** The events after the final status event (must be none). */
function afterFinal(events: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  const last = events.findLastIndex((e) => e.type === 'status' && final(String(e.status)));
  return events.slice(last + 1);
}

/** The clone runs git through Daytona's one-shot process API (durable-objects/job/clone.ts). */
const CLONE = '/toolbox/:id/process/execute';

describe('stopped means stopped', () => {
  it('a job canceled while its repository is cloning stays canceled and never runs its command', async () => {
    const { apiKey, tenantId } = await newTenant();
    const { id, sandbox } = newJobId();
    // The clone answers only after 3 s: the step is in flight when the cancel lands.
    const faults = await addFaults({
      action: 'delay',
      path: CLONE,
      sandbox,
      ms: 3000,
    });
    try {
      await startJob(id, tenantId, 'echo ran > ran.txt; echo ran');
      await waitForStatus(id, tenantId, (s) => s === 'cloning');
      const res = await api(`/v1/jobs/${id}/cancel`, apiKey, { method: 'POST' });
      expect(res.status).toBe(200);
      // Cancelling twice is harmless: the second one changes nothing.
      const again = await api(`/v1/jobs/${id}/cancel`, apiKey, { method: 'POST' });
      expect(again.status).toBe(409);
      // Long enough for the delayed clone answer to come back and be ignored.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      expect(await waitForStatus(id, tenantId, final)).toBe('canceled');
      const events = await allEvents(apiKey, id);
      expect(events.filter((e) => e.type === 'stdout')).toEqual([]);
      expect(events.map((e) => e.status).filter(Boolean)).toEqual([
        'queued',
        'provisioning',
        'cloning',
        'canceled',
      ]);
      expect(afterFinal(events)).toEqual([]);
      const stats = await sandboxStats(sandbox);
      expect(stats).toHaveLength(1);
      expect(stats[0]?.sessionCommands).toBe(0);
      await expectNothingLeft(sandbox);
    } finally {
      await removeFaults(faults);
    }
  });

  it('a job whose clone hangs in Daytona times out at its deadline', async () => {
    const { apiKey, tenantId } = await newTenant();
    const { id, sandbox } = newJobId();
    const faults = await addFaults({ action: 'hang', path: CLONE, sandbox });
    try {
      const started = Date.now();
      await startJob(id, tenantId, 'echo never', 5);
      expect(await waitForStatus(id, tenantId, final)).toBe('timed_out');
      const row = await env.JOB.getByName(id).get(tenantId);
      // The deadline is 5 s after creation; allow a generous grace on a loaded machine.
      expect((row?.finishedAt ?? Infinity) - started).toBeLessThan(20_000);
      expect(row?.errorCode).toBe('timeout');
      const events = await allEvents(apiKey, id);
      expect(afterFinal(events)).toEqual([]);
      await expectNothingLeft(sandbox);
    } finally {
      await removeFaults(faults);
    }
  });

  it('a cancel ends a job at once while a Daytona call hangs', async () => {
    const { apiKey, tenantId } = await newTenant();
    const { id, sandbox } = newJobId();
    const faults = await addFaults({ action: 'hang', path: CLONE, sandbox });
    try {
      await startJob(id, tenantId, 'echo never', 600);
      await waitForStatus(id, tenantId, (s) => s === 'cloning');
      const res = await api(`/v1/jobs/${id}/cancel`, apiKey, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(await waitForStatus(id, tenantId, final)).toBe('canceled');
      // The alarm is not held by the hanging call: the sandbox is deleted long before 600 s.
      await expectNothingLeft(sandbox);
    } finally {
      await removeFaults(faults);
    }
  });

  it(
    'a sandbox created late by a create call that a cancel abandoned is deleted too',
    { timeout: 90_000 },
    async () => {
      const { apiKey, tenantId } = await newTenant();
      const { id, sandbox } = newJobId();
      // Daytona takes the create only after 3 s: the cancel lands while it is in flight.
      const faults = await addFaults({
        action: 'delay',
        method: 'POST',
        path: '/api/sandbox',
        sandbox,
        ms: 3000,
      });
      try {
        await startJob(id, tenantId, 'echo never', 600);
        await waitForStatus(id, tenantId, (s) => s === 'provisioning');
        const res = await api(`/v1/jobs/${id}/cancel`, apiKey, { method: 'POST' });
        expect(res.status).toBe(200);
        // The sandbox appears after the first cleanup found nothing, and is deleted by the next.
        await expect
          .poll(async () => (await sandboxStats(sandbox)).length, { timeout: 20_000 })
          .toBe(1);
        await expect
          .poll(async () => (await sandboxStats(sandbox)).every((s) => s.state === 'destroyed'), {
            timeout: 60_000,
            interval: 500,
          })
          .toBe(true);
        expect((await sandboxStats(sandbox))[0]?.sessionCommands).toBe(0);
      } finally {
        await removeFaults(faults);
      }
    },
  );
});
