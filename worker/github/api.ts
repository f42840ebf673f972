/**
 * The GitHub REST calls Omni makes for an installation on one repository, typed, each with the
 * installation's token for that repository (worker/github/app-auth.ts). Answers are checked
 * with zod for the fields Omni reads. Every failure is a {@link GitHubApiError}: its `transient`
 * says whether retrying with backoff can help; a 401 also drops the cached token.
 */
import { z } from 'zod';
import { forgetInstallationToken, installationToken } from './app-auth.ts';
import { GitHubApiError, githubRequest, parseAnswer, send } from './client.ts';
import { loadGitHubConfig } from './config.ts';

export { GitHubApiError } from './client.ts';

/**
 * Where a call goes: the Worker's (or a Durable Object's) bindings, for the App's settings and
 * GITHUB_API_URL; the installation whose token is used; the repository (`owner`, `repo` = its
 * name) the token is scoped to and the call is about.
 */
export interface GitHubContext {
  env: object;
  installationId: number;
  owner: string;
  repo: string;
}

/** A user's permission on a repository, as GitHub sums it up (maintain counts as write, triage as read). */
export type RepositoryPermission = 'admin' | 'write' | 'read' | 'none';

/** The reactions GitHub allows on an issue comment. */
export type ReactionContent =
  '+1' | '-1' | 'laugh' | 'confused' | 'heart' | 'hooray' | 'rocket' | 'eyes';

export type CheckRunStatus = 'queued' | 'in_progress' | 'completed';
export type CheckRunConclusion =
  'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required';

/** A check run's output: GitHub keeps at most 65535 characters of summary and of text. */
export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
}

export interface CheckRunInput {
  name: string;
  headSha: string;
  status?: CheckRunStatus;
  /** Required by GitHub when status is completed. */
  conclusion?: CheckRunConclusion;
  detailsUrl?: string;
  externalId?: string;
  startedAt?: Date;
  completedAt?: Date;
  output?: CheckRunOutput;
}

export type CheckRunChange = Partial<Omit<CheckRunInput, 'headSha'>>;

export interface PullRequest {
  number: number;
  state: 'open' | 'closed';
  htmlUrl: string;
  head: { sha: string; ref: string; cloneUrl: string | null };
  base: { ref: string };
}

export interface NewPullRequest {
  title: string;
  /** The branch with the changes (in the same repository). */
  head: string;
  /** The branch to merge into. */
  base: string;
  body?: string;
  draft?: boolean;
}

/** GitHub's own limit on a check run's summary and text, and on a comment's body. */
export const GITHUB_TEXT_LIMIT = 65_535;

/** `text` cut to GitHub's limit, never between the two halves of a surrogate pair. */
export function cutToLimit(text: string, limit = GITHUB_TEXT_LIMIT): string {
  if (text.length <= limit) return text;
  const code = text.charCodeAt(limit - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit);
}

const ids = z.object({ id: z.number().int(), html_url: z.string().nullish() });

/** Runs one call with the context's token; a 401 forgets that token (it was revoked). */
async function call<T>(
  gh: GitHubContext,
  operation: string,
  run: (client: ReturnType<typeof githubRequest>) => Promise<T>,
): Promise<T> {
  const config = loadGitHubConfig(gh.env);
  const { token } = await installationToken(gh.env, gh.installationId, gh.repo);
  try {
    return await send(operation, () => run(githubRequest(config, { token })));
  } catch (error) {
    if (error instanceof GitHubApiError && error.status === 401) {
      forgetInstallationToken(gh.env, gh.installationId, gh.repo);
    }
    throw error;
  }
}

async function orNullOn404<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof GitHubApiError && error.status === 404) return null;
    throw error;
  }
}

/** A user's permission on the context's repository; 'none' when GitHub knows no such user. */
export async function repositoryPermission(
  gh: GitHubContext,
  username: string,
): Promise<RepositoryPermission> {
  const route = 'GET /repos/{owner}/{repo}/collaborators/{username}/permission';
  const answer = await orNullOn404(
    call(gh, route, (r) => r(route, { owner: gh.owner, repo: gh.repo, username })),
  );
  if (answer === null) return 'none';
  const permission = parseAnswer(
    route,
    z.object({ permission: z.string() }),
    answer.data,
  ).permission;
  return permission === 'admin' || permission === 'write' || permission === 'read'
    ? permission
    : 'none';
}

/** Adds a reaction to an issue (or pull request) comment; its id. */
export async function addReaction(
  gh: GitHubContext,
  commentId: number,
  content: ReactionContent,
): Promise<{ id: number }> {
  const route = 'POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions';
  const answer = await call(gh, route, (r) =>
    r(route, { owner: gh.owner, repo: gh.repo, comment_id: commentId, content }),
  );
  return { id: parseAnswer(route, ids, answer.data).id };
}

function checkRunFields(input: CheckRunChange) {
  return {
    ...(input.name === undefined ? {} : { name: input.name }),
    ...(input.status === undefined ? {} : { status: input.status }),
    ...(input.conclusion === undefined ? {} : { conclusion: input.conclusion }),
    ...(input.detailsUrl === undefined ? {} : { details_url: input.detailsUrl }),
    ...(input.externalId === undefined ? {} : { external_id: input.externalId }),
    ...(input.startedAt === undefined ? {} : { started_at: input.startedAt.toISOString() }),
    ...(input.completedAt === undefined ? {} : { completed_at: input.completedAt.toISOString() }),
    ...(input.output === undefined
      ? {}
      : {
          output: {
            title: input.output.title,
            summary: cutToLimit(input.output.summary),
            ...(input.output.text === undefined ? {} : { text: cutToLimit(input.output.text) }),
          },
        }),
  };
}

/** Creates a check run on a commit; its id and page. */
export async function createCheckRun(
  gh: GitHubContext,
  input: CheckRunInput,
): Promise<{ id: number; htmlUrl: string | null }> {
  const route = 'POST /repos/{owner}/{repo}/check-runs';
  const answer = await call(gh, route, (r) =>
    r(route, {
      owner: gh.owner,
      repo: gh.repo,
      head_sha: input.headSha,
      ...checkRunFields(input),
      name: input.name,
    }),
  );
  const parsed = parseAnswer(route, ids, answer.data);
  return { id: parsed.id, htmlUrl: parsed.html_url ?? null };
}

/** Changes a check run (status, conclusion, output, ...). */
export async function updateCheckRun(
  gh: GitHubContext,
  checkRunId: number,
  change: CheckRunChange,
): Promise<{ id: number }> {
  const route = 'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}';
  const answer = await call(gh, route, (r) =>
    r(route, {
      owner: gh.owner,
      repo: gh.repo,
      check_run_id: checkRunId,
      ...checkRunFields(change),
    }),
  );
  return { id: parseAnswer(route, ids, answer.data).id };
}

/** Comments on an issue or pull request (the body is cut at GitHub's limit); its id and page. */
export async function createIssueComment(
  gh: GitHubContext,
  issueNumber: number,
  body: string,
): Promise<{ id: number; htmlUrl: string | null }> {
  const route = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';
  const answer = await call(gh, route, (r) =>
    r(route, {
      owner: gh.owner,
      repo: gh.repo,
      issue_number: issueNumber,
      body: cutToLimit(body),
    }),
  );
  const parsed = parseAnswer(route, ids, answer.data);
  return { id: parsed.id, htmlUrl: parsed.html_url ?? null };
}

const pullSchema = z.object({
  number: z.number().int(),
  state: z.enum(['open', 'closed']),
  html_url: z.string(),
  head: z.object({
    sha: z.string(),
    ref: z.string(),
    repo: z.object({ clone_url: z.string() }).nullable(),
  }),
  base: z.object({ ref: z.string() }),
});

function toPullRequest(operation: string, data: unknown): PullRequest {
  const pull = parseAnswer(operation, pullSchema, data);
  return {
    number: pull.number,
    state: pull.state,
    htmlUrl: pull.html_url,
    head: { sha: pull.head.sha, ref: pull.head.ref, cloneUrl: pull.head.repo?.clone_url ?? null },
    base: { ref: pull.base.ref },
  };
}

/** A pull request of the repository, or null when there is none with that number. */
export async function getPullRequest(
  gh: GitHubContext,
  pullNumber: number,
): Promise<PullRequest | null> {
  const route = 'GET /repos/{owner}/{repo}/pulls/{pull_number}';
  const answer = await orNullOn404(
    call(gh, route, (r) => r(route, { owner: gh.owner, repo: gh.repo, pull_number: pullNumber })),
  );
  return answer === null ? null : toPullRequest(route, answer.data);
}

/** Opens a pull request from `head` into `base`. */
export async function createPullRequest(
  gh: GitHubContext,
  input: NewPullRequest,
): Promise<PullRequest> {
  const route = 'POST /repos/{owner}/{repo}/pulls';
  const answer = await call(gh, route, (r) =>
    r(route, {
      owner: gh.owner,
      repo: gh.repo,
      title: input.title,
      head: input.head,
      base: input.base,
      ...(input.body === undefined ? {} : { body: cutToLimit(input.body) }),
      ...(input.draft === undefined ? {} : { draft: input.draft }),
    }),
  );
  return toPullRequest(route, answer.data);
}

const refSchema = z.object({ ref: z.string(), object: z.object({ sha: z.string() }) });

/**
 * A git reference, e.g. `heads/main` or `tags/v1`, and the commit it points at; null when the
 * repository has no such reference.
 */
export async function getRef(
  gh: GitHubContext,
  ref: string,
): Promise<{ ref: string; sha: string } | null> {
  const route = 'GET /repos/{owner}/{repo}/git/ref/{ref}';
  const answer = await orNullOn404(
    call(gh, route, (r) => r(route, { owner: gh.owner, repo: gh.repo, ref })),
  );
  if (answer === null) return null;
  const parsed = parseAnswer(route, refSchema, answer.data);
  return { ref: parsed.ref, sha: parsed.object.sha };
}

/** The commit a branch points at, or null when the branch does not exist. */
export async function getBranchSha(gh: GitHubContext, branch: string): Promise<string | null> {
  return (await getRef(gh, `heads/${branch}`))?.sha ?? null;
}

const repositorySchema = z.object({
  id: z.number().int(),
  default_branch: z.string(),
  private: z.boolean(),
  clone_url: z.string(),
});

/** The repository's id, default branch, visibility and clone URL. */
export async function getRepository(gh: GitHubContext): Promise<{
  id: number;
  defaultBranch: string;
  private: boolean;
  cloneUrl: string;
}> {
  const route = 'GET /repos/{owner}/{repo}';
  const answer = await call(gh, route, (r) => r(route, { owner: gh.owner, repo: gh.repo }));
  const repo = parseAnswer(route, repositorySchema, answer.data);
  return {
    id: repo.id,
    defaultBranch: repo.default_branch,
    private: repo.private,
    cloneUrl: repo.clone_url,
  };
}

/**
 * Lists read at most this many pages of 100 before giving up the search: finding what an
 * earlier attempt created (below) is bounded, whatever else the list holds.
 */
export const MAX_LIST_PAGES = 10;
const PER_PAGE = 100;

const checkRunListSchema = z.object({
  check_runs: z.array(z.object({ id: z.number().int(), external_id: z.string().nullish() })),
});

/**
 * The check run named `checkName` on commit `ref` whose `external_id` is `externalId`, or
 * null: how a retry finds the check run an attempt created before it could save its id.
 */
export async function findCheckRun(
  gh: GitHubContext,
  ref: string,
  checkName: string,
  externalId: string,
): Promise<{ id: number } | null> {
  const route = 'GET /repos/{owner}/{repo}/commits/{ref}/check-runs';
  for (let page = 1; page <= MAX_LIST_PAGES; page++) {
    const answer = await call(gh, route, (r) =>
      r(route, {
        owner: gh.owner,
        repo: gh.repo,
        ref,
        check_name: checkName,
        filter: 'all',
        per_page: PER_PAGE,
        page,
      }),
    );
    const runs = parseAnswer(route, checkRunListSchema, answer.data).check_runs;
    const found = runs.find((run) => run.external_id === externalId);
    if (found) return { id: found.id };
    if (runs.length < PER_PAGE) return null;
  }
  return null;
}

const commentListSchema = z.array(
  z.object({ id: z.number().int(), body: z.string().nullish(), html_url: z.string().nullish() }),
);

/**
 * The first comment on the issue or pull request, written at or after `since`, whose body
 * contains `marker`, or null: how a retry finds the comment an attempt posted before it could
 * save its id.
 */
export async function findIssueComment(
  gh: GitHubContext,
  issueNumber: number,
  marker: string,
  since: Date,
): Promise<{ id: number; htmlUrl: string | null } | null> {
  const route = 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments';
  for (let page = 1; page <= MAX_LIST_PAGES; page++) {
    const answer = await call(gh, route, (r) =>
      r(route, {
        owner: gh.owner,
        repo: gh.repo,
        issue_number: issueNumber,
        since: since.toISOString(),
        per_page: PER_PAGE,
        page,
      }),
    );
    const comments = parseAnswer(route, commentListSchema, answer.data);
    const found = comments.find((c) => (c.body ?? '').includes(marker));
    if (found) return { id: found.id, htmlUrl: found.html_url ?? null };
    if (comments.length < PER_PAGE) return null;
  }
  return null;
}

/**
 * The pull request (open or closed) whose head is `branch` of this repository, or null: how a
 * retry finds the pull request an attempt opened before it could save its number.
 */
export async function findPullRequestByHead(
  gh: GitHubContext,
  branch: string,
): Promise<PullRequest | null> {
  const route = 'GET /repos/{owner}/{repo}/pulls';
  const answer = await call(gh, route, (r) =>
    r(route, {
      owner: gh.owner,
      repo: gh.repo,
      head: `${gh.owner}:${branch}`,
      state: 'all',
      per_page: PER_PAGE,
    }),
  );
  const pulls = parseAnswer(route, z.array(z.unknown()), answer.data);
  const first = pulls[0];
  return first === undefined ? null : toPullRequest(route, first);
}
