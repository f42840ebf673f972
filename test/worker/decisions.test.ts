/** The Job DO's decisions, as pure functions. */
import { describe, expect, it } from 'vitest';
import {
  fitInBudget,
  FOLLOW_SLICE_MS,
  followUntil,
  nextStep,
  retryDelayMs,
  splitChunk,
  unseenPart,
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
    // 10 characters stored; the replay delivers them again in chunks of 4.
    expect(unseenPart('abcd', 0, 10)).toBe('');
    expect(unseenPart('efgh', 4, 10)).toBe('');
    expect(unseenPart('ijkl', 8, 10)).toBe('kl');
    expect(unseenPart('mnop', 12, 10)).toBe('mnop');
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

  it('splits large chunks', () => {
    expect(splitChunk('abcdefg', 3)).toEqual(['abc', 'def', 'g']);
    expect(splitChunk('', 3)).toEqual([]);
  });
});

describe('timing', () => {
  it('backs off exponentially up to a cap', () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(30)).toBe(300_000);
  });

  it('follows the log in slices that end at the deadline', () => {
    expect(followUntil(base, now)).toBe(now + FOLLOW_SLICE_MS);
    expect(followUntil(base, base.createdAt + 599_000)).toBe(base.createdAt + 600_000);
  });
});
