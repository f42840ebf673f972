/** The Job DO's decisions, as pure functions. */
import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  callBudgetMs,
  fitInBudget,
  FOLLOW_SLICE_MS,
  followUntil,
  isStalled,
  nextStep,
  retryAt,
  retryDelayMs,
  unseenFrom,
} from '../../durable-objects/job/decisions.ts';
import { initialState, type JobState } from '../../durable-objects/job/state.ts';

const base = initialState({
  id: 'job_1',
  tenantId: 't',
  repoUrl: 'https://github.com/o/r.git',
  repoRef: null,
  command: 'true',
  timeoutSeconds: 600,
  snapshot: 's',
  createdBy: null,
  createdAt: 1_000_000,
});
const at = (patch: Partial<JobState>): JobState => ({ ...base, ...patch });
const now = base.createdAt + 1000;

describe('nextStep', () => {
  it('walks the lifecycle', () => {
    expect(nextStep(at({ status: 'queued' }), now)).toBe('provision');
    expect(nextStep(at({ status: 'provisioning' }), now)).toBe('provision');
    expect(nextStep(at({ status: 'cloning' }), now)).toBe('clone');
    expect(nextStep(at({ status: 'running', cmdId: null }), now)).toBe('start_command');
    expect(nextStep(at({ status: 'running', cmdId: 'c' }), now)).toBe('follow');
    for (const status of ['succeeded', 'failed', 'timed_out'] as const) {
      expect(nextStep(at({ status }), now)).toBe('none');
    }
  });

  it('starts nothing past the deadline', () => {
    expect(nextStep(at({ status: 'cloning' }), base.createdAt + 600_000)).toBe('none');
  });
});

describe('output deduplication after a re-attach', () => {
  it('skips what is already stored, across chunk boundaries', () => {
    // 10 bytes stored; the replay delivers them again in chunks of 4: skip 10, 6, 2, then none.
    expect(unseenFrom(0, 10)).toBe(10);
    expect(unseenFrom(4, 10)).toBe(6);
    expect(unseenFrom(8, 10)).toBe(2);
    expect(unseenFrom(12, 10)).toBe(0);
  });

  it('keeps event pages within an output budget, but never empty', () => {
    const events = [{ data: 'aaaa' }, { data: 'bb' }, {}, { data: 'cccc' }];
    const size = (e: { data?: string }) => e.data?.length ?? 0;
    expect(fitInBudget(events, 6, size)).toEqual(events.slice(0, 3));
    expect(fitInBudget(events, 1, size)).toEqual(events.slice(0, 1));
    expect(fitInBudget([], 1, size)).toEqual([]);
  });

  it('reads at most one item more than the page it returns', () => {
    let pulled = 0;
    function* source() {
      for (let i = 0; i < 1000; i++) {
        pulled += 1;
        yield { data: 'x'.repeat(100) };
      }
    }
    const page = fitInBudget(source(), 1000, (e) => e.data.length);
    expect(page).toHaveLength(10);
    expect(pulled).toBe(11);
  });
});

describe('timing', () => {
  it('backs off exponentially up to a cap', () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(30)).toBe(300_000);
  });

  it('retries with jittered exponential backoff, never sooner than Retry-After', () => {
    expect(backoffMs(1, 0)).toBe(500);
    expect(backoffMs(1, 0.999)).toBeLessThanOrEqual(1000);
    expect(backoffMs(4, 0)).toBe(4000);
    expect(backoffMs(30, 0.999, 60_000)).toBeLessThanOrEqual(60_000);
    expect(backoffMs(1, 0, 60_000, 7000)).toBe(7000);
  });

  it('gives up a failing step once its retry budget or the deadline would be over', () => {
    const since = now;
    expect(retryAt(base, since, now + 10_000, 60_000, 5000)).toBe(now + 15_000);
    expect(retryAt(base, since, now + 58_000, 60_000, 5000)).toBeNull();
    // The job's deadline (600 s after creation) comes first.
    expect(retryAt(base, since, base.createdAt + 598_000, 3_600_000, 5000)).toBeNull();
  });

  it('bounds one call by what is left of the job', () => {
    expect(callBudgetMs(base, now, 60_000)).toBe(60_000);
    expect(callBudgetMs(base, base.createdAt + 590_000, 60_000)).toBe(10_000);
    expect(callBudgetMs(base, base.createdAt + 700_000, 60_000)).toBe(0);
  });

  it('calls a job stalled only after its sandbox was missing for the whole window', () => {
    expect(isStalled(null, now, 1000)).toBe(false);
    expect(isStalled(now, now + 999, 1000)).toBe(false);
    expect(isStalled(now, now + 1000, 1000)).toBe(true);
  });

  it('follows the log in slices that end at the deadline', () => {
    expect(followUntil(base, now)).toBe(now + FOLLOW_SLICE_MS);
    expect(followUntil(base, base.createdAt + 599_000)).toBe(base.createdAt + 600_000);
  });
});
