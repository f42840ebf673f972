/**
 * The Job DO's side of a job started from GitHub (durable-objects/job/github.ts, git-lines.ts).
 *
 * End to end, in local-daytona against the GitHub stand-in (test/github-stand-in.ts) and its git
 * server: a private repository clones with an installation token that appears nowhere in the
 * job (command, events, errors, state); a token GitHub refuses fails the clone saying so, one it
 * fails to give is retried; an agent's edit is pushed to the branch with the commit recorded and
 * reaches GitHubAppDO with the job's end; nothing changed, nothing pushed; a rejected push is
 * recorded next to a job that still succeeded.
 *
 * Pure parts: the clone line with a token (the variable named, never the value; helpers cleared
 * and one scoped to the origin), what its failures mean, when a job pushes, what GitHubAppDO is
 * told and when, the push script's report, and stored jobs from before GitHub still reading.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cloneCommand, cloneFailure, type CloneSpec } from '../../durable-objects/job/clone.ts';
import { classify } from '../../durable-objects/job/daytona.ts';
import { deadlineAttemptLimit, isTerminal } from '../../durable-objects/job/decisions.ts';
import { mayErase } from '../../durable-objects/job/erase.ts';
import {
  credentialSettings,
  GIT_TOKEN_VAR,
  GitHubStepFailed,
  maskTokens,
  MAX_PUSH_ERROR_CHARS,
  pushCommand,
  pushFailure,
  pushOutcome,
} from '../../durable-objects/job/git-lines.ts';
import { gitHubUpdate, needsPush, pushPending } from '../../durable-objects/job/github.ts';
import type { JobDO } from '../../durable-objects/job/job-do.ts';
import { initialState, jobStateSchema, type JobState } from '../../durable-objects/job/state.ts';
import { getBranchSha } from '../../worker/github/api.ts';
import { installationToken } from '../../worker/github/app-auth.ts';
import { gitHubAppObjectName, type GitHubJobLink } from '../../worker/github/work.ts';
import { CreateJobBodySchema } from '../../worker/schemas/jobs.ts';
import { createJobFor } from '../../worker/services/create-job.ts';
import { GOOD_KEY_PREFIX } from '../anthropic-script.ts';
import {
  addStandInFault,
  addStandInRepository,
  revokeStandInTokens,
  standInState,
  standInTokenValid,
} from './github-stand-in-client.ts';
import { addFaults, newJobId, timesFired } from './faults.ts';
import { allEvents, api, createJob, newTenant, waitForEnd } from './helpers.ts';

const link = {
  installationId: 4242,
  repository: 'octo-org/private-repo',
  pushBranch: 'omni/job-1',
};

const base = initialState({
  id: 'job_1',
  tenantId: 't',
  repoUrl: 'https://github.com/octo-org/private-repo.git',
  repoRef: 'main',
  command: 'claude -p',
  timeoutSeconds: 600,
  snapshot: 's',
  createdBy: 'github:4242',
  createdAt: 1_000_000,
  kind: 'agent',
  github: link,
});
const at = (patch: Partial<JobState>): JobState => ({ ...base, ...patch });
const succeeded = at({ status: 'succeeded', sandboxId: 'sb', finishedAt: 2_000_000 });

describe('the clone of a job from GitHub', () => {
  const spec: CloneSpec = {
    url: 'https://github.com/octo-org/private-repo.git',
    ref: null,
    dir: 'repo',
    development: false,
  };

  it('names the token variable for a helper scoped to the origin, after clearing the others', () => {
    const line = cloneCommand({ ...spec, authenticated: true });
    expect(line).toContain(`'-c' 'credential.helper=' '-c' 'credential.https://github.com.helper=`);
    expect(line).toContain(`password=$${GIT_TOKEN_VAR}`);
    expect(line).toContain('username=x-access-token');
    // Still no redirects, https alone.
    expect(line).toContain(`'-c' 'http.followRedirects=false'`);
    expect(line).toContain(`'clone' '--' 'https://github.com/octo-org/private-repo.git' 'repo'`);
    expect(cloneCommand(spec)).not.toContain('credential');
  });

  it('scopes the helper to the scheme, host and port of the repository', () => {
    expect(credentialSettings('http://127.0.0.1:8123/o/r.git')[1]).toMatch(
      /^credential\.http:\/\/127\.0\.0\.1:8123\.helper=!/,
    );
  });

  it('says the token was refused when GitHub answers 401 or 403 to it', () => {
    const output =
      "fatal: Authentication failed for 'https://github.com/octo-org/private-repo.git/'";
    const failure = cloneFailure(128, output, { ...spec, authenticated: true });
    expect(failure.message).toContain("GitHub refused the installation's token");
    expect(failure.transient).toBe(false);
    expect(cloneFailure(128, output, spec).message).toContain('only public repositories');
  });

  it('masks a token in whatever git printed', () => {
    expect(maskTokens('fatal: ghs_abcdef at ghs_abcdef', ['ghs_abcdef'])).toBe('fatal: *** at ***');
    expect(maskTokens('nothing', [''])).toBe('nothing');
  });

  it('classes a token that could not be had as the clone step classes errors', () => {
    expect(classify(new GitHubStepFailed('no answer', true)).kind).toBe('transient');
    expect(classify(new GitHubStepFailed('refused', false))).toEqual({ kind: 'permanent' });
  });
});

describe('the push of a job from GitHub', () => {
  it('happens for a succeeded agent job with a branch and a sandbox only', () => {
    expect(needsPush(succeeded)).toBe(true);
    expect(needsPush(at({ ...succeeded, status: 'failed' }))).toBe(false);
    expect(needsPush(at({ ...succeeded, kind: 'command' }))).toBe(false);
    expect(needsPush(at({ ...succeeded, github: { ...link, pushBranch: null } }))).toBe(false);
    expect(needsPush(at({ ...succeeded, github: null }))).toBe(false);
    expect(needsPush(at({ ...succeeded, sandboxId: null }))).toBe(false);
  });

  it('names the token in its text, never a value, and pushes HEAD to the branch', () => {
    const line = pushCommand({
      url: 'https://github.com/o/r.git',
      branch: "omni/it's",
      dir: 'repo',
      message: 'Omni job job_1',
      development: false,
    });
    expect(line).toContain(`unset ${GIT_TOKEN_VAR}`);
    expect(line).toContain(`${GIT_TOKEN_VAR}="$token" git `);
    expect(line).toContain(
      `'push' '--no-verify' '--porcelain' '--' 'https://github.com/o/r.git' 'HEAD:refs/heads/omni/it'\\''s'`,
    );
    expect(line).toContain(`'core.hooksPath=/dev/null'`);
    expect(line).not.toContain('protocol.http.allow');
  });

  it('reads what the script reported', () => {
    const sha = 'a'.repeat(40);
    expect(pushOutcome(`x\nomni-push: ${sha} 3\n`)).toEqual({
      pushed: true,
      commitSha: sha,
      changedFiles: 3,
    });
    expect(pushOutcome('omni-push: none\n')).toEqual({ pushed: false });
    expect(pushOutcome('fatal: something\n')).toBeNull();
    expect(pushOutcome('omni-push: garbage\n')).toBeNull();
  });

  it('classes its failures: the network transient, a refusal or an existing branch not', () => {
    const gone = pushFailure(
      128,
      "fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned error: 502",
    );
    expect(gone.transient).toBe(true);
    const refused = pushFailure(
      128,
      'remote: Permission to o/r.git denied to bot.\nfatal: unable to access: The requested URL returned error: 403',
    );
    expect(refused.transient).toBe(false);
    expect(refused.message).toContain("GitHub refused the installation's token for the push");
    const exists = pushFailure(1, ' ! [rejected]        HEAD -> omni/job-1 (fetch first)');
    expect(exists.message).toContain('the branch exists on GitHub with other commits');
    expect(pushFailure(1, 'x'.repeat(5000)).message.length).toBeLessThan(1100);
  });

  it('keeps the job from being erased, and bounds its own attempts', () => {
    expect(mayErase(succeeded, ['push'], 0)).toBe(false);
    expect(mayErase(succeeded, ['retention', 'webhook'], 0)).toBe(true);
    expect(deadlineAttemptLimit('push')).toBeNull();
  });
});

describe('what GitHubAppDO is told', () => {
  it('is nothing for a job not from GitHub', () => {
    expect(gitHubUpdate(at({ github: null, status: 'running' }))).toBeNull();
  });

  it('waits, once the job ended, for the result of its push', () => {
    const pending = at({ ...succeeded, githubPushStep: 'pending' });
    expect(pushPending(pending)).toBe(true);
    expect(gitHubUpdate(pending)).toBeNull();
    expect(gitHubUpdate(at({ ...pending, githubPushStep: 'requested' }))).toBeNull();
    // A running job's update goes out whatever the push (there is none yet).
    expect(gitHubUpdate(at({ status: 'running', runningAt: 1_500_000 }))).toMatchObject({
      status: 'running',
      runningAt: 1_500_000,
      push: null,
    });
  });

  it('carries the outcome, cost, times, result and push', () => {
    const push = { branch: 'omni/job-1', commitSha: 'b'.repeat(40), changedFiles: 2 };
    const done = at({
      ...succeeded,
      exitCode: 0,
      costMicroUsd: 12_345,
      runningAt: 1_500_000,
      agentResult: 'Done.',
      githubPushStep: 'done',
      githubPush: push,
    });
    expect(gitHubUpdate(done)).toEqual({
      jobId: 'job_1',
      tenantId: 't',
      status: 'succeeded',
      exitCode: 0,
      errorCode: null,
      errorMessage: null,
      costMicroUsd: 12_345,
      createdAt: 1_000_000,
      runningAt: 1_500_000,
      finishedAt: 2_000_000,
      agentResult: 'Done.',
      push,
      pushError: null,
    });
    const failed = at({ ...done, githubPush: null, githubPushError: 'git: refused' });
    expect(gitHubUpdate(failed)).toMatchObject({ push: null, pushError: 'git: refused' });
  });
});

describe('stored jobs', () => {
  it('from before GitHub still read, without a link or a push', () => {
    const { github, githubPushStep, githubPush, githubPushError, ...stored } = base;
    expect([github, githubPushStep, githubPush, githubPushError]).toEqual([link, null, null, null]);
    const read = jobStateSchema.parse(JSON.parse(JSON.stringify(stored)));
    expect(read).toMatchObject({
      github: null,
      githubPushStep: null,
      githubPush: null,
      githubPushError: null,
    });
    expect(jobStateSchema.parse(JSON.parse(JSON.stringify(succeeded))).github).toEqual(link);
  });
});

// ---- Jobs from GitHub, end to end in local-daytona against the GitHub stand-in --------------

/** Starts a job the way GitHubAppDO does: through the creation core, with a GitHub link. */
async function createGitHubJob(
  tenantId: string,
  github: GitHubJobLink,
  body: unknown,
  jobId?: string,
) {
  const pending: Array<Promise<unknown>> = [];
  const created = await createJobFor(
    {
      env,
      tenantId,
      actor: 'github:octocat',
      requestId: `test-${crypto.randomUUID()}`,
      waitUntil: (promise) => void pending.push(promise),
      audit: () => Promise.resolve(),
      idempotencyKey: null,
      github,
      ...(jobId === undefined ? {} : { jobId }),
    },
    CreateJobBodySchema.parse(body),
  );
  await Promise.allSettled(pending);
  return created.row;
}

/** The job's state as its Job DO stores it. */
async function storedState(jobId: string): Promise<JobState> {
  return runInDurableObject(env.JOB.getByName(jobId), (instance: JobDO) =>
    instance['record'].require(),
  );
}

/** Polls the job's stored state until `done` holds for it (bounded by the test timeout). */
async function stateWhen(jobId: string, done: (state: JobState) => boolean): Promise<JobState> {
  for (;;) {
    const state = await storedState(jobId);
    if (done(state)) return state;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Once the job's end has been carried out: its push recorded and its sandbox deleted. */
const settled = (state: JobState) =>
  isTerminal(state) && !pushPending(state) && state.sandboxDeleted;

/** The latest update of `jobId` that GitHubAppDO of `installationId` stored, or null. */
async function updateStored(installationId: number, jobId: string): Promise<unknown> {
  const stub = env.GITHUB.getByName(gitHubAppObjectName(installationId));
  return runInDurableObject(stub, (_instance, state) => {
    const rows = state.storage.sql
      .exec("SELECT body FROM items WHERE kind = 'job' AND job_id = ?", jobId)
      .toArray();
    const body = rows[0]?.['body'];
    return typeof body === 'string' ? (JSON.parse(body) as unknown) : null;
  });
}

async function updateWhen(installationId: number, jobId: string, status: string) {
  for (;;) {
    const stored = await updateStored(installationId, jobId);
    if (z.looseObject({ status: z.string() }).safeParse(stored).data?.status === status) {
      return stored;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The token the Job DO got for `repository` (the isolate's cache hands out the same one). */
async function tokenFor(installationId: number, repository: string): Promise<string> {
  return (await installationToken(env, installationId, repository)).token;
}

/** The tip of `branch` in the stand-in's repository, or null. */
/** A new repository on the stand-in and the link of a job on it that pushes to a new branch. */
async function pushingRepository(options: { private?: boolean } = {}) {
  const repo = await addStandInRepository(options);
  const branch = `omni/${crypto.randomUUID().slice(0, 8)}`;
  const github: GitHubJobLink = {
    installationId: repo.installationId,
    repository: repo.fullName,
    pushBranch: branch,
  };
  return { repo, branch, github };
}

function branchSha(installationId: number, fullName: string, branch: string) {
  const [owner = '', repo = ''] = fullName.split('/');
  return getBranchSha({ env, installationId, owner, repo }, branch);
}

describe('jobs from GitHub', () => {
  let tenantId: string;
  let apiKey: string;
  beforeAll(async () => {
    ({ tenantId, apiKey } = await newTenant('owner'));
    const key = `${GOOD_KEY_PREFIX}${crypto.randomUUID()}`;
    const res = await api('/v1/secrets/ANTHROPIC_API_KEY', apiKey, {
      method: 'PUT',
      body: JSON.stringify({ value: key }),
    });
    expect(res.status, await res.text()).toBe(201);
  });

  /** Runs `command` in a job on `ref` of the linked repository (pushing nothing); its stdout. */
  async function stdoutOnRef(github: GitHubJobLink, url: string, ref: string, command: string) {
    const check = await createGitHubJob(
      tenantId,
      { ...github, pushBranch: null },
      { repo: { url, ref }, command },
    );
    expect((await waitForEnd(apiKey, check.id)).status).toBe('succeeded');
    return (await allEvents(apiKey, check.id))
      .map((e) => (e['type'] === 'stdout' ? String(e['data']) : ''))
      .join('');
  }

  it('clone a private repository with a token that is nowhere in the job', async () => {
    const repo = await addStandInRepository({ private: true });
    const github = {
      installationId: repo.installationId,
      repository: repo.fullName,
      pushBranch: null,
    };
    // The repository is private indeed: without the App, the clone is refused.
    const anonymous = await createJob(apiKey, {
      repo: { url: repo.cloneUrl },
      command: 'true',
    });
    const refused = await waitForEnd(apiKey, anonymous.id);
    expect(refused.error?.code).toBe('clone_failed');
    expect(refused.error?.message).toContain('asks for credentials');

    const row = await createGitHubJob(tenantId, github, {
      repo: { url: repo.cloneUrl },
      command: 'head -n 1 README.md; cat .git/config; env',
    });
    const ended = await waitForEnd(apiKey, row.id);
    expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');
    const events = await allEvents(apiKey, row.id);
    const stdout = events.map((e) => (e['type'] === 'stdout' ? String(e['data']) : '')).join('');
    expect(stdout).toContain('# Sample repository');
    const token = await tokenFor(repo.installationId, repo.fullName);
    expect(await standInTokenValid(token, repo.fullName)).toBe(true);
    // The one token the stand-in issued for the repository: the Job DO's (the isolate's cache).
    expect((await standInState(repo.fullName)).tokens).toHaveLength(1);
    // Not in the checkout's config, the command's environment, the log, the job or its command.
    expect(stdout).not.toContain(GIT_TOKEN_VAR);
    const state = await storedState(row.id);
    for (const text of [JSON.stringify(events), JSON.stringify(ended), JSON.stringify(state)]) {
      expect(text).not.toContain(token);
    }
    expect(state.command).not.toContain('credential');
    expect(state.github).toEqual(github);
    // A job that never runs the agent pushes nothing, and GitHubAppDO heard of its end.
    expect(await updateWhen(repo.installationId, row.id, 'succeeded')).toMatchObject({
      jobId: row.id,
      exitCode: 0,
      push: null,
      pushError: null,
    });
  });

  it('fail the clone with a clear message when GitHub refuses a token, and retry when it fails', async () => {
    const repo = await addStandInRepository({ private: true });
    const github = {
      installationId: repo.installationId,
      repository: repo.fullName,
      pushBranch: null,
    };
    const operation = 'POST /app/installations/{installation_id}/access_tokens';
    await addStandInFault({ operation, repository: repo.fullName, status: 503, times: 2 });
    const retried = await createGitHubJob(tenantId, github, {
      repo: { url: repo.cloneUrl },
      command: 'true',
    });
    expect((await waitForEnd(apiKey, retried.id)).status).toBe('succeeded');

    const other = await addStandInRepository({ private: true });
    await addStandInFault({ operation, repository: other.fullName, status: 404, times: 1 });
    const refused = await createGitHubJob(
      tenantId,
      { installationId: other.installationId, repository: other.fullName, pushBranch: null },
      { repo: { url: other.cloneUrl }, command: 'true' },
    );
    const ended = await waitForEnd(apiKey, refused.id);
    expect(ended.error?.code).toBe('clone_failed');
    expect(ended.error?.message).toContain(
      `could not get an installation token for ${other.fullName}`,
    );
    expect(ended.error?.message).toContain('404');
  });

  it('fail the clone when git is refused a revoked token, and clone with a new one next', async () => {
    const repo = await addStandInRepository({ private: true });
    const github = {
      installationId: repo.installationId,
      repository: repo.fullName,
      pushBranch: null,
    };
    const body = { repo: { url: repo.cloneUrl }, command: 'true' };
    const first = await createGitHubJob(tenantId, github, body);
    expect((await waitForEnd(apiKey, first.id)).status).toBe('succeeded');
    // GitHub revokes the token the isolate still holds in its cache.
    expect(await revokeStandInTokens(repo.fullName)).toBe(1);
    const refused = await createGitHubJob(tenantId, github, body);
    const ended = await waitForEnd(apiKey, refused.id);
    expect(ended.error?.code).toBe('clone_failed');
    expect(ended.error?.message).toContain("GitHub refused the installation's token");
    const again = await createGitHubJob(tenantId, github, body);
    expect((await waitForEnd(apiKey, again.id)).status).toBe('succeeded');
    // The revoked token is gone from the stand-in: the one it lists now is the new one.
    expect((await standInState(repo.fullName)).tokens).toHaveLength(1);
  });

  it('push the changes of an agent that edited a file to the branch, with the commit recorded', async () => {
    const { repo, branch, github } = await pushingRepository({ private: true });
    const row = await createGitHubJob(tenantId, github, {
      repo: { url: repo.cloneUrl },
      agent: { prompt: 'Write the notes. RUN[echo written by the agent > NOTES.md]' },
    });
    const ended = await waitForEnd(apiKey, row.id);
    expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');
    const state = await stateWhen(row.id, settled);
    expect(state.githubPushError).toBeNull();
    expect(state.githubPush).toMatchObject({ branch, changedFiles: 1 });
    const sha = state.githubPush?.commitSha;
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await branchSha(repo.installationId, repo.fullName, branch)).toBe(sha);
    // GitHubAppDO got the end with the push.
    expect(await updateWhen(repo.installationId, row.id, 'succeeded')).toMatchObject({
      jobId: row.id,
      status: 'succeeded',
      push: state.githubPush,
      pushError: null,
    });
    // The branch holds the file: a job on it reads it back.
    const out = await stdoutOnRef(
      github,
      repo.cloneUrl,
      branch,
      'cat NOTES.md; git log -1 --format=%an%n%s',
    );
    expect(out).toContain('written by the agent');
    expect(out).toContain(`Omni\nOmni job ${row.id}`);
    const token = await tokenFor(repo.installationId, repo.fullName);
    expect(JSON.stringify(await allEvents(apiKey, row.id))).not.toContain(token);
  });

  it('push once when the answer to the push was lost, and record it when asked again', async () => {
    const { repo, branch, github } = await pushingRepository({ private: true });
    const { id, sandbox } = newJobId();
    // The first one-shot command is the clone; the push script, the second, runs but its answer
    // is lost (as if the Job DO had been evicted while it ran).
    const path = '/toolbox/:id/process/execute';
    const [, lost] = await addFaults(
      { action: 'delay', ms: 1, path, sandbox, times: 1 },
      { action: 'drop', after: true, path, sandbox, times: 1 },
    );
    await createGitHubJob(
      tenantId,
      github,
      { repo: { url: repo.cloneUrl }, agent: { prompt: 'RUN[echo once > ONCE.md]' } },
      id,
    );
    const state = await stateWhen(id, settled);
    expect(state.status).toBe('succeeded');
    expect(await timesFired(lost ?? '')).toBe(1);
    expect(state.githubPushError).toBeNull();
    expect(state.githubPush?.commitSha).toBe(
      await branchSha(repo.installationId, repo.fullName, branch),
    );
    // One commit on the branch, not two.
    const out = await stdoutOnRef(
      github,
      repo.cloneUrl,
      branch,
      'echo "commits: $(git rev-list --count origin/main..HEAD)"',
    );
    expect(out).toContain('commits: 1');
  });

  it('push nothing when nothing changed', async () => {
    const { repo, branch, github } = await pushingRepository();
    const row = await createGitHubJob(tenantId, github, {
      repo: { url: repo.cloneUrl },
      agent: { prompt: 'Read the README.' },
    });
    expect((await waitForEnd(apiKey, row.id)).status).toBe('succeeded');
    const state = await stateWhen(row.id, settled);
    expect(state.githubPushStep).toBe('done');
    expect(state.githubPush).toBeNull();
    expect(state.githubPushError).toBeNull();
    expect(await branchSha(repo.installationId, repo.fullName, branch)).toBeNull();
    expect(await updateWhen(repo.installationId, row.id, 'succeeded')).toMatchObject({
      push: null,
      pushError: null,
    });
  });

  it('record a push GitHub rejected next to the job, which still succeeded', async () => {
    const { repo, github } = await pushingRepository();
    // A first job takes the branch; a second one, with other changes, cannot push to it.
    const first = await createGitHubJob(tenantId, github, {
      repo: { url: repo.cloneUrl },
      agent: { prompt: 'RUN[echo one > ONE.md]' },
    });
    expect((await stateWhen(first.id, settled)).githubPush).not.toBeNull();
    const second = await createGitHubJob(tenantId, github, {
      repo: { url: repo.cloneUrl },
      agent: { prompt: 'RUN[echo two > TWO.md]' },
    });
    const ended = await waitForEnd(apiKey, second.id);
    expect(ended.status).toBe('succeeded');
    expect(ended.error).toBeNull();
    const state = await stateWhen(second.id, settled);
    expect(state.githubPush).toBeNull();
    expect(state.githubPushError).toContain('the branch exists on GitHub with other commits');
    expect(state.githubPushError?.length).toBeLessThanOrEqual(MAX_PUSH_ERROR_CHARS);
    const token = await tokenFor(repo.installationId, repo.fullName);
    expect(state.githubPushError).not.toContain(token);
    expect(await updateWhen(repo.installationId, second.id, 'succeeded')).toMatchObject({
      push: null,
      pushError: state.githubPushError,
    });
  });
});
