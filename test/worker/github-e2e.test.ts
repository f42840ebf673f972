/**
 * The GitHub App end to end: a signed `issue_comment` delivery in at `POST /webhooks/github` →
 * GitHubAppDO checks the sender's permission on the GitHub stand-in (test/github-stand-in.ts),
 * reacts, creates the agent job and its check run → the job runs the real Claude Code CLI in
 * local-daytona against the Anthropic stand-in (its prompt's RUN[...] scripts the tool call) →
 * the check run is completed and a comment answers with the result and cost. An agent that
 * edits a file ends with a branch pushed to the stand-in's bare repository and a pull request;
 * a comment on that pull request runs on its head. A sender without write permission starts
 * nothing.
 * Every request Omni made matches GitHub's OpenAPI description (no violations).
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { getRef } from '../../worker/github/api.ts';
import {
  eventually,
  goodAnthropicKey,
  issueCommentPayload,
  jobOf as settledJob,
  setUpGitHubTenant,
  settled,
} from './github-job-helpers.ts';
import {
  expectNoViolations,
  standInState,
  type StandInPermission,
  type StandInState,
} from './github-stand-in-client.ts';
import { deliver } from './github-webhook-helpers.ts';
import { waitForEnd } from './helpers.ts';

const SENDER = 'octo-dev';

type Setup = Awaited<ReturnType<typeof setUpGitHubTenant>>;

/** A tenant with its Anthropic key, a repository of its own on the stand-in, mapped to it. */
function setUp(
  options: { key?: string; permission?: StandInPermission; settings?: object } = {},
): Promise<Setup> {
  return setUpGitHubTenant({
    sender: SENDER,
    permission: options.permission ?? 'write',
    anthropicKey: options.key ?? goodAnthropicKey(),
    mapping: { ...(options.settings ? { settings: options.settings } : {}) },
  });
}

/** Sends the comment and answers the job id once GitHubAppDO created it. */
async function comment(setup: Setup, body: string, issueNumber = 7, onPullRequest = false) {
  const commentId = 100_000 + Math.floor(Math.random() * 1_000_000);
  const { res, deliveryId } = await deliver(
    'issue_comment',
    issueCommentPayload(setup.repo, {
      sender: SENDER,
      issueNumber,
      title: 'Tidy the README',
      commentId,
      body,
      onPullRequest,
    }),
  );
  expect(res.status, await res.text()).toBeLessThan(300);
  return { deliveryId, commentId };
}

async function jobOf(deliveryId: string): Promise<string> {
  const jobId = await settledJob(deliveryId);
  expect(jobId).toMatch(/^job_/);
  return jobId;
}

/** The stand-in's state once the job's check run is completed and its comment is there. */
function answered(repository: string, commentsBefore = 0): Promise<StandInState> {
  return eventually(
    () => standInState(repository),
    (s) =>
      s.checkRuns.some((r) => r.status === 'completed') &&
      s.comments.filter((c) => c.body.includes('<!-- omni -->')).length > commentsBefore,
  );
}

describe('GitHub App end to end', { timeout: 180_000 }, () => {
  it('answers an /omni comment: reaction, job, check run completed with success, comment with the result and cost', async () => {
    const setup = await setUp();
    const { deliveryId, commentId } = await comment(setup, '/omni read the README please');
    const jobId = await jobOf(deliveryId);
    const ended = await waitForEnd(setup.apiKey, jobId);
    expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');

    const state = await answered(setup.repo.fullName);
    expect(state.reactions).toEqual([expect.objectContaining({ commentId, content: 'rocket' })]);
    expect(state.checkRuns).toHaveLength(1);
    const run = state.checkRuns[0];
    expect(run).toMatchObject({
      name: 'Omni',
      status: 'completed',
      conclusion: 'success',
      details_url: `https://omni.test/app/jobs/${jobId}`,
      external_id: jobId,
    });
    expect(run?.history.map((h) => h.status)).toEqual(['queued', 'in_progress', 'completed']);
    expect(run?.output.summary).toMatch(/\$\d+\.\d+/);
    const answers = state.comments.filter((c) => c.issueNumber === 7);
    expect(answers).toHaveLength(1);
    expect(answers[0]?.body).toContain('<!-- omni -->');
    expect(answers[0]?.body).toContain(ended.agent?.result ?? 'no result');
    expect(answers[0]?.body).toMatch(/cost \$\d+\.\d+/);
    expect(answers[0]?.body).toContain(jobId);
    // Nothing was changed, so nothing was pushed or proposed.
    expect(state.pulls).toEqual([]);
    const gh = await env.DB.prepare('SELECT * FROM github_jobs WHERE job_id = ?')
      .bind(jobId)
      .first();
    expect(gh).toMatchObject({ check_run_id: run?.id, issue_number: 7, trigger: 'command' });
    // The job is the sender's, in the audit log and on the job itself, with the delivery id.
    const job = await env.DB.prepare('SELECT created_by AS createdBy FROM jobs WHERE id = ?')
      .bind(jobId)
      .first();
    expect(job).toEqual({ createdBy: `github:${SENDER}` });
    const audit = await env.DB.prepare(
      "SELECT actor, request_id AS requestId, ip FROM audit_log WHERE action = 'job.create' AND target = ?",
    )
      .bind(jobId)
      .first();
    expect(audit).toEqual({ actor: `github:${SENDER}`, requestId: deliveryId, ip: null });
    await expectNoViolations(setup.repo.fullName);
  });

  it('completes the check run with failure when the agent run fails', async () => {
    const setup = await setUp({ key: `sk-ant-stand-in-bad-${crypto.randomUUID()}` });
    const { deliveryId } = await comment(setup, '/omni read the README');
    const jobId = await jobOf(deliveryId);
    const ended = await waitForEnd(setup.apiKey, jobId);
    expect(ended.status).toBe('failed');

    const state = await answered(setup.repo.fullName);
    expect(state.checkRuns[0]).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(state.checkRuns[0]?.output.summary).toContain('agent_api_error');
    const body = state.comments.find((c) => c.body.includes('<!-- omni -->'))?.body ?? '';
    expect(body).toContain('failed');
    expect(body).toContain('agent_api_error');
    expect(state.pulls).toEqual([]);
    await expectNoViolations(setup.repo.fullName);
  });

  it('pushes the changes of an agent that edits a file to a branch and opens a pull request', async () => {
    const setup = await setUp();
    const { deliveryId } = await comment(
      setup,
      '/omni add a notes file RUN[echo "from the agent" > NOTES.md]',
      12,
    );
    const jobId = await jobOf(deliveryId);
    const ended = await waitForEnd(setup.apiKey, jobId);
    expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');

    const state = await eventually(
      () => standInState(setup.repo.fullName),
      (s) => s.pulls.length > 0 && s.comments.some((c) => c.body.includes('<!-- omni -->')),
    );
    expect(state.pulls).toHaveLength(1);
    const pull = state.pulls[0];
    expect(pull?.head).toMatch(/^omni\//);
    expect(pull?.base).toBe('main');
    expect(pull?.body).toContain('Closes #12');
    expect(pull?.body).toContain(jobId);
    // The branch is in the bare repository, on a new commit (the stand-in reads refs with git).
    const gh = {
      env,
      installationId: setup.repo.installationId,
      owner: setup.repo.owner,
      repo: setup.repo.name,
    };
    const branch = await getRef(gh, `heads/${pull?.head ?? ''}`);
    const main = await getRef(gh, 'heads/main');
    expect(branch?.sha).toBe(pull?.headSha);
    expect(branch?.sha).not.toBe(main?.sha);
    const answer = state.comments.find((c) => c.body.includes('<!-- omni -->'))?.body ?? '';
    expect(answer).toContain(`pull request #${pull?.number}`);

    // A comment on that pull request runs on its head: the branch and commit the agent pushed.
    const onPull = await comment(setup, '/omni read the README', pull?.number ?? 0, true);
    const reviewJob = await jobOf(onPull.deliveryId);
    const reviewed = await waitForEnd(setup.apiKey, reviewJob);
    expect(reviewed.status, JSON.stringify(reviewed.error)).toBe('succeeded');
    expect(reviewed.repo).toMatchObject({ ref: pull?.head });
    const after = await eventually(
      () => standInState(setup.repo.fullName),
      (s) =>
        s.checkRuns.filter((r) => r.status === 'completed').length === 2 &&
        s.comments.filter((c) => c.issueNumber === pull?.number).length === 1,
    );
    expect(after.checkRuns[1]).toMatchObject({ head_sha: pull?.headSha, conclusion: 'success' });
    await expectNoViolations(setup.repo.fullName);
  });

  it('starts nothing for a sender without write permission, and records why', async () => {
    const setup = await setUp({ permission: 'read' });
    const { deliveryId } = await comment(setup, '/omni delete everything');
    const row = await settled(deliveryId);
    expect(row).toMatchObject({ outcome: 'ignored', job_id: null });
    expect(row.reason).toContain('read permission');
    const state = await standInState(setup.repo.fullName);
    expect(state.reactions).toEqual([]);
    expect(state.checkRuns).toEqual([]);
    expect(state.comments).toEqual([]);
    const jobs = await env.DB.prepare('SELECT COUNT(*) AS n FROM github_jobs WHERE delivery_id = ?')
      .bind(deliveryId)
      .first();
    expect(jobs).toEqual({ n: 0 });
    await expectNoViolations(setup.repo.fullName);
  });
});
