/**
 * The Job DO's side of a job started from GitHub (durable-objects/job/github.ts, git-lines.ts).
 *
 * Pure parts: the clone line with a token (the variable named, never the value; helpers cleared
 * and one scoped to the origin), what its failures mean, when a job pushes, what GitHubAppDO is
 * told and when, the push script's report, and stored jobs from before GitHub still reading.
 */
import { describe, expect, it } from 'vitest';
import { cloneCommand, cloneFailure, type CloneSpec } from '../../durable-objects/job/clone.ts';
import { classify } from '../../durable-objects/job/daytona.ts';
import { deadlineAttemptLimit } from '../../durable-objects/job/decisions.ts';
import { mayErase } from '../../durable-objects/job/erase.ts';
import {
  credentialSettings,
  GIT_TOKEN_VAR,
  GitHubStepFailed,
  maskTokens,
  pushCommand,
  pushFailure,
  pushOutcome,
} from '../../durable-objects/job/git-lines.ts';
import { gitHubUpdate, needsPush, pushPending } from '../../durable-objects/job/github.ts';
import { initialState, jobStateSchema, type JobState } from '../../durable-objects/job/state.ts';

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
