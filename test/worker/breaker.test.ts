/**
 * The Daytona circuit breaker: its rules as pure functions, and a job that meets an open breaker
 * waiting `queued` (no sandbox created) until the breaker lets it through.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  admit,
  closedBreaker,
  FAILURES_TO_OPEN,
  FIRST_COOL_DOWN_MS,
  report,
  type BreakerState,
} from '../../durable-objects/daytona/breaker.ts';
import { JobRecord } from '../../durable-objects/job/record.ts';
import { JobRunner } from '../../durable-objects/job/runner.ts';
import { initialState } from '../../durable-objects/job/state.ts';
import { JobStorage } from '../../durable-objects/job/storage.ts';
import { newJobId, sandboxStats } from './faults.ts';
import { jobSpec } from './job-spec.ts';

const fail = (state: BreakerState, times: number, now: number) => {
  let s = state;
  for (let i = 0; i < times; i++) s = report(s, false, now);
  return s;
};

describe('circuit breaker rules', () => {
  it('opens after consecutive transient failures, and a success closes it', () => {
    const now = 1_000_000;
    const almost = fail(closedBreaker, FAILURES_TO_OPEN - 1, now);
    expect(admit(almost, now).admission).toEqual({ go: true });
    const open = report(almost, false, now);
    expect(admit(open, now).admission).toEqual({ go: false, retryAt: now + FIRST_COOL_DOWN_MS });
    expect(report(open, true, now)).toEqual(closedBreaker);
  });

  it('lets one probe through after the cool-down, and opens for longer if it fails', () => {
    const now = 1_000_000;
    const open = fail(closedBreaker, FAILURES_TO_OPEN, now);
    const later = now + FIRST_COOL_DOWN_MS;
    const probe = admit(open, later);
    expect(probe.admission).toEqual({ go: true });
    // A second job at the same moment waits for the probe.
    expect(admit(probe.next, later).admission.go).toBe(false);
    const reopened = report(probe.next, false, later);
    expect(reopened.openUntil).toBe(later + 2 * FIRST_COOL_DOWN_MS);
  });
});

describe('a job and an open breaker', () => {
  it('waits queued without creating a sandbox, and starts once the breaker closes', async () => {
    // A breaker of its own: the name is the Daytona URL and target, and this target is unique.
    const target = `breaker-test-${crypto.randomUUID()}`;
    const breaker = () => env.DAYTONA_BREAKER.getByName(`${env.DAYTONA_API_URL}|${target}`);
    for (let i = 0; i < FAILURES_TO_OPEN; i++) await breaker().report(false);
    const { id, sandbox } = newJobId();
    await runInDurableObject(env.JOB.getByName(id), async (_instance, state) => {
      const store = new JobStorage(state.storage);
      store.ensureSchema();
      const record = new JobRecord(state, env, store);
      record.save(
        initialState(jobSpec('ten_breaker', { id, command: 'echo ok', timeoutSeconds: 120 })),
      );
      const runner = new JobRunner(record, { ...env, DAYTONA_TARGET: target });
      await runner.advance(0);
      expect(record.require().status).toBe('queued');
      const retry = store.deadlines().find((d) => d.kind === 'advance');
      expect(retry?.dueAt).toBeGreaterThan(Date.now());
      expect(await sandboxStats(sandbox)).toEqual([]);

      // A stub made inside this object's context (I/O cannot cross Durable Objects).
      await breaker().report(true);
      await runner.advance(0);
      expect(record.require().status).not.toBe('queued');
      expect(await sandboxStats(sandbox)).toHaveLength(1);
      await runner.cleanup();
    });
  });
});
