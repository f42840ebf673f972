/**
 * GitHubAppDO's guarantees, through deliveries at `POST /webhooks/github` and the GitHub
 * stand-in: a job that cannot be created (no ANTHROPIC_API_KEY, the budget reached) is answered
 * with a comment saying what to set; after a crash it resumes without repeating what it sent; GitHub failing for a while (5xx) delays the answers but sends none twice; the
 * same work handed over twice creates one job; re-running the check run from GitHub's UI starts
 * the job again with a new check run on the same commit.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { GitHubStorage, workKey } from '../../durable-objects/github/storage.ts';
import { gitHubAppObjectName, type GitHubWork } from '../../worker/github/work.ts';
import {
  eventually,
  goodAnthropicKey,
  issueCommentPayload,
  repositoryFields,
  setUpGitHubTenant,
  settled,
} from './github-job-helpers.ts';
import {
  addStandInFault,
  expectNoViolations,
  standInState,
  type StandInState,
} from './github-stand-in-client.ts';
import { deliver, example, merged } from './github-webhook-helpers.ts';
import { api, createJob, waitForEnd } from './helpers.ts';

const SENDER = 'octo-maintainer';
const MARKER = '<!-- omni -->';

function setUp(withKey = true) {
  return setUpGitHubTenant({
    sender: SENDER,
    permission: 'admin',
    anthropicKey: withKey ? goodAnthropicKey() : null,
  });
}

type Setup = Awaited<ReturnType<typeof setUp>>;

async function comment(setup: Setup, body: string, issueNumber = 3) {
  const payload = issueCommentPayload(setup.repo, {
    sender: SENDER,
    issueNumber,
    title: 'Something to do',
    commentId: 500_000 + issueNumber,
    body,
  });
  const { res, deliveryId } = await deliver('issue_comment', payload);
  expect(res.status, await res.text()).toBeLessThan(300);
  return deliveryId;
}

function ownComments(state: StandInState) {
  return state.comments.filter((c) => c.body.includes(MARKER));
}

describe('GitHubAppDO', { timeout: 180_000 }, () => {
  it('answers a job it cannot create with a comment naming the secret to set', async () => {
    const setup = await setUp(false);
    const deliveryId = await comment(setup, '/omni fix the build');
    const row = await settled(deliveryId);
    expect(row).toMatchObject({ outcome: 'failed', job_id: null });
    expect(row.reason).toContain('ANTHROPIC_API_KEY');
    const state = await eventually(
      () => standInState(setup.repo.fullName),
      (s) => ownComments(s).length > 0,
    );
    const refusal = ownComments(state);
    expect(refusal).toHaveLength(1);
    expect(refusal[0]?.body).toContain('did not start a job');
    expect(refusal[0]?.body).toContain('PUT /v1/secrets/ANTHROPIC_API_KEY');
    expect(state.checkRuns).toEqual([]);
    await expectNoViolations(setup.repo.fullName);
  });

  it('answers a trigger over the tenant budget with a comment naming the budget to raise', async () => {
    const setup = await setUp();
    const budget = await api('/v1/budgets/tenant', setup.apiKey, {
      method: 'PUT',
      body: JSON.stringify({ monthly_budget_usd: 0.01 }),
    });
    expect(budget.status, await budget.text()).toBe(200);
    // A running job's reservation reaches the budget.
    const blocker = await createJob(setup.apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'sleep 30',
      timeout_seconds: 30,
    });
    const row = await settled(await comment(setup, '/omni fix the build'));
    expect(row).toMatchObject({ outcome: 'failed', job_id: null });
    expect(row.reason).toContain("tenant's monthly budget is reached");
    const state = await eventually(
      () => standInState(setup.repo.fullName),
      (s) => ownComments(s).length > 0,
    );
    expect(ownComments(state)[0]?.body).toContain('PUT /v1/budgets/tenant');
    expect(state.checkRuns).toEqual([]);
    await api(`/v1/jobs/${blocker.id}/cancel`, setup.apiKey, { method: 'POST' });
    await waitForEnd(setup.apiKey, blocker.id);
  });

  it('sends each answer once while GitHub fails for a while', async () => {
    const setup = await setUp();
    const repository = setup.repo.fullName;
    for (const operation of [
      'POST /repos/{owner}/{repo}/check-runs',
      'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}',
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
    ]) {
      await addStandInFault({ operation, repository, status: 502, times: 1 });
    }
    const deliveryId = await comment(setup, '/omni read the README');
    const work = await eventually(
      () =>
        env.DB.prepare('SELECT job_id FROM github_deliveries WHERE delivery_id = ?')
          .bind(deliveryId)
          .first(),
      (r) => r !== null && typeof r['job_id'] === 'string',
    );
    const jobId = String(work?.['job_id']);
    const ended = await waitForEnd(setup.apiKey, jobId);
    expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');
    const state = await eventually(
      () => standInState(repository),
      (s) => s.checkRuns[0]?.status === 'completed' && ownComments(s).length > 0,
    );
    expect(state.checkRuns).toHaveLength(1);
    expect(state.checkRuns[0]?.conclusion).toBe('success');
    expect(ownComments(state)).toHaveLength(1);
    expect(state.reactions).toHaveLength(1);
    // The failures were seen: each of those calls was made again after a 502.
    const failed = state.requests.filter((r) => r.status === 502);
    expect(failed.length).toBe(3);
    const jobs = await env.DB.prepare('SELECT COUNT(*) AS n FROM github_jobs WHERE delivery_id = ?')
      .bind(deliveryId)
      .first();
    expect(jobs).toEqual({ n: 1 });
    await expectNoViolations(repository);
  });

  it('creates one job when the same work is handed over twice', async () => {
    const setup = await setUp();
    const work = await acceptedWork(setup, 9);
    const stub = env.GITHUB.getByName(gitHubAppObjectName(work.installationId));
    await stub.intake(work);
    await stub.intake(work);
    const row = await settled(work.deliveryId);
    expect(row.outcome).toBe('job_created');
    await waitForEnd(setup.apiKey, row.job_id ?? '');
    const state = await eventually(
      () => standInState(setup.repo.fullName),
      (s) => ownComments(s).length > 0,
    );
    expect(state.checkRuns).toHaveLength(1);
    expect(ownComments(state)).toHaveLength(1);
    const jobs = await env.DB.prepare('SELECT COUNT(*) AS n FROM jobs WHERE tenant_id = ?')
      .bind(setup.tenantId)
      .first();
    expect(jobs).toEqual({ n: 1 });
  });

  it('resumes after a crash where it stopped: an answer already sent is not sent again', async () => {
    const setup = await setUp();
    const work = await acceptedWork(setup, 11);
    const stub = env.GITHUB.getByName(gitHubAppObjectName(work.installationId));
    // As if an attempt had checked the permission and sent the reaction, then died.
    await runInDurableObject(stub, async (_instance, state) => {
      const storage = new GitHubStorage(state.storage);
      storage.insert(workKey(work.deliveryId), 'work', work, null, Date.now());
      storage.saveProgress(workKey(work.deliveryId), { permission: 'ok', reaction: 'sent' }, null);
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const row = await settled(work.deliveryId);
    expect(row.outcome, row.reason ?? '').toBe('job_created');
    const state = await standInState(setup.repo.fullName);
    expect(state.reactions).toEqual([]);
    expect(state.requests.some((r) => r.path.includes('/permission'))).toBe(false);
    expect(state.checkRuns).toHaveLength(1);
    await waitForEnd(setup.apiKey, row.job_id ?? '');
  });

  it('starts the job again when its check run is re-run, with a new check run on the same commit', async () => {
    const setup = await setUp();
    const first = await settled(await comment(setup, '/omni read the README'));
    await waitForEnd(setup.apiKey, first.job_id ?? '');
    const before = await eventually(
      () => standInState(setup.repo.fullName),
      (s) => s.checkRuns[0]?.status === 'completed' && ownComments(s).length > 0,
    );
    const run = before.checkRuns[0];
    if (!run) throw new Error('no check run');

    const payload = merged(example('check_run', 'rerequested'), {
      installation: { id: setup.repo.installationId },
      repository: repositoryFields(setup.repo),
      check_run: {
        id: run.id,
        head_sha: run.head_sha,
        name: 'Omni',
        app: { id: Number(env.GITHUB_APP_ID), slug: env.GITHUB_APP_SLUG },
        check_suite: { head_branch: 'main', head_sha: run.head_sha },
      },
      sender: { login: SENDER, type: 'User' },
    });
    const { res, deliveryId } = await deliver('check_run', payload);
    expect(res.status, await res.text()).toBeLessThan(300);
    const second = await settled(deliveryId);
    expect(second.outcome, second.reason ?? '').toBe('job_created');
    expect(second.job_id).not.toBe(first.job_id);
    await waitForEnd(setup.apiKey, second.job_id ?? '');
    const after = await eventually(
      () => standInState(setup.repo.fullName),
      (s) =>
        s.checkRuns.length === 2 &&
        s.checkRuns.every((r) => r.status === 'completed') &&
        ownComments(s).length === 2,
    );
    expect(after.checkRuns[1]).toMatchObject({ head_sha: run.head_sha, conclusion: 'success' });
    expect(after.checkRuns[1]?.external_id).toBe(second.job_id);
    // The rerun answers on the same issue, as the first job did.
    expect(ownComments(after).map((c) => c.issueNumber)).toEqual([3, 3]);
    const rows = await env.DB.prepare(
      'SELECT trigger, spec, issue_number FROM github_jobs WHERE job_id IN (?, ?) ORDER BY created_at',
    )
      .bind(first.job_id, second.job_id)
      .all();
    expect(rows.results.map((r) => r['trigger'])).toEqual(['command', 'rerequest']);
    const specs = rows.results.map((r): unknown => JSON.parse(String(r['spec'])));
    expect(specs[1]).toEqual(specs[0]);
    await expectNoViolations(setup.repo.fullName);
  });
});

/** A trigger as the intake hands it over, with its delivery recorded `accepted`. */
async function acceptedWork(setup: Setup, issueNumber: number): Promise<GitHubWork> {
  const work: GitHubWork = {
    deliveryId: crypto.randomUUID(),
    installationId: setup.repo.installationId,
    tenantId: setup.tenantId,
    projectId: await defaultProject(setup.tenantId),
    trigger: 'command',
    repository: {
      owner: setup.repo.owner,
      name: setup.repo.name,
      id: 1,
      cloneUrl: setup.repo.cloneUrl,
      defaultBranch: 'main',
      private: false,
    },
    sender: SENDER,
    issueNumber,
    isPullRequest: false,
    commentId: 9_000 + issueNumber,
    head: null,
    prompt: 'Read the README.',
    rerunOfCheckRunId: null,
    settings: {
      triggers: { command: true, mention: true, labels: [], pull_request_review: false },
      agent: {},
      open_pull_requests: true,
    },
    receivedAt: Date.now(),
  };
  await env.DB.prepare(
    "INSERT INTO github_deliveries (delivery_id, event, action, installation_id, tenant_id, repository, sender, outcome, received_at, updated_at) VALUES (?, 'issue_comment', 'created', ?, ?, ?, ?, 'accepted', ?, ?)",
  )
    .bind(
      work.deliveryId,
      work.installationId,
      work.tenantId,
      setup.repo.fullName,
      SENDER,
      Date.now(),
      Date.now(),
    )
    .run();
  return work;
}

async function defaultProject(tenantId: string): Promise<string> {
  const row = await env.DB.prepare(
    'SELECT project_id FROM github_installations WHERE tenant_id = ?',
  )
    .bind(tenantId)
    .first();
  return String(row?.['project_id']);
}
