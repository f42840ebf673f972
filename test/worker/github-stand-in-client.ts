/**
 * The workerd tests' handle on the GitHub stand-in (test/github-stand-in.ts), over its control
 * routes (TEST_GITHUB_CONTROL_URL): a repository of the test's own, users' permissions, token
 * lifetimes and revocation, scripted failures, and what Omni sent (check runs, reactions,
 * comments, pull requests, requests, violations). State is shared by every test file, so each
 * test works on a repository of its own and reads the state of that repository only.
 */
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { z } from 'zod';

const control = (path: string) => `${env.TEST_GITHUB_CONTROL_URL}${path}`;

async function send(method: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(control(path), {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`stand-in ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

export const standInRepositorySchema = z.looseObject({
  id: z.number(),
  name: z.string(),
  full_name: z.string(),
  default_branch: z.string(),
  private: z.boolean(),
  clone_url: z.string(),
});

/** A fresh installation id, unique to the test that takes it. */
export function newStandInInstallationId(): number {
  return 2_000_000_000 + Math.floor(Math.random() * 1_000_000_000);
}

/**
 * A new repository on the stand-in (a bare copy of the fixture repository: branches `main`
 * and `feature`), in `installationId` (a fresh installation by default).
 */
export async function addStandInRepository(
  options: { owner?: string; name?: string; installationId?: number; private?: boolean } = {},
) {
  const owner = options.owner ?? 'octo-org';
  const name = options.name ?? `repo-${crypto.randomUUID().slice(0, 8)}`;
  const installationId = options.installationId ?? newStandInInstallationId();
  const repo = standInRepositorySchema.parse(
    await send('POST', '/repositories', {
      owner,
      name,
      installationId,
      ...(options.private === undefined ? {} : { private: options.private }),
    }),
  );
  return { owner, name, fullName: `${owner}/${name}`, installationId, cloneUrl: repo.clone_url };
}

export type StandInPermission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export async function setStandInPermission(
  repository: string,
  username: string,
  permission: StandInPermission,
): Promise<void> {
  await send('PUT', '/permissions', { repository, username, permission });
}

/** How long the installation's tokens issued from now on live. */
export async function setStandInTokenLifetime(installationId: number, seconds: number) {
  await send('PUT', '/token-lifetime', { installationId, seconds });
}

/** Revokes every token that reaches the repository; how many there were. */
export async function revokeStandInTokens(repository: string): Promise<number> {
  return z
    .object({ revoked: z.number() })
    .parse(await send('POST', '/tokens/revoke', { repository })).revoked;
}

/** Whether the stand-in accepts `token` for `repository` (unexpired, issued for it). */
export async function standInTokenValid(token: string, repository: string): Promise<boolean> {
  return z
    .object({ valid: z.boolean() })
    .parse(await send('POST', '/tokens/check', { token, repository })).valid;
}

/** The next `times` calls of `operation` about `repository` answer `status` (with `headers`). */
/** Pushes a new commit onto `branch` of `repository` (same tree); its SHA. */
export async function addStandInCommit(repository: string, branch: string): Promise<string> {
  const answer = await send('POST', '/commits', { repository, branch });
  return z.object({ sha: z.string() }).parse(answer).sha;
}

/** A pull request someone opened from `head` (in `fork` when given) into `base`. */
export async function addStandInPull(pull: {
  repository: string;
  number: number;
  head: string;
  base?: string;
  fork?: string;
}): Promise<void> {
  await send('POST', '/pulls', pull);
}

export async function addStandInFault(fault: {
  operation: string;
  repository: string | null;
  status: number;
  times?: number;
  headers?: Record<string, string>;
  message?: string;
  /** Carry the call out, then answer `status` (the caller never hears it was done). */
  after?: boolean;
}): Promise<void> {
  await send('POST', '/faults', fault);
}

const stateSchema = z.object({
  requests: z.array(
    z.object({
      method: z.string(),
      path: z.string(),
      operation: z.string().nullable(),
      repository: z.string().nullable(),
      auth: z.string(),
      body: z.unknown().optional(),
      status: z.number(),
    }),
  ),
  violations: z.array(
    z.object({
      method: z.string(),
      path: z.string(),
      operation: z.string().nullable(),
      problems: z.array(z.string()),
    }),
  ),
  authFailures: z.array(z.object({ method: z.string(), path: z.string(), reason: z.string() })),
  answerProblems: z.array(
    z.object({
      method: z.string(),
      operation: z.string().nullable(),
      problems: z.array(z.string()),
    }),
  ),
  checkRuns: z.array(
    z.looseObject({
      id: z.number(),
      head_sha: z.string(),
      name: z.string(),
      status: z.string(),
      conclusion: z.string().nullable(),
      details_url: z.string().nullable(),
      output: z.object({
        title: z.string().nullable(),
        summary: z.string().nullable(),
        text: z.string().nullable(),
      }),
      history: z.array(z.object({ status: z.string(), conclusion: z.string().nullable() })),
    }),
  ),
  reactions: z.array(
    z.object({ id: z.number(), commentId: z.number(), content: z.string(), user: z.string() }),
  ),
  comments: z.array(
    z.object({ id: z.number(), issueNumber: z.number(), body: z.string(), user: z.string() }),
  ),
  pulls: z.array(
    z.object({
      number: z.number(),
      title: z.string(),
      body: z.string().nullable(),
      head: z.string(),
      headSha: z.string(),
      base: z.string(),
      draft: z.boolean(),
      state: z.string(),
    }),
  ),
  tokens: z.array(
    z.object({
      installationId: z.number(),
      repositories: z.array(z.string()),
      expiresAt: z.number(),
    }),
  ),
});

export type StandInState = z.infer<typeof stateSchema>;

/** What the stand-in saw and holds for `repository` (`owner/name`); everything when null. */
export async function standInState(repository: string | null): Promise<StandInState> {
  const query = repository === null ? '' : `?repository=${encodeURIComponent(repository)}`;
  const res = await fetch(control(`/state${query}`));
  return stateSchema.parse(await res.json());
}

/**
 * Asserts that every request about `repository` had the shape GitHub's description gives, and
 * that the stand-in's answers to them had the documented types.
 */
export async function expectNoViolations(repository: string): Promise<void> {
  const state = await standInState(repository);
  expect(state.violations).toEqual([]);
  expect(state.answerProblems).toEqual([]);
}
