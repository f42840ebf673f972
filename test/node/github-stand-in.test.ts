/**
 * The GitHub stand-in (test/github-stand-in.ts) itself: requests that break GitHub's OpenAPI
 * description are refused with a message naming the problem and recorded as violations, valid
 * ones pass; the App JWT and installation tokens (expiry, repository scope) are checked; refs
 * come from the bare repository.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSampleRepo, type SampleRepo } from '../../scripts/lib/sample-repo.ts';
import { startGitHttpServer, type GitHttpServer } from '../git-http-server.ts';
import {
  DEFAULT_INSTALLATION_ID,
  startGitHubStandIn,
  type GitHubStandIn,
} from '../github-stand-in.ts';

const run = promisify(execFile);

let sample: SampleRepo;
let gh: GitHubStandIn;
let mainSha: string;
let gitHttp: GitHttpServer;

beforeAll(async () => {
  sample = await createSampleRepo();
  gh = await startGitHubStandIn({ seed: sample.path });
  await gh.addRepository({ owner: 'octo-org', name: 'omni-fixture' });
  await gh.addRepository({ owner: 'octo-org', name: 'other' });
  await gh.addRepository({ owner: 'octo-org', name: 'secret', private: true });
  gitHttp = await startGitHttpServer(sample.path, gh);
  gh.setGitBaseUrl(gitHttp.baseUrl);
  mainSha = (await run('git', ['rev-parse', 'main'], { cwd: sample.path })).stdout.trim();
}, 60_000);

afterAll(async () => {
  await gitHttp?.close();
  await gh?.close();
  await sample?.remove();
});

beforeEach(() => gh.state.reset());

// Whatever a test made the stand-in answer has the documented answer types.
afterEach(() => expect(gh.state.answerProblems).toEqual([]));

async function jwt(
  pem = gh.privateKeyPkcs8Pem,
  claims: { iss?: string; iat?: number; exp?: number } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(claims.iss ?? String(gh.appId))
    .setIssuedAt(claims.iat ?? now - 60)
    .setExpirationTime(claims.exp ?? now + 540)
    .sign(await importPKCS8(pem, 'RS256'));
}

function call(method: string, path: string, auth: string | null, body?: unknown) {
  return fetch(`${gh.url}${path}`, {
    method,
    headers: {
      'user-agent': 'omni-test',
      'x-github-api-version': '2022-11-28',
      ...(auth === null ? {} : { authorization: auth }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function token(repositories = ['omni-fixture']): Promise<string> {
  return (await tokenAnswer(repositories)).token;
}

async function tokenAnswer(repositories: string[]) {
  const res = await call(
    'POST',
    `/app/installations/${DEFAULT_INSTALLATION_ID}/access_tokens`,
    `bearer ${await jwt()}`,
    { repositories },
  );
  expect(res.status).toBe(201);
  const body = (await res.json()) as { token: string; expires_at: string };
  expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now());
  return body;
}

describe('the OpenAPI description', () => {
  it('passes a documented request and records no violation', async () => {
    const t = await token();
    const res = await call('POST', '/repos/octo-org/omni-fixture/check-runs', `token ${t}`, {
      name: 'omni',
      head_sha: mainSha,
      status: 'queued',
    });
    expect(res.status).toBe(201);
    expect(gh.state.violations).toEqual([]);
    expect(gh.state.checkRuns).toMatchObject([{ head_sha: mainSha, status: 'queued' }]);
  });

  it('refuses a body whose field breaks its schema, naming it, and records it', async () => {
    const t = await token();
    const res = await call('POST', '/repos/octo-org/omni-fixture/check-runs', `token ${t}`, {
      name: 'omni',
      head_sha: mainSha,
      status: 'finished',
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toMatch(/body\/status/);
    expect(gh.state.violations).toHaveLength(1);
    expect(gh.state.violations[0]?.operation).toBe('POST /repos/{owner}/{repo}/check-runs');
    expect(gh.state.checkRuns).toEqual([]);
  });

  it('refuses a property the operation does not name (a misspelled field)', async () => {
    const t = await token();
    const res = await call('POST', '/repos/octo-org/omni-fixture/check-runs', `token ${t}`, {
      name: 'omni',
      head_sha: mainSha,
      detailsUrl: 'https://example.com',
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toMatch(/detailsUrl/);
    expect(gh.state.violations).toHaveLength(1);
  });

  it('refuses a missing required field and a wrongly typed path parameter', async () => {
    const t = await token();
    const missing = await call(
      'POST',
      '/repos/octo-org/omni-fixture/issues/1/comments',
      `token ${t}`,
      {},
    );
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as { message: string }).message).toMatch(/body/);
    const typed = await call('PATCH', '/repos/octo-org/omni-fixture/check-runs/abc', `token ${t}`, {
      status: 'in_progress',
    });
    expect(typed.status).toBe(422);
    expect(((await typed.json()) as { message: string }).message).toMatch(/check_run_id/);
    expect(gh.state.violations).toHaveLength(2);
  });

  it('refuses a query parameter the operation does not have, and an unsupported API version', async () => {
    const t = await token();
    const query = await call(
      'GET',
      '/repos/octo-org/omni-fixture/pulls/1?expand=all',
      `token ${t}`,
    );
    expect(query.status).toBe(422);
    expect(((await query.json()) as { message: string }).message).toMatch(/query:expand/);
    const res = await fetch(`${gh.url}/repos/octo-org/omni-fixture`, {
      headers: {
        'user-agent': 'x',
        'x-github-api-version': '2099-01-01',
        authorization: `token ${t}`,
      },
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toMatch(/2099-01-01/);
    expect(gh.state.violations).toHaveLength(2);
  });

  it('answers 501 for a documented operation it does not carry out, and records it', async () => {
    const t = await token();
    const res = await call('DELETE', '/repos/octo-org/omni-fixture', `token ${t}`);
    expect(res.status).toBe(501);
    expect(gh.state.violations).toMatchObject([{ operation: 'DELETE /repos/{owner}/{repo}' }]);
  });

  it('answers 404 for an operation GitHub does not have, and records it', async () => {
    const t = await token();
    const res = await call('POST', '/repos/octo-org/omni-fixture/check_runs', `token ${t}`, {
      name: 'x',
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toMatch(/no operation POST/);
    expect(gh.state.violations).toMatchObject([{ operation: null }]);
  });
});

describe('credentials', () => {
  it('accepts the App JWT on /app and refuses another key, an expired JWT and a token', async () => {
    expect((await call('GET', '/app', `bearer ${await jwt()}`)).status).toBe(200);
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect((await call('GET', '/app', `bearer ${await jwt(stranger)}`)).status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const expired = await jwt(undefined, { iat: now - 1200, exp: now - 600 });
    expect((await call('GET', '/app', `bearer ${expired}`)).status).toBe(401);
    const tooLong = await jwt(undefined, { exp: now + 3600 });
    expect((await call('GET', '/app', `bearer ${tooLong}`)).status).toBe(401);
    expect((await call('GET', '/app', `token ${await token()}`)).status).toBe(401);
    expect(gh.state.authFailures).toHaveLength(4);
    expect(gh.state.violations).toEqual([]);
  });

  it('scopes an installation token to its repositories and refuses it once expired', async () => {
    const t = await token(['omni-fixture']);
    expect((await call('GET', '/repos/octo-org/omni-fixture', `token ${t}`)).status).toBe(200);
    expect((await call('GET', '/repos/octo-org/other', `token ${t}`)).status).toBe(404);
    expect(gh.tokenValid(t, 'octo-org/omni-fixture')).toBe(true);
    expect(gh.tokenValid(t, 'octo-org/other')).toBe(false);
    expect((await call('GET', '/repos/octo-org/omni-fixture', null)).status).toBe(401);
    expect((await call('GET', '/repos/octo-org/omni-fixture', 'token ghs_forged')).status).toBe(
      401,
    );
    const issued = gh.state.tokens.get(t);
    if (issued === undefined) throw new Error('the token was not recorded');
    issued.expiresAt = Date.now() - 1;
    expect((await call('GET', '/repos/octo-org/omni-fixture', `token ${t}`)).status).toBe(401);
    expect(gh.tokenValid(t, 'octo-org/omni-fixture')).toBe(false);
    expect(gh.state.violations).toEqual([]);
  });

  it('refuses a token for a repository outside the installation', async () => {
    const res = await call(
      'POST',
      `/app/installations/${DEFAULT_INSTALLATION_ID}/access_tokens`,
      `bearer ${await jwt()}`,
      { repositories: ['not-installed'] },
    );
    expect(res.status).toBe(422);
  });
});

describe('state', () => {
  it('reads refs from the bare repository', async () => {
    const t = await token();
    const res = await call('GET', '/repos/octo-org/omni-fixture/git/ref/heads/main', `token ${t}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ref: 'refs/heads/main', object: { sha: mainSha } });
    expect(
      (await call('GET', '/repos/octo-org/omni-fixture/git/ref/heads/nope', `token ${t}`)).status,
    ).toBe(404);
    expect(gh.state.violations).toEqual([]);
  });

  it('refuses a check run on a commit the repository does not have', async () => {
    const t = await token();
    const res = await call('POST', '/repos/octo-org/omni-fixture/check-runs', `token ${t}`, {
      name: 'omni',
      head_sha: '0'.repeat(40),
    });
    expect(res.status).toBe(422);
  });
});

describe('git over HTTP', () => {
  const gitEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '/bin/false' };
  const git = (cwd: string, ...args: string[]) =>
    run('git', ['-c', 'user.name=Omni', '-c', 'user.email=omni@example.invalid', ...args], {
      cwd,
      env: gitEnv,
    });
  const withToken = (repo: string, t: string) =>
    `${gitHttp.baseUrl.replace('http://', `http://x-access-token:${t}@`)}/${repo}.git`;

  it('clones a public repository, and pushes only with a token for that repository', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'omni-gh-push-'));
    try {
      await git(dir, 'clone', '--quiet', `${gitHttp.baseUrl}/octo-org/omni-fixture.git`, 'work');
      const work = join(dir, 'work');
      await git(work, 'checkout', '--quiet', '-b', 'omni/change');
      await writeFile(join(work, 'NEW.txt'), 'pushed over HTTP\n');
      await git(work, 'add', 'NEW.txt');
      await git(work, 'commit', '--quiet', '-m', 'A change');
      await expect(git(work, 'push', '--quiet', 'origin', 'omni/change')).rejects.toThrow(
        /could not read Username|Authentication failed/,
      );
      const other = await token(['other']);
      await expect(
        git(work, 'push', '--quiet', withToken('octo-org/omni-fixture', other), 'omni/change'),
      ).rejects.toThrow(/Authentication failed/);
      const t = await token(['omni-fixture']);
      await git(work, 'push', '--quiet', withToken('octo-org/omni-fixture', t), 'omni/change');
      const sha = (await git(work, 'rev-parse', 'HEAD')).stdout.trim();
      const ref = await call(
        'GET',
        '/repos/octo-org/omni-fixture/git/ref/heads/omni/change',
        `token ${t}`,
      );
      expect(await ref.json()).toMatchObject({ object: { sha } });
      const pull = await call('POST', '/repos/octo-org/omni-fixture/pulls', `token ${t}`, {
        title: 'A change',
        head: 'omni/change',
        base: 'main',
      });
      expect(pull.status).toBe(201);
      expect(await pull.json()).toMatchObject({ number: 100, head: { sha, ref: 'omni/change' } });
      const again = await call('POST', '/repos/octo-org/omni-fixture/pulls', `token ${t}`, {
        title: 'A change',
        head: 'omni/change',
        base: 'main',
      });
      expect(again.status).toBe(422);
      expect(gh.state.violations).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('clones a private repository only with a token for it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'omni-gh-private-'));
    try {
      await expect(
        git(dir, 'clone', '--quiet', `${gitHttp.baseUrl}/octo-org/secret.git`, 'a'),
      ).rejects.toThrow(/could not read Username|Authentication failed/);
      const wrong = await token(['omni-fixture']);
      await expect(
        git(dir, 'clone', '--quiet', withToken('octo-org/secret', wrong), 'b'),
      ).rejects.toThrow(/Authentication failed/);
      const t = await token(['secret']);
      await git(dir, 'clone', '--quiet', withToken('octo-org/secret', t), 'c');
      expect((await git(join(dir, 'c'), 'rev-parse', 'HEAD')).stdout.trim()).toBe(mainSha);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
