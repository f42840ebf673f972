/**
 * Daytona faults a job survives, or ends with a reason a user can act on: transient failures are
 * retried (honouring Retry-After), permanent ones fail at once, a slow start is waited for, a
 * lost or stopped sandbox is `stalled` while a quiet job is not, and an eviction between a
 * request and its answer neither starts the command twice nor breaks a repeated clone.
 */
import { evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  addFaults,
  newJobId,
  removeFaults,
  sandboxFault,
  sandboxStats,
  startJob,
  storedStdout,
  timesFired,
  waitForStatus,
} from './faults.ts';
import { newTenant } from './helpers.ts';

const final = (s: string) => ['succeeded', 'failed', 'timed_out', 'canceled'].includes(s);

/** Runs `command` as a new job with `rules` (for its sandbox) installed; returns what it ended as. */
async function jobWith(
  rules: Array<Record<string, unknown>>,
  command: string,
  during?: (id: string, tenantId: string) => Promise<void>,
) {
  const { tenantId } = await newTenant();
  const { id, sandbox } = newJobId();
  const faults = rules.length
    ? await addFaults(...rules.map((r) => ({ ...r, sandbox }) as Parameters<typeof addFaults>[0]))
    : [];
  try {
    await startJob(id, tenantId, command);
    await during?.(id, tenantId);
    await waitForStatus(id, tenantId, final);
    const row = await env.JOB.getByName(id).get(tenantId);
    if (!row) throw new Error('job vanished');
    // A fault that never fired would make the test prove nothing.
    for (const fault of faults) expect(await timesFired(fault)).toBeGreaterThan(0);
    return { row, id, tenantId, sandbox, stats: await sandboxStats(sandbox) };
  } finally {
    await removeFaults(faults);
  }
}

describe('Daytona failures', () => {
  it('retries transient create failures and ends with exactly one sandbox', async () => {
    const { row, stats } = await jobWith(
      [{ action: 'fail', method: 'POST', path: '/api/sandbox', status: 503, times: 2 }],
      'echo ok',
    );
    expect(row.status).toBe('succeeded');
    expect(stats).toHaveLength(1);
  });

  it('waits for the Retry-After of a 429', async () => {
    const started = Date.now();
    const { row, stats } = await jobWith(
      [
        {
          action: 'fail',
          method: 'POST',
          path: '/api/sandbox',
          status: 429,
          retryAfter: 3,
          times: 1,
        },
      ],
      'echo ok',
    );
    expect(row.status).toBe('succeeded');
    expect(row.provisioningAt).not.toBeNull();
    // The second create cannot have come before the 3 s the server asked for.
    expect((row.cloningAt ?? 0) - started).toBeGreaterThanOrEqual(3000);
    expect(stats).toHaveLength(1);
  });

  it.each([400, 401, 403, 404])(
    'fails at once, without retrying, on a %i from create',
    async (status) => {
      const { row, stats } = await jobWith(
        [
          {
            action: 'fail',
            method: 'POST',
            path: '/api/sandbox',
            status,
            message: `no (${status})`,
          },
        ],
        'echo ok',
      );
      expect(row.status).toBe('failed');
      expect(row.errorCode).toBe('sandbox_create_failed');
      expect(row.errorMessage).toMatch(/^Could not create the sandbox: /);
      expect(row.errorMessage).not.toMatch(/retried/);
      expect(stats).toHaveLength(0);
    },
  );

  it('waits for a sandbox that stays `starting` for a while', async () => {
    const { row, stats } = await jobWith([{ action: 'slow-start', seconds: 3 }], 'echo ok');
    expect(row.status).toBe('succeeded');
    expect(stats).toHaveLength(1);
  });
});

describe('stall detection', () => {
  it('fails a job whose sandbox is lost mid-run as stalled', async () => {
    const { row } = await jobWith([], 'echo started; sleep 60', async (id, tenantId) => {
      await waitForStatus(id, tenantId, (s) => s === 'running');
      await expect.poll(() => storedStdout(id, tenantId), { timeout: 20_000 }).toBe('started\n');
      await sandboxFault(id, 'lose');
    });
    expect(row.status).toBe('failed');
    expect(row.errorCode).toBe('stalled');
  });

  it('fails a job whose sandbox stopped mid-run as stalled', async () => {
    const { row } = await jobWith([], 'echo started; sleep 60', async (id, tenantId) => {
      await expect.poll(() => storedStdout(id, tenantId), { timeout: 20_000 }).toBe('started\n');
      await sandboxFault(id, 'stop');
    });
    expect(row.status).toBe('failed');
    expect(row.errorCode).toBe('stalled');
  });

  it('judges a sandbox lost during an eviction over the stall window too', async () => {
    const { row } = await jobWith([], 'echo started; sleep 60', async (id, tenantId) => {
      await expect.poll(() => storedStdout(id, tenantId), { timeout: 20_000 }).toBe('started\n');
      await sandboxFault(id, 'lose');
      // A fresh instance first looks the sandbox up: its 404 must count as missing, not fail.
      const stub = env.JOB.getByName(id);
      await evictDurableObject(stub);
      await runDurableObjectAlarm(stub);
    });
    expect(row.status).toBe('failed');
    expect(row.errorCode).toBe('stalled');
  });

  it('never calls a quiet but healthy job stalled', async () => {
    // Silent for three stall windows (JOB_STALL_SECONDS is 3 in the tests).
    const { row } = await jobWith([], 'sleep 10; echo done');
    expect(row.status).toBe('succeeded');
  });
});

describe('evictions between a request and its answer', () => {
  /** Runs `command` with `rule`; once the rule fired, resets the Job DO and runs its alarm. */
  async function evictWhen(rule: Record<string, unknown>, command: string) {
    const { tenantId } = await newTenant();
    const { id, sandbox } = newJobId();
    const [ruleId = ''] = await addFaults({ ...rule, sandbox } as Parameters<typeof addFaults>[0]);
    try {
      await startJob(id, tenantId, command);
      await expect.poll(() => timesFired(ruleId), { timeout: 20_000, interval: 50 }).toBe(1);
      const stub = env.JOB.getByName(id);
      await evictDurableObject(stub);
      await runDurableObjectAlarm(stub);
      await waitForStatus(id, tenantId, final);
      const row = await stub.get(tenantId);
      return { row, out: await storedStdout(id, tenantId), stats: await sandboxStats(sandbox) };
    } finally {
      await removeFaults([ruleId]);
    }
  }

  it('starts the command once when the start was handled but its answer was lost', async () => {
    const { row, out, stats } = await evictWhen(
      {
        action: 'hang',
        after: true,
        method: 'POST',
        path: '/toolbox/:id/process/session/:s/exec',
        times: 1,
      },
      'echo once',
    );
    expect(row?.status).toBe('succeeded');
    expect(out).toBe('once\n');
    expect(stats[0]?.sessionCommands).toBe(1);
  });

  it('starts the command once when the start request lands after the eviction', async () => {
    const { row, out, stats } = await evictWhen(
      {
        action: 'delay',
        method: 'POST',
        path: '/toolbox/:id/process/session/:s/exec',
        ms: 2000,
        times: 1,
      },
      'echo once',
    );
    expect(row?.status).toBe('succeeded');
    expect(out).toBe('once\n');
    expect(stats[0]?.sessionCommands).toBe(1);
  });

  it('clones again from a clean directory when a clone was done but its answer lost', async () => {
    const { row, out } = await evictWhen(
      // The clone is the job's first one-shot command (durable-objects/job/clone.ts).
      { action: 'hang', after: true, path: '/toolbox/:id/process/execute', times: 1 },
      'echo cloned',
    );
    expect(row?.status).toBe('succeeded');
    expect(out).toBe('cloned\n');
  });
});
