/**
 * POST /webhooks/github: real payloads from @octokit/webhooks-examples, signed as GitHub signs
 * them. What the intake itself does is asserted: the answer, the github_deliveries row, and the
 * GitHubWork handed to the installation's GitHubAppDO (its `intake` is replaced by a recorder,
 * so no GitHub or Daytona call follows).
 */
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { GitHubAppDO } from '../../durable-objects/github/github-app-do.ts';
import { createApp } from '../../worker/app.ts';
import type { GitHubWork } from '../../worker/github/work.ts';
import { MAX_GITHUB_BODY_BYTES } from '../../worker/routes/github-webhooks.ts';
import { MAX_PROMPT_BYTES } from '../../worker/schemas/jobs.ts';
import {
  deliver,
  deliveryRow,
  example,
  mapInstallation,
  merged,
  newInstallationId,
  signature,
} from './github-webhook-helpers.ts';
import { api, newTenant } from './helpers.ts';

const ProblemSchema = z.object({ status: z.number(), code: z.string(), detail: z.string() });
const AnswerSchema = z.object({
  delivery_id: z.string(),
  outcome: z.string(),
  reason: z.string().nullish(),
  trigger: z.string().optional(),
});

let tenantId: string;
let apiKey: string;
let installationId: number;
/** What was handed to GitHubAppDO.intake, in order. */
let handed: GitHubWork[];

beforeAll(async () => {
  ({ tenantId, apiKey } = await newTenant('admin'));
  installationId = newInstallationId();
  await mapInstallation(apiKey, installationId, {
    account_login: 'Codertocat',
    settings: { triggers: { labels: ['omni'], pull_request_review: true } },
  });
});

beforeEach(() => {
  handed = [];
  vi.spyOn(GitHubAppDO.prototype, 'intake').mockImplementation((work) => {
    handed.push(work);
    return Promise.resolve();
  });
  return () => {
    vi.restoreAllMocks();
  };
});

/** The installation, a human sender and `changes` over the example of `event`.`action`. */
function payload(event: string, action: string | undefined, changes: Record<string, unknown> = {}) {
  return merged(example(event, action), {
    installation: { id: installationId, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==' },
    sender: { login: 'octo-dev', type: 'User' },
    ...changes,
  });
}

function comment(body: string, changes: Record<string, unknown> = {}) {
  return payload('issue_comment', 'created', { comment: { body }, ...changes });
}

async function answer(res: Response) {
  const text = await res.text();
  return { status: res.status, body: AnswerSchema.parse(JSON.parse(text)) };
}

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return ProblemSchema.parse(await res.json());
}

describe('triggers', () => {
  it('a /omni command hands the prompt, with where it was asked, to the GitHubAppDO', async () => {
    // The request itself calls neither GitHub nor Daytona: nothing leaves the Worker.
    const outbound = vi.spyOn(globalThis, 'fetch');
    const { res, deliveryId } = await deliver('issue_comment', comment('/omni fix the flaky test'));
    expect(outbound).not.toHaveBeenCalled();
    const { status, body } = await answer(res);
    expect(status).toBe(202);
    expect(body).toMatchObject({
      delivery_id: deliveryId,
      outcome: 'accepted',
      trigger: 'command',
    });
    expect(handed).toHaveLength(1);
    const work = handed[0];
    const issue = z
      .object({ number: z.number(), title: z.string() })
      .parse(example('issue_comment', 'created').issue);
    expect(work).toMatchObject({
      deliveryId,
      installationId,
      tenantId,
      trigger: 'command',
      sender: 'octo-dev',
      issueNumber: issue.number,
      isPullRequest: false,
      head: null,
      rerunOfCheckRunId: null,
      repository: {
        owner: 'Codertocat',
        name: 'Hello-World',
        cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
        defaultBranch: 'master',
        private: false,
      },
      settings: {
        triggers: { command: true, mention: true, labels: ['omni'], pull_request_review: true },
      },
    });
    expect(work?.commentId).toEqual(expect.any(Number));
    expect(work?.prompt).toContain('fix the flaky test');
    expect(work?.prompt).toContain('Codertocat/Hello-World');
    expect(work?.prompt).toContain(`#${issue.number}`);
    expect(work?.prompt).toContain(issue.title);
    expect(work?.prompt).not.toContain('/omni');
    expect(await deliveryRow(deliveryId)).toMatchObject({
      event: 'issue_comment',
      action: 'created',
      installation_id: installationId,
      tenant_id: tenantId,
      repository: 'Codertocat/Hello-World',
      sender: 'octo-dev',
      outcome: 'accepted',
      reason: null,
    });
  });

  it('a mention of the App is a trigger; a longer handle that starts with it is not', async () => {
    const { res } = await deliver('issue_comment', comment('Hey @omni-test, please add a test'));
    expect((await answer(res)).body).toMatchObject({ outcome: 'accepted', trigger: 'mention' });
    expect(handed[0]?.prompt).toContain('please add a test');

    const other = await deliver('issue_comment', comment('cc @omni-testing and mail@omni-test'));
    expect((await answer(other.res)).body.outcome).toBe('ignored');
    expect(handed).toHaveLength(1);
  });

  it('a comment on a pull request says so', async () => {
    const onPr = comment('/omni review the error handling', {
      issue: {
        pull_request: { url: 'https://api.github.com/repos/Codertocat/Hello-World/pulls/1' },
      },
    });
    const { res } = await deliver('issue_comment', onPr);
    expect(res.status).toBe(202);
    expect(handed[0]).toMatchObject({ trigger: 'command', isPullRequest: true, head: null });
    expect(handed[0]?.prompt).toContain('pull request #');
  });

  it('a configured label starts a job with the issue title and body as the prompt', async () => {
    const labeled = payload('issues', 'labeled', {
      label: { name: 'Omni' },
      issue: { title: 'Crash on start', body: 'Steps: run it twice.' },
    });
    const { res } = await deliver('issues', labeled);
    expect((await answer(res)).body).toMatchObject({ outcome: 'accepted', trigger: 'label' });
    expect(handed[0]).toMatchObject({ trigger: 'label', commentId: null, isPullRequest: false });
    expect(handed[0]?.prompt).toContain('Crash on start');
    expect(handed[0]?.prompt).toContain('Steps: run it twice.');

    const other = await deliver('issues', payload('issues', 'labeled', { label: { name: 'bug' } }));
    expect((await answer(other.res)).body).toMatchObject({
      outcome: 'ignored',
      reason: 'the label "bug" is not a trigger',
    });
    expect(handed).toHaveLength(1);
  });

  it.each(['opened', 'synchronize', 'reopened', 'ready_for_review'])(
    'pull_request.%s asks for a review of the head commit',
    async (action) => {
      const pr = payload('pull_request', action, { pull_request: { draft: false } });
      const head = z
        .object({ number: z.number(), head: z.object({ sha: z.string(), ref: z.string() }) })
        .parse(pr.pull_request);
      const { res } = await deliver('pull_request', pr);
      expect((await answer(res)).body).toMatchObject({
        outcome: 'accepted',
        trigger: 'pull_request',
      });
      expect(handed[0]).toMatchObject({
        trigger: 'pull_request',
        issueNumber: head.number,
        isPullRequest: true,
        commentId: null,
        head: { sha: head.head.sha, ref: head.head.ref, cloneUrl: expect.stringMatching(/\.git$/) },
      });
      expect(handed[0]?.prompt).toMatch(/review/i);
    },
  );

  it('a draft pull request and other pull_request actions are not reviewed', async () => {
    const draft = await deliver(
      'pull_request',
      payload('pull_request', 'opened', { pull_request: { draft: true } }),
    );
    expect((await answer(draft.res)).body.outcome).toBe('ignored');
    const closed = await deliver('pull_request', payload('pull_request', 'closed'));
    expect((await answer(closed.res)).body).toMatchObject({
      outcome: 'ignored',
      reason: 'pull_request.closed is not a trigger',
    });
    expect(handed).toHaveLength(0);
  });

  it("a rerequested check run of this App starts its job again; another App's is ignored", async () => {
    const mine = payload('check_run', 'rerequested', {
      check_run: { app: { id: Number(env.GITHUB_APP_ID) } },
    });
    const run = z
      .object({
        id: z.number(),
        head_sha: z.string(),
        check_suite: z.object({ head_branch: z.string() }),
      })
      .parse(mine.check_run);
    const { res } = await deliver('check_run', mine);
    expect((await answer(res)).body).toMatchObject({ outcome: 'accepted', trigger: 'rerequest' });
    expect(handed[0]).toMatchObject({
      trigger: 'rerequest',
      rerunOfCheckRunId: run.id,
      issueNumber: null,
      prompt: '',
      head: { sha: run.head_sha, ref: run.check_suite.head_branch },
    });

    const theirs = payload('check_run', 'rerequested', { check_run: { app: { id: 99 } } });
    const other = await deliver('check_run', theirs);
    expect((await answer(other.res)).body).toMatchObject({
      outcome: 'ignored',
      reason: 'a check run of another App',
    });
    expect(handed).toHaveLength(1);
  });

  it('a prompt longer than a job allows is cut to MAX_PROMPT_BYTES', async () => {
    // 200 KB: more than the 128 KiB of API requests, within the 1 MiB of deliveries.
    const long = `/omni ${'é'.repeat(100_000)}`;
    const { res } = await deliver('issue_comment', comment(long));
    expect(res.status).toBe(202);
    const prompt = handed[0]?.prompt ?? '';
    expect(new TextEncoder().encode(prompt).length).toBeLessThanOrEqual(MAX_PROMPT_BYTES);
    expect(prompt.length).toBeGreaterThan(40_000);
    expect(prompt.endsWith('é')).toBe(true);
  });
});

describe('what never triggers', () => {
  it.each([
    ['a bot', { sender: { login: 'dependabot[bot]', type: 'Bot' } }],
    ["Omni's own App", { sender: { login: 'omni-test[bot]', type: 'User' } }],
  ])('%s', async (_, changes) => {
    const { res, deliveryId } = await deliver(
      'issue_comment',
      comment('/omni do it again', changes),
    );
    const { status, body } = await answer(res);
    expect(status).toBe(200);
    expect(body.outcome).toBe('ignored');
    expect(body.reason).toMatch(/^sent by the bot/);
    expect(handed).toHaveLength(0);
    expect(await deliveryRow(deliveryId)).toMatchObject({
      outcome: 'ignored',
      tenant_id: tenantId,
    });
  });

  it("a comment that carries Omni's marker", async () => {
    const { res } = await deliver(
      'issue_comment',
      comment('<!-- omni -->\n/omni done: see the PR'),
    );
    expect((await answer(res)).body).toMatchObject({
      outcome: 'ignored',
      reason: 'a comment of Omni',
    });
    expect(handed).toHaveLength(0);
  });

  it.each(['edited', 'deleted'])('a comment %s', async (action) => {
    const changed = payload('issue_comment', action, { comment: { body: '/omni fix it' } });
    const { res, deliveryId } = await deliver('issue_comment', changed);
    expect((await answer(res)).body).toMatchObject({
      outcome: 'ignored',
      reason: `a comment ${action}: only new comments trigger`,
    });
    expect(handed).toHaveLength(0);
    expect((await deliveryRow(deliveryId))?.action).toBe(action);
  });

  it('a comment without a command or a mention, and a command without a prompt', async () => {
    for (const body of ['Thanks, looks good', '/omni', '/omnibus is a word']) {
      const { res } = await deliver('issue_comment', comment(body));
      expect((await answer(res)).body.outcome).toBe('ignored');
    }
    expect(handed).toHaveLength(0);
  });

  it('an installation that is not mapped: acknowledged, recorded without a tenant', async () => {
    const unmapped = newInstallationId();
    const body = comment('/omni fix it', { installation: { id: unmapped } });
    const { res, deliveryId } = await deliver('issue_comment', body);
    const { status, body: json } = await answer(res);
    expect(status).toBe(200);
    expect(json.reason).toBe(
      `installation ${unmapped} is not mapped to a project: PUT /v1/github/installations/${unmapped}`,
    );
    expect(await deliveryRow(deliveryId)).toMatchObject({
      outcome: 'ignored',
      tenant_id: null,
      installation_id: unmapped,
    });
    expect(handed).toHaveLength(0);
  });

  it("a repository outside the mapped project's allow-list", async () => {
    const created = await api('/v1/projects', apiKey, {
      method: 'POST',
      body: JSON.stringify({
        name: `gh-${crypto.randomUUID()}`,
        repo_allow_list: ['https://github.com/acme'],
      }),
    });
    expect(created.status).toBe(201);
    const project = z.object({ id: z.string() }).parse(await created.json());
    const narrow = newInstallationId();
    await mapInstallation(apiKey, narrow, { project_id: project.id });
    const body = comment('/omni fix it', { installation: { id: narrow } });
    const { res } = await deliver('issue_comment', body);
    expect((await answer(res)).body).toMatchObject({
      outcome: 'ignored',
      reason: 'the project does not allow the repository Codertocat/Hello-World',
    });
    expect(handed).toHaveLength(0);
  });

  it('a trigger that the installation switched off', async () => {
    const quiet = newInstallationId();
    await mapInstallation(apiKey, quiet, {
      settings: { triggers: { command: false, mention: false } },
    });
    const { res } = await deliver(
      'issue_comment',
      comment('/omni fix it', { installation: { id: quiet } }),
    );
    expect((await answer(res)).body.outcome).toBe('ignored');
    const pr = payload('pull_request', 'opened', { installation: { id: quiet } });
    const review = await deliver('pull_request', pr);
    expect((await answer(review.res)).body).toMatchObject({ reason: 'pull request review is off' });
    expect(handed).toHaveLength(0);
  });

  it('ping, installation and unsupported events are acknowledged and recorded as ignored', async () => {
    const ping = await deliver('ping', example('ping'));
    expect((await answer(ping.res)).body).toMatchObject({
      outcome: 'ignored',
      reason: 'ping: the webhook works',
    });
    const installed = merged(example('installation', 'created'), {
      installation: { id: installationId },
    });
    const inst = await deliver('installation', installed);
    expect((await answer(inst.res)).body).toMatchObject({
      outcome: 'ignored',
      reason: 'installation created',
    });
    const star = await deliver('star', payload('star', 'created'));
    expect((await answer(star.res)).body).toMatchObject({
      outcome: 'ignored',
      reason: 'star is not an event Omni handles',
    });
    expect(await deliveryRow(star.deliveryId)).toMatchObject({
      event: 'star',
      tenant_id: tenantId,
    });
    expect(await deliveryRow(ping.deliveryId)).toMatchObject({ event: 'ping', outcome: 'ignored' });
    expect(handed).toHaveLength(0);
  });
});

describe('deliveries are handled once', () => {
  it('a redelivery answers 200 and starts nothing', async () => {
    const body = comment('/omni fix it once');
    const first = await deliver('issue_comment', body);
    expect(first.res.status).toBe(202);
    // The installation's GitHubAppDO took it on and created the job.
    await env.DB.prepare(
      "UPDATE github_deliveries SET outcome = 'job_created', job_id = 'job_1' WHERE delivery_id = ?",
    )
      .bind(first.deliveryId)
      .run();
    const again = await deliver('issue_comment', body, { deliveryId: first.deliveryId });
    expect(await answer(again.res)).toEqual({
      status: 200,
      body: { delivery_id: first.deliveryId, outcome: 'duplicate' },
    });
    expect(handed).toHaveLength(1);
    expect((await deliveryRow(first.deliveryId))?.outcome).toBe('job_created');
  });

  it('a redelivery of one still accepted is handed over again, in case the first never arrived', async () => {
    const body = comment('/omni fix it even after a crash');
    const first = await deliver('issue_comment', body);
    expect(first.res.status).toBe(202);
    const again = await deliver('issue_comment', body, { deliveryId: first.deliveryId });
    expect(await answer(again.res)).toEqual({
      status: 200,
      body: { delivery_id: first.deliveryId, outcome: 'duplicate' },
    });
    // GitHubAppDO.intake takes each delivery once (github-app-do tests); here it is the recorder.
    expect(handed.map((w) => w.deliveryId)).toEqual([first.deliveryId, first.deliveryId]);
  });

  it('a hand-over that fails is 503 and recorded failed; its redelivery is handled', async () => {
    vi.mocked(GitHubAppDO.prototype.intake).mockImplementationOnce(async () => {
      throw new Error('DO overloaded');
    });
    const body = comment('/omni try again later');
    const first = await deliver('issue_comment', body);
    expect(first.res.status).toBe(503);
    expect((await problem(first.res)).code).toBe('not_ready');
    expect(await deliveryRow(first.deliveryId)).toMatchObject({ outcome: 'failed' });
    expect(handed).toHaveLength(0);

    const again = await deliver('issue_comment', body, { deliveryId: first.deliveryId });
    expect(again.res.status).toBe(202);
    expect(handed.map((w) => w.deliveryId)).toEqual([first.deliveryId]);
    expect(await deliveryRow(first.deliveryId)).toMatchObject({
      outcome: 'accepted',
      reason: null,
    });
    const third = await deliver('issue_comment', body, { deliveryId: first.deliveryId });
    expect((await answer(third.res)).body.outcome).toBe('duplicate');
    // Still `accepted` (the recorder creates no job): handed over again, taken once by the DO.
    expect(handed.map((w) => w.deliveryId)).toEqual([first.deliveryId, first.deliveryId]);
  });
});

describe('signatures', () => {
  it('the previous secret is accepted during a rotation; a third one is refused', async () => {
    const previous = await deliver('issue_comment', comment('/omni with the old secret'), {
      secret: env.GITHUB_WEBHOOK_SECRET_PREVIOUS,
    });
    expect(previous.res.status).toBe(202);
    const third = await deliver('issue_comment', comment('/omni with a guessed secret'), {
      secret: 'test-github-webhook-secret-2',
    });
    expect(third.res.status).toBe(401);
    expect(await deliveryRow(third.deliveryId)).toBeNull();
    expect(handed).toHaveLength(1);
  });

  it.each([
    ['missing', { secret: null }],
    ['not hex', { signatureHeader: `sha256=${'z'.repeat(64)}` }],
    ['of another algorithm', { signatureHeader: `sha1=${'0'.repeat(40)}` }],
    ['of the right form but wrong', { signatureHeader: `sha256=${'0'.repeat(64)}` }],
  ])('a signature %s is 401: nothing recorded, nothing started', async (_, options) => {
    const { res, deliveryId } = await deliver('issue_comment', comment('/omni fix it'), options);
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('unauthorized');
    expect(await deliveryRow(deliveryId)).toBeNull();
    expect(handed).toHaveLength(0);
  });

  it('the signature covers the exact bytes: a body changed after signing is refused', async () => {
    const text = JSON.stringify(comment('/omni fix it'));
    const signed = await signature(text, env.GITHUB_WEBHOOK_SECRET);
    // The same JSON, reformatted: a parser would see no difference, the signature does.
    const reformatted = JSON.stringify(JSON.parse(text), null, 1);
    const { res, deliveryId } = await deliver('issue_comment', reformatted, {
      signatureHeader: signed,
    });
    expect(res.status).toBe(401);
    expect(await deliveryRow(deliveryId)).toBeNull();
    const exact = await deliver('issue_comment', text, { signatureHeader: signed });
    expect(exact.res.status).toBe(202);
  });
});

describe('bad requests', () => {
  it('a payload that fails validation is 400 naming the field, recorded invalid, and stays 400', async () => {
    const broken = comment('/omni fix it', { comment: { id: 'not a number' } });
    const first = await deliver('issue_comment', broken);
    expect(first.res.status).toBe(400);
    const p = await problem(first.res);
    expect(p.code).toBe('invalid_request');
    expect(p.detail).toContain('comment.id');
    expect(await deliveryRow(first.deliveryId)).toMatchObject({
      outcome: 'invalid',
      tenant_id: tenantId,
      reason: expect.stringContaining('comment.id'),
    });
    const again = await deliver('issue_comment', broken, { deliveryId: first.deliveryId });
    expect(again.res.status).toBe(400);
    expect(handed).toHaveLength(0);
  });

  it('a body that is not JSON is 400 and recorded invalid', async () => {
    const { res, deliveryId } = await deliver('issue_comment', 'payload=%7B%7D');
    expect(res.status).toBe(400);
    expect(await deliveryRow(deliveryId)).toMatchObject({
      outcome: 'invalid',
      reason: '(body): is not JSON',
    });
  });

  it('a signed delivery without X-GitHub-Delivery or X-GitHub-Event is 400', async () => {
    const noId = await deliver('issue_comment', comment('/omni x'), {
      headers: { 'x-github-delivery': '' },
    });
    expect(noId.res.status).toBe(400);
    expect((await problem(noId.res)).detail).toContain('X-GitHub-Delivery');
    const noEvent = await deliver('', comment('/omni x'));
    expect(noEvent.res.status).toBe(400);
    expect(handed).toHaveLength(0);
  });

  it('without GITHUB_WEBHOOK_SECRET every delivery is 503 naming the setting', async () => {
    const text = JSON.stringify(comment('/omni fix it'));
    const deliveryId = crypto.randomUUID();
    const request = new Request('https://omni.test/webhooks/github', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issue_comment',
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': await signature(text, env.GITHUB_WEBHOOK_SECRET),
      },
      body: text,
    });
    const unset = { ...env, GITHUB_WEBHOOK_SECRET: '', GITHUB_WEBHOOK_SECRET_PREVIOUS: '' };
    const res = await createApp().fetch(request, unset, createExecutionContext());
    expect(res.status).toBe(503);
    const p = await problem(res);
    expect(p.code).toBe('misconfigured');
    expect(p.detail).toContain('GITHUB_WEBHOOK_SECRET');
    expect(await deliveryRow(deliveryId)).toBeNull();
    expect(handed).toHaveLength(0);
  });

  it(`a body over ${MAX_GITHUB_BODY_BYTES} bytes is 413`, async () => {
    const huge = comment(`/omni ${'x'.repeat(MAX_GITHUB_BODY_BYTES)}`);
    const { res, deliveryId } = await deliver('issue_comment', huge);
    expect(res.status).toBe(413);
    expect((await problem(res)).code).toBe('payload_too_large');
    expect(await deliveryRow(deliveryId)).toBeNull();
    expect(handed).toHaveLength(0);
  });
});
