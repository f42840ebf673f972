/**
 * The crash window of GitHubAppDO's answers: GitHub carries out a create call (check run,
 * comment, pull request) but its answer never arrives (the stand-in applies the call, then
 * answers 502 — as when the object is evicted before it saved what it got). The retry finds
 * what was created (the check run by its external_id, the comment by the job's marker, the pull
 * request by its branch, a refusal by the delivery's marker) and creates nothing twice.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  eventually,
  goodAnthropicKey,
  issueCommentPayload,
  jobOf,
  setUpGitHubTenant,
  settled,
  type StandInRepository,
} from './github-job-helpers.ts';
import { addStandInFault, expectNoViolations, standInState } from './github-stand-in-client.ts';
import { deliver } from './github-webhook-helpers.ts';
import { waitForEnd } from './helpers.ts';

const SENDER = 'octo-lost-answer';
const MARKER = '<!-- omni -->';

function commentPayload(repo: StandInRepository, issueNumber: number, body: string) {
  return issueCommentPayload(repo, {
    sender: SENDER,
    issueNumber,
    title: 'Add notes',
    commentId: 700_000 + issueNumber,
    body,
  });
}

describe('GitHubAppDO after a lost answer', { timeout: 180_000 }, () => {
  it('posts one refusal comment when GitHub posted it but its answer was lost', async () => {
    // No ANTHROPIC_API_KEY: the job is refused, and the refusal is a comment.
    const { repo } = await setUpGitHubTenant({
      sender: SENDER,
      permission: 'write',
      anthropicKey: null,
    });
    await addStandInFault({
      operation: 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
      repository: repo.fullName,
      status: 502,
      times: 1,
      after: true,
    });
    const { res, deliveryId } = await deliver(
      'issue_comment',
      commentPayload(repo, 22, '/omni fix the build'),
    );
    expect(res.status, await res.text()).toBe(202);
    const row = await settled(deliveryId);
    expect(row.outcome).toBe('failed');
    const state = await standInState(repo.fullName);
    expect(state.requests.filter((r) => r.status === 502)).toHaveLength(1);
    const refusals = state.comments.filter((c) => c.body.includes(MARKER));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.body).toContain(`<!-- omni delivery:${deliveryId} -->`);
    expect(refusals[0]?.body).toContain('did not start a job');
    await expectNoViolations(repo.fullName);
  });

  it('creates one check run, one comment and one pull request when GitHub did each but its answer was lost', async () => {
    const { apiKey, repo } = await setUpGitHubTenant({
      sender: SENDER,
      permission: 'write',
      anthropicKey: goodAnthropicKey(),
    });
    for (const operation of [
      'POST /repos/{owner}/{repo}/check-runs',
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
      'POST /repos/{owner}/{repo}/pulls',
    ]) {
      await addStandInFault({
        operation,
        repository: repo.fullName,
        status: 502,
        times: 1,
        after: true,
      });
    }

    const payload = commentPayload(repo, 21, '/omni add a notes file RUN[echo "notes" > NOTES.md]');
    const { res, deliveryId } = await deliver('issue_comment', payload);
    expect(res.status, await res.text()).toBe(202);
    const jobId = await jobOf(deliveryId);
    const ended = await waitForEnd(apiKey, jobId);
    expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');

    const state = await eventually(
      () => standInState(repo.fullName),
      (s) =>
        s.checkRuns.some((r) => r.status === 'completed') &&
        s.comments.some((c) => c.body.includes(MARKER)),
    );
    // Each create was carried out once and its answer lost once (502 after the fact).
    const lost = state.requests.filter((r) => r.status === 502);
    expect(lost.map((r) => r.operation).sort()).toEqual([
      'POST /repos/{owner}/{repo}/check-runs',
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
      'POST /repos/{owner}/{repo}/pulls',
    ]);
    expect(state.checkRuns).toHaveLength(1);
    expect(state.checkRuns[0]).toMatchObject({ external_id: jobId, conclusion: 'success' });
    const answers = state.comments.filter((c) => c.body.includes(MARKER));
    expect(answers).toHaveLength(1);
    expect(answers[0]?.body).toContain(`<!-- omni job:${jobId} -->`);
    expect(state.pulls).toHaveLength(1);
    // The comment names the pull request it found again, not a failure to open one.
    expect(answers[0]?.body).toContain(`pull request #${state.pulls[0]?.number}`);
    const gh = await env.DB.prepare('SELECT check_run_id FROM github_jobs WHERE job_id = ?')
      .bind(jobId)
      .first();
    expect(gh).toEqual({ check_run_id: state.checkRuns[0]?.id });
    await expectNoViolations(repo.fullName);
  });
});
