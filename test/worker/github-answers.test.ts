/**
 * The pure decisions of GitHubAppDO: the check run's fields for a job's change, the answering
 * and refusing comments (marker, cost, bounded result), the pull request's text, the branch
 * name, which change of a job supersedes which, and the retry schedule.
 */
import { describe, expect, it } from 'vitest';
import { supersedes } from '../../durable-objects/github/answer-job.ts';
import {
  MAX_RESULT_CHARS,
  OMNI_MARKER,
  checkRunFields,
  conclusionOf,
  formatDuration,
  formatUsd,
  pullRequestText,
  refusalComment,
  resultComment,
} from '../../durable-objects/github/answers.ts';
import {
  FIRST_DELAY_MS,
  GIVE_UP_AFTER_MS,
  MAX_ATTEMPTS,
  MAX_DELAY_MS,
  afterFailure,
  afterWaiting,
} from '../../durable-objects/github/schedule.ts';
import { pushBranchOf } from '../../durable-objects/github/start-job.ts';
import type { GitHubJobUpdate } from '../../worker/github/work.ts';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const links = { page: 'https://omni.test/app/jobs/job_1' };

function update(change: Partial<GitHubJobUpdate> = {}): GitHubJobUpdate {
  return {
    jobId: 'job_1',
    tenantId: 'ten_1',
    status: 'succeeded',
    exitCode: 0,
    errorCode: null,
    errorMessage: null,
    costMicroUsd: 123_456,
    createdAt: T0,
    runningAt: T0 + 5_000,
    finishedAt: T0 + 70_000,
    agentResult: 'Done: the README begins with a title.',
    push: null,
    pushError: null,
    ...change,
  };
}

describe('check run fields', () => {
  it('stays queued before the job runs', () => {
    expect(
      checkRunFields(
        update({ status: 'provisioning', runningAt: null, finishedAt: null }),
        links,
        T0,
      ),
    ).toEqual({
      status: 'queued',
    });
  });

  it('is in progress from the job start while it runs', () => {
    const fields = checkRunFields(update({ status: 'running', finishedAt: null }), links, T0);
    expect(fields).toMatchObject({ status: 'in_progress', started_at: '2026-12-01T10:00:05.000Z' });
    expect(fields.output?.summary).toContain(links.page);
    expect(fields.conclusion).toBeUndefined();
  });

  it('is completed at the end with the conclusion, duration, cost, outcome and log link', () => {
    const fields = checkRunFields(update(), links, T0 + 99_000);
    expect(fields).toMatchObject({
      status: 'completed',
      conclusion: 'success',
      started_at: '2026-12-01T10:00:05.000Z',
      completed_at: '2026-12-01T10:01:10.000Z',
    });
    expect(fields.output?.summary).toContain('1m 05s');
    expect(fields.output?.summary).toContain('$0.12');
    expect(fields.output?.summary).toContain('exit code 0');
    expect(fields.output?.summary).toContain(links.page);
  });

  it('names the error and exit code of a failed job', () => {
    const fields = checkRunFields(
      update({
        status: 'failed',
        exitCode: 2,
        errorCode: 'command_failed',
        errorMessage: 'exit 2',
      }),
      links,
      T0,
    );
    expect(fields.conclusion).toBe('failure');
    expect(fields.output?.summary).toContain('command_failed (exit code 2): exit 2');
  });

  it('maps every end to its conclusion', () => {
    expect(conclusionOf({ status: 'succeeded' })).toBe('success');
    expect(conclusionOf({ status: 'failed' })).toBe('failure');
    expect(conclusionOf({ status: 'canceled' })).toBe('cancelled');
    expect(conclusionOf({ status: 'timed_out' })).toBe('timed_out');
  });

  it('leaves the link out when no public URL is set', () => {
    const fields = checkRunFields(update(), { page: null }, T0);
    expect(fields.output?.summary).not.toContain('http');
  });
});

describe('comments', () => {
  it('answers with the marker, the result in a block, the cost and the job link', () => {
    const body = resultComment(update(), links, null, T0);
    expect(body.startsWith(OMNI_MARKER)).toBe(true);
    expect(body).toContain('$0.12');
    expect(body).toContain('Done: the README begins with a title.');
    expect(body).toContain('<details');
    expect(body).toContain(links.page);
  });

  it('keeps a huge result under GitHub’s limit, and a fence in it cannot close the block', () => {
    const result = '```\n' + 'x'.repeat(200_000);
    const body = resultComment(update({ agentResult: result }), links, null, T0);
    expect(body.length).toBeLessThan(65_536);
    expect(body).toContain('cut:');
    expect(body).toContain('````text');
    expect(MAX_RESULT_CHARS).toBeLessThan(65_536);
  });

  it('mentions the pull request, or why there is none, and a push error', () => {
    const opened = resultComment(update(), links, { kind: 'opened', number: 7, url: 'u' }, T0);
    expect(opened).toContain('pull request #7');
    const failed = resultComment(update({ pushError: 'remote refused' }), links, null, T0);
    expect(failed).toContain('remote refused');
  });

  it('says how a failed job ended', () => {
    const body = resultComment(
      update({ status: 'failed', errorCode: 'agent_api_error', errorMessage: '401 from the API' }),
      links,
      null,
      T0,
    );
    expect(body).toContain('failed');
    expect(body).toContain('agent_api_error');
  });

  it('refuses with the marker and the reason', () => {
    const body = refusalComment('The budget is reached.');
    expect(body.startsWith(OMNI_MARKER)).toBe(true);
    expect(body).toContain('The budget is reached.');
  });

  it('closes an issue from the pull request, not a pull request', () => {
    expect(pullRequestText(update(), 3, false, links).body).toContain('Closes #3');
    expect(pullRequestText(update(), 3, true, links).body).not.toContain('Closes');
    expect(pullRequestText(update(), 3, true, links).body).toContain(links.page);
  });

  it('formats money and time', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(1_234)).toBe('$0.0012');
    expect(formatUsd(2_500_000)).toBe('$2.50');
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(3_723_000)).toBe('1h 02m');
  });
});

describe('job changes', () => {
  it('lets a later change win, but never undoes an end', () => {
    const running = update({ status: 'running', finishedAt: null });
    expect(supersedes(running, update())).toBe(true);
    expect(supersedes(update(), running)).toBe(false);
    expect(supersedes(update(), update())).toBe(false);
    expect(
      supersedes(update(), update({ push: { branch: 'b', commitSha: 'c', changedFiles: 1 } })),
    ).toBe(true);
  });

  it('pushes to omni/ and part of the job id', () => {
    expect(pushBranchOf('job_0123456789abcdef0123456789abcdef')).toBe('omni/0123456789ab');
  });
});

describe('retry schedule', () => {
  it('doubles the delay after each failure, up to the longest', () => {
    expect(afterFailure(1, T0, T0)).toEqual({ kind: 'retry', at: T0 + FIRST_DELAY_MS });
    expect(afterFailure(2, T0, T0)).toEqual({ kind: 'retry', at: T0 + 2 * FIRST_DELAY_MS });
    expect(afterFailure(3, T0, T0)).toEqual({ kind: 'retry', at: T0 + 4 * FIRST_DELAY_MS });
    const late = afterFailure(MAX_ATTEMPTS - 1, T0, T0);
    expect(late.kind === 'retry' && late.at - T0).toBeLessThanOrEqual(MAX_DELAY_MS);
  });

  it('waits at least as long as GitHub asked', () => {
    expect(afterFailure(1, T0, T0, 120)).toEqual({ kind: 'retry', at: T0 + 120_000 });
  });

  it('gives up after the most attempts, or after a day', () => {
    expect(afterFailure(MAX_ATTEMPTS, T0, T0)).toEqual({ kind: 'give_up' });
    expect(afterFailure(1, T0, T0 + GIVE_UP_AFTER_MS)).toEqual({ kind: 'give_up' });
    expect(afterWaiting(T0, T0)).toBeGreaterThan(T0);
    expect(afterWaiting(T0, T0 + GIVE_UP_AFTER_MS)).toBeNull();
  });
});
