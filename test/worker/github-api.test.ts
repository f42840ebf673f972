/**
 * The GitHub client (worker/github/app-auth.ts, worker/github/api.ts) against the stand-in
 * (test/github-stand-in.ts), which checks each request against GitHub's OpenAPI description:
 * the App JWT from a PKCS#1 and a PKCS#8 key, installation tokens scoped to one repository,
 * cached and shared, refreshed near expiry; each REST call; errors classed transient or not.
 */
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  addReaction,
  createCheckRun,
  createIssueComment,
  createPullRequest,
  cutToLimit,
  getBranchSha,
  getPullRequest,
  getRef,
  getRepository,
  GitHubApiError,
  repositoryPermission,
  updateCheckRun,
  type GitHubContext,
} from '../../worker/github/api.ts';
import {
  appJwt,
  clearInstallationTokenCache,
  installationToken,
  TOKEN_REFRESH_MARGIN_MS,
} from '../../worker/github/app-auth.ts';
import { githubRequest } from '../../worker/github/client.ts';
import { loadGitHubConfig } from '../../worker/github/config.ts';
import {
  addStandInFault,
  addStandInRepository,
  expectNoViolations,
  revokeStandInTokens,
  setStandInPermission,
  setStandInTokenLifetime,
  standInState,
  standInTokenValid,
} from './github-stand-in-client.ts';

const TOKEN_ROUTE = 'POST /app/installations/{installation_id}/access_tokens';

type Repo = Awaited<ReturnType<typeof addStandInRepository>>;
let repo: Repo;
let gh: GitHubContext;

beforeEach(async () => {
  clearInstallationTokenCache();
  repo = await addStandInRepository();
  gh = { env, installationId: repo.installationId, owner: repo.owner, repo: repo.name };
});

afterEach(async () => {
  await expectNoViolations(repo.fullName);
});

async function tokenRequests(fullName: string): Promise<number> {
  const { requests } = await standInState(fullName);
  return requests.filter((r) => r.operation === TOKEN_ROUTE && r.status === 201).length;
}

describe('the App JWT', () => {
  it('is accepted by GET /app when signed with the PKCS#1 key GitHub hands out', async () => {
    const config = loadGitHubConfig(env);
    expect(config.privateKey).toContain('BEGIN RSA PRIVATE KEY');
    const jwt = await appJwt(config);
    const app = await githubRequest(config, { jwt })('GET /app');
    expect(app.status).toBe(200);
  });

  it('is accepted when signed with the same key as PKCS#8', async () => {
    const config = { ...loadGitHubConfig(env), privateKey: env.TEST_GITHUB_APP_PRIVATE_KEY_PKCS8 };
    expect(config.privateKey).toContain('BEGIN PRIVATE KEY');
    const jwt = await appJwt(config);
    expect((await githubRequest(config, { jwt })('GET /app')).status).toBe(200);
  });

  it('names the App, was issued a minute ago and expires within ten minutes', async () => {
    const jwt = await appJwt(loadGitHubConfig(env));
    const [, payload] = jwt.split('.');
    const claims = z
      .object({ iss: z.string(), iat: z.number(), exp: z.number() })
      .parse(JSON.parse(atob((payload ?? '').replace(/-/g, '+').replace(/_/g, '/'))));
    const now = Math.floor(Date.now() / 1000);
    const { iss, iat, exp } = claims;
    expect(iss).toBe(env.GITHUB_APP_ID);
    expect(iat).toBeLessThanOrEqual(now - 59);
    expect(exp - iat).toBeLessThanOrEqual(600);
    expect(exp).toBeGreaterThan(now);
  });
});

describe('installation tokens', () => {
  it('reach only the one repository', async () => {
    const other = await addStandInRepository({ installationId: repo.installationId });
    const { token, expiresAt } = await installationToken(env, repo.installationId, repo.fullName);
    expect(expiresAt).toBeGreaterThan(Date.now() + TOKEN_REFRESH_MARGIN_MS);
    expect(await standInTokenValid(token, repo.fullName)).toBe(true);
    expect(await standInTokenValid(token, other.fullName)).toBe(false);
    const { tokens } = await standInState(repo.fullName);
    expect(tokens.map((t) => t.repositories)).toEqual([[repo.fullName.toLowerCase()]]);
  });

  it('are cached and reused while they have more than five minutes left', async () => {
    const first = await installationToken(env, repo.installationId, repo.fullName);
    const second = await installationToken(env, repo.installationId, repo.name);
    expect(second.token).toBe(first.token);
    expect(await tokenRequests(repo.fullName)).toBe(1);
  });

  it('are shared by callers asking at the same time', async () => {
    const tokens = await Promise.all(
      [1, 2, 3].map(() => installationToken(env, repo.installationId, repo.fullName)),
    );
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(await tokenRequests(repo.fullName)).toBe(1);
  });

  it('are asked for again when the one held expires within five minutes', async () => {
    await setStandInTokenLifetime(repo.installationId, 4 * 60);
    const first = await installationToken(env, repo.installationId, repo.fullName);
    const second = await installationToken(env, repo.installationId, repo.fullName);
    expect(second.token).not.toBe(first.token);
    expect(await tokenRequests(repo.fullName)).toBe(2);
  });

  it('are dropped from the cache when GitHub answers 401 (revoked)', async () => {
    expect(await getBranchSha(gh, 'main')).toMatch(/^[0-9a-f]{40}$/);
    expect(await revokeStandInTokens(repo.fullName)).toBe(1);
    const refused = await getBranchSha(gh, 'main').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GitHubApiError);
    expect(refused).toMatchObject({ status: 401, transient: false });
    expect(await getBranchSha(gh, 'main')).toMatch(/^[0-9a-f]{40}$/);
    expect(await tokenRequests(repo.fullName)).toBe(2);
  });

  it('fail transiently on a 503, for the repository the fault names only', async () => {
    const other = await addStandInRepository();
    await addStandInFault({ operation: TOKEN_ROUTE, repository: repo.fullName, status: 503 });
    await expect(
      installationToken(env, other.installationId, other.fullName),
    ).resolves.toMatchObject({
      token: expect.any(String),
    });
    const error = await installationToken(env, repo.installationId, repo.fullName).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitHubApiError);
    expect(error).toMatchObject({ status: 503, transient: true });
    await expect(installationToken(env, repo.installationId, repo.fullName)).resolves.toMatchObject(
      {
        token: expect.any(String),
      },
    );
  });

  it('fail permanently for an installation GitHub does not know', async () => {
    const error = await installationToken(env, 1, repo.fullName).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect(error).toMatchObject({ status: 404, transient: false });
  });
});

describe('REST calls', () => {
  it('reads permissions: admin, maintain as write, triage as read, none and unknown users', async () => {
    await setStandInPermission(repo.fullName, 'alice', 'admin');
    await setStandInPermission(repo.fullName, 'bob', 'maintain');
    await setStandInPermission(repo.fullName, 'carol', 'triage');
    await setStandInPermission(repo.fullName, 'dave', 'none');
    expect(await repositoryPermission(gh, 'alice')).toBe('admin');
    expect(await repositoryPermission(gh, 'bob')).toBe('write');
    expect(await repositoryPermission(gh, 'carol')).toBe('read');
    expect(await repositoryPermission(gh, 'dave')).toBe('none');
    expect(await repositoryPermission(gh, 'nobody-here')).toBe('none');
  });

  it('reacts to a comment and comments on an issue', async () => {
    const reaction = await addReaction(gh, 77, 'eyes');
    const comment = await createIssueComment(gh, 5, 'Done: **success**, $0.01');
    const state = await standInState(repo.fullName);
    expect(state.reactions).toMatchObject([{ id: reaction.id, commentId: 77, content: 'eyes' }]);
    expect(state.comments).toMatchObject([
      { id: comment.id, issueNumber: 5, body: 'Done: **success**, $0.01' },
    ]);
    expect(comment.htmlUrl).toContain(`/issues/5`);
  });

  it('creates a check run and takes it through in_progress to completed', async () => {
    const sha = await getBranchSha(gh, 'main');
    if (sha === null) throw new Error('no main branch');
    const created = await createCheckRun(gh, {
      name: 'Omni',
      headSha: sha,
      status: 'queued',
      detailsUrl: 'https://omni.test/v1/jobs/job_1/logs',
      externalId: 'job_1',
    });
    await updateCheckRun(gh, created.id, { status: 'in_progress', startedAt: new Date() });
    await updateCheckRun(gh, created.id, {
      conclusion: 'success',
      completedAt: new Date(),
      output: { title: 'Succeeded', summary: 'Took 3 s, cost $0.01' },
    });
    const { checkRuns } = await standInState(repo.fullName);
    expect(checkRuns).toMatchObject([
      {
        id: created.id,
        head_sha: sha,
        status: 'completed',
        conclusion: 'success',
        details_url: 'https://omni.test/v1/jobs/job_1/logs',
        output: { title: 'Succeeded', summary: 'Took 3 s, cost $0.01' },
        history: [
          { status: 'queued', conclusion: null },
          { status: 'in_progress', conclusion: null },
          { status: 'completed', conclusion: 'success' },
        ],
      },
    ]);
  });

  it("cuts summaries and comments at GitHub's 65535 characters, not inside a character", async () => {
    const sha = await getBranchSha(gh, 'main');
    if (sha === null) throw new Error('no main branch');
    const long = `${'a'.repeat(65_534)}😀 and more`;
    await createCheckRun(gh, {
      name: 'Omni',
      headSha: sha,
      conclusion: 'failure',
      output: { title: 'Failed', summary: long, text: long },
    });
    await createIssueComment(gh, 3, long);
    const state = await standInState(repo.fullName);
    expect(state.checkRuns[0]?.output.summary).toBe('a'.repeat(65_534));
    expect(state.comments[0]?.body).toBe('a'.repeat(65_534));
    expect(cutToLimit('abc', 2)).toBe('ab');
  });

  it('reads refs and branches, null when missing', async () => {
    const main = await getRef(gh, 'heads/main');
    expect(main).toMatchObject({
      ref: 'refs/heads/main',
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(await getBranchSha(gh, 'main')).toBe(main?.sha);
    expect(await getRef(gh, 'heads/omni/missing')).toBeNull();
    expect(await getBranchSha(gh, 'missing')).toBeNull();
  });

  it('reads the repository', async () => {
    expect(await getRepository(gh)).toMatchObject({
      defaultBranch: 'main',
      private: false,
      cloneUrl: repo.cloneUrl,
    });
  });

  it('opens a pull request and reads it back; null for a missing one', async () => {
    expect(await getPullRequest(gh, 9999)).toBeNull();
    const opened = await createPullRequest(gh, {
      title: 'Omni: a feature',
      head: 'feature',
      base: 'main',
      body: 'Closes #5',
    });
    expect(opened).toMatchObject({
      state: 'open',
      head: { ref: 'feature' },
      base: { ref: 'main' },
    });
    expect(await getPullRequest(gh, opened.number)).toEqual(opened);
    expect((await standInState(repo.fullName)).pulls).toMatchObject([
      { number: opened.number, head: 'feature', base: 'main', body: 'Closes #5' },
    ]);
  });
});

describe('errors', () => {
  const route = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';

  it('are transient for a 5xx and a 429, permanent for a 422', async () => {
    await addStandInFault({ operation: route, repository: repo.fullName, status: 502 });
    await addStandInFault({
      operation: route,
      repository: repo.fullName,
      status: 429,
      headers: { 'retry-after': '7' },
    });
    await expect(createIssueComment(gh, 1, 'x')).rejects.toMatchObject({
      status: 502,
      transient: true,
    });
    await expect(createIssueComment(gh, 1, 'x')).rejects.toMatchObject({
      status: 429,
      transient: true,
      retryAfterSeconds: 7,
    });
    await expect(createIssueComment(gh, 1, 'x')).resolves.toMatchObject({ id: expect.any(Number) });
    const missing = createCheckRun(gh, { name: 'Omni', headSha: 'f'.repeat(40) });
    await expect(missing).rejects.toMatchObject({ status: 422, transient: false });
  });

  it('are transient for a rate-limited 403, permanent for another 403', async () => {
    await addStandInFault({
      operation: route,
      repository: repo.fullName,
      status: 403,
      headers: {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 30),
      },
    });
    await addStandInFault({ operation: route, repository: repo.fullName, status: 403 });
    await expect(createIssueComment(gh, 1, 'x')).rejects.toMatchObject({
      status: 403,
      transient: true,
    });
    await expect(createIssueComment(gh, 1, 'x')).rejects.toMatchObject({
      status: 403,
      transient: false,
      retryAfterSeconds: null,
    });
  });

  it('are transient when GitHub cannot be reached, and never show the token', async () => {
    const { token } = await installationToken(env, repo.installationId, repo.fullName);
    const unreachable = { ...env, GITHUB_API_URL: 'http://127.0.0.1:9' };
    const error = await createIssueComment({ ...gh, env: unreachable }, 1, 'x').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitHubApiError);
    expect(error).toMatchObject({ status: 0, transient: true });
    expect(String(error)).not.toContain(token);
  });
});
