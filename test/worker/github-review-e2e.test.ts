/**
 * Pull request review end to end: a signed `pull_request.opened` with `pull_request_review` on →
 * an agent job in local-daytona on the pull request's head branch → the check run on the head
 * commit completed, the answering comment on the pull request, nothing pushed; a `synchronize`
 * with a new head commit starts a new review on it. A pull request from a fork starts nothing
 * (its delivery is ignored; a comment on one is answered with why).
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { getRef } from '../../worker/github/api.ts';
import {
  eventually,
  goodAnthropicKey,
  issueCommentPayload,
  jobOf,
  repositoryFields,
  setUpGitHubTenant,
  settled,
} from './github-job-helpers.ts';
import {
  addStandInCommit,
  addStandInPull,
  expectNoViolations,
  standInState,
} from './github-stand-in-client.ts';
import { deliver, deliveryRow, example, merged } from './github-webhook-helpers.ts';
import { waitForEnd } from './helpers.ts';

const SENDER = 'octo-reviewer';
const MARKER = '<!-- omni -->';
const PULL = 5;

function setUp() {
  return setUpGitHubTenant({
    sender: SENDER,
    permission: 'write',
    anthropicKey: goodAnthropicKey(),
    mapping: { settings: { triggers: { pull_request_review: true } } },
  });
}

type Setup = Awaited<ReturnType<typeof setUp>>;

/** A signed pull_request delivery of pull request PULL, `feature` into `main`. */
async function pullRequestEvent(
  setup: Setup,
  action: string,
  headSha: string,
  headRepository = repositoryFields(setup.repo),
) {
  const payload = merged(example('pull_request', action), {
    installation: { id: setup.repo.installationId },
    repository: repositoryFields(setup.repo),
    number: PULL,
    pull_request: {
      number: PULL,
      title: 'A feature',
      body: 'Adds a feature.',
      draft: false,
      head: { ref: 'feature', sha: headSha, repo: headRepository },
      base: { ref: 'main', repo: repositoryFields(setup.repo) },
    },
    sender: { login: SENDER, type: 'User' },
  });
  const { res, deliveryId } = await deliver('pull_request', payload);
  const body: unknown = await res.json();
  return { status: res.status, body, deliveryId };
}

function ghContext(setup: Setup) {
  return {
    env,
    installationId: setup.repo.installationId,
    owner: setup.repo.owner,
    repo: setup.repo.name,
  };
}

describe('GitHub pull request review end to end', { timeout: 240_000 }, () => {
  it('reviews the head of an opened pull request, answers on it, pushes nothing, and reviews a synchronize again', async () => {
    const setup = await setUp();
    const gh = ghContext(setup);
    const head = (await getRef(gh, 'heads/feature'))?.sha ?? '';
    const main = (await getRef(gh, 'heads/main'))?.sha ?? '';
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    expect(head).not.toBe(main);

    const opened = await pullRequestEvent(setup, 'opened', head);
    expect(opened.status).toBe(202);
    expect(opened.body).toMatchObject({ outcome: 'accepted', trigger: 'pull_request' });
    const jobId = await jobOf(opened.deliveryId);
    const ended = await waitForEnd(setup.apiKey, jobId);
    expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');
    // The review ran on the pull request's head branch of the repository itself.
    expect(ended.repo).toMatchObject({ url: setup.repo.cloneUrl, ref: 'feature' });

    const state = await eventually(
      () => standInState(setup.repo.fullName),
      (s) =>
        s.checkRuns.some((r) => r.status === 'completed') &&
        s.comments.some((c) => c.body.includes(MARKER)),
    );
    expect(state.checkRuns).toHaveLength(1);
    expect(state.checkRuns[0]).toMatchObject({
      head_sha: head,
      external_id: jobId,
      conclusion: 'success',
    });
    const answers = state.comments.filter((c) => c.body.includes(MARKER));
    expect(answers).toHaveLength(1);
    expect(answers[0]?.issueNumber).toBe(PULL);
    expect(answers[0]?.body).toContain(jobId);
    // Nothing pushed: no pull request, no branch of Omni, the head branch unchanged.
    expect(state.pulls).toEqual([]);
    expect(state.reactions).toEqual([]);
    expect(state.requests.some((r) => r.operation === 'POST /repos/{owner}/{repo}/pulls')).toBe(
      false,
    );
    expect((await getRef(gh, 'heads/feature'))?.sha).toBe(head);
    const row = await env.DB.prepare(
      'SELECT trigger, issue_number AS issueNumber, head_sha AS headSha, head_ref AS headRef, answered FROM github_jobs WHERE job_id = ?',
    )
      .bind(jobId)
      .first();
    expect(row).toMatchObject({
      trigger: 'pull_request',
      issueNumber: PULL,
      headSha: head,
      headRef: 'feature',
    });
    expect(JSON.parse(String(row?.['answered']))).toMatchObject({ pushBranch: null });
    expect((await getRef(gh, `heads/omni/${jobId.slice(4, 16)}`))?.sha).toBeUndefined();

    // New commits on the branch: `synchronize` with the new head starts a second review on it.
    const pushed = await addStandInCommit(setup.repo.fullName, 'feature');
    const synced = await pullRequestEvent(setup, 'synchronize', pushed);
    expect(synced.status).toBe(202);
    const secondJob = await jobOf(synced.deliveryId);
    expect(secondJob).not.toBe(jobId);
    const second = await waitForEnd(setup.apiKey, secondJob);
    expect(second.status, JSON.stringify(second.error)).toBe('succeeded');
    const after = await eventually(
      () => standInState(setup.repo.fullName),
      (s) =>
        s.checkRuns.filter((r) => r.status === 'completed').length === 2 &&
        s.comments.filter((c) => c.body.includes(MARKER)).length === 2,
    );
    expect(after.checkRuns.map((r) => r.head_sha)).toEqual([head, pushed]);
    expect(after.checkRuns[1]).toMatchObject({ external_id: secondJob, conclusion: 'success' });
    expect(after.comments.filter((c) => c.body.includes(MARKER)).map((c) => c.issueNumber)).toEqual(
      [PULL, PULL],
    );
    expect(after.pulls).toEqual([]);
    await expectNoViolations(setup.repo.fullName);
  });

  it('starts nothing for a pull request from a fork, and says why', async () => {
    const setup = await setUp();
    const head = (await getRef(ghContext(setup), 'heads/feature'))?.sha ?? '';
    const fork = {
      ...repositoryFields(setup.repo),
      full_name: `someone-else/${setup.repo.name}`,
      owner: { login: 'someone-else' },
      clone_url: `https://github.com/someone-else/${setup.repo.name}.git`,
    };
    const before = (await standInState(setup.repo.fullName)).requests.length;
    const opened = await pullRequestEvent(setup, 'opened', head, fork);
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ outcome: 'ignored' });
    expect(JSON.stringify(opened.body)).toContain('a pull request from a fork');
    const row = await deliveryRow(opened.deliveryId);
    expect(row).toMatchObject({ outcome: 'ignored', job_id: null });
    // No call to GitHub (those before were the test's own), no job.
    expect((await standInState(setup.repo.fullName)).requests).toHaveLength(before);
    const jobs = await env.DB.prepare('SELECT COUNT(*) AS n FROM github_jobs WHERE delivery_id = ?')
      .bind(opened.deliveryId)
      .first();
    expect(jobs).toEqual({ n: 0 });
  });

  it('answers an /omni comment on a pull request from a fork with why, and starts no job', async () => {
    const setup = await setUp();
    const number = 8;
    const fork = `someone-else/${setup.repo.name}`;
    await addStandInPull({ repository: setup.repo.fullName, number, head: 'feature', fork });
    const payload = issueCommentPayload(setup.repo, {
      sender: SENDER,
      issueNumber: number,
      title: 'From a fork',
      commentId: 900_008,
      body: '/omni review this',
      onPullRequest: true,
    });
    const { res, deliveryId } = await deliver('issue_comment', payload);
    expect(res.status).toBe(202);
    const row = await settled(deliveryId);
    expect(row).toMatchObject({ outcome: 'ignored', job_id: null });
    expect(row.reason).toContain('a pull request from a fork');
    const state = await standInState(setup.repo.fullName);
    expect(state.checkRuns).toEqual([]);
    const answers = state.comments.filter((c) => c.body.includes(MARKER));
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ issueNumber: number });
    expect(answers[0]?.body).toContain('a pull request from a fork');
    const jobs = await env.DB.prepare('SELECT COUNT(*) AS n FROM github_jobs WHERE delivery_id = ?')
      .bind(deliveryId)
      .first();
    expect(jobs).toEqual({ n: 0 });
    await expectNoViolations(setup.repo.fullName);
  });
});
