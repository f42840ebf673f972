/**
 * The operations test/github-stand-in.ts carries out, keyed by `METHOD /template` as GitHub's
 * description names them. A request reaches these only once it has the documented shape and a
 * valid credential; each answers the way GitHub does for the cases Omni meets (a missing commit,
 * an unknown user, a duplicate pull request, ...), with the fields Omni reads.
 */
import { randomBytes } from 'node:crypto';
import {
  hasCommit,
  isAncestor,
  refSha,
  type CheckRun,
  type IssuedToken,
  type StandInRepository,
  type StandInState,
} from './github-stand-in-state.ts';

type JsonObject = Record<string, unknown>;

export interface Call {
  params: Record<string, string>;
  query: URLSearchParams;
  body: JsonObject;
  /** The repository of a `/repos/{owner}/{repo}/…` path (already checked against the token). */
  repo: StandInRepository | null;
  token: IssuedToken | null;
}

export interface Answer {
  status: number;
  body?: unknown;
}

export interface Site {
  appId: number;
  slug: string;
  /** Base URL clone URLs start with (test/git-http-server.ts), or null before it is known. */
  gitBaseUrl: string | null;
}

type Handler = (state: StandInState, call: Call, site: Site) => Answer | Promise<Answer>;

const notFound = (): Answer => ({ status: 404, body: { message: 'Not Found' } });
const invalid = (message: string, errors: unknown[] = []): Answer => ({
  status: 422,
  body: { message, errors },
});

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function botUser(site: Site) {
  return { login: `${site.slug}[bot]`, id: 9000 + site.appId, type: 'Bot' };
}

export function repositoryJson(repo: StandInRepository, site: Site) {
  return {
    id: repo.id,
    node_id: `R_${repo.id}`,
    name: repo.name,
    full_name: repo.fullName,
    owner: { login: repo.owner, id: repo.installationId, type: 'Organization' },
    private: repo.private,
    default_branch: repo.defaultBranch,
    html_url: `https://github.com/${repo.fullName}`,
    clone_url: `${site.gitBaseUrl ?? 'http://git.invalid'}/${repo.fullName}.git`,
  };
}

function checkRunJson(run: CheckRun, repo: StandInRepository, site: Site) {
  return {
    ...run,
    html_url: `https://github.com/${repo.fullName}/runs/${run.id}`,
    app: { id: site.appId, slug: site.slug },
    history: undefined,
    repository: undefined,
  };
}

/** Applies GitHub's rules for status and conclusion: a conclusion means completed, and back. */
function applyCheckRunFields(run: CheckRun, body: JsonObject): string | null {
  run.name = str(body['name']) ?? run.name;
  run.details_url = str(body['details_url']) ?? run.details_url;
  run.external_id = str(body['external_id']) ?? run.external_id;
  run.started_at = str(body['started_at']) ?? run.started_at;
  const conclusion = str(body['conclusion']);
  const status = str(body['status']);
  if (conclusion !== null) {
    run.conclusion = conclusion;
    run.status = 'completed';
  } else if (status !== null) {
    if (status === 'completed' && run.conclusion === null) {
      return 'conclusion is required when status is completed';
    }
    run.status = status;
  }
  if (run.status === 'completed')
    run.completed_at = str(body['completed_at']) ?? new Date().toISOString();
  const output = body['output'];
  if (isObject(output)) {
    run.output = {
      title: str(output['title']) ?? run.output.title,
      summary: str(output['summary']) ?? run.output.summary,
      text: str(output['text']) ?? run.output.text,
    };
  }
  run.history.push({ status: run.status, conclusion: run.conclusion });
  return null;
}

/** The repository a pull request's head is in: this one, or the fork it names. */
function headRepositoryJson(
  pull: StandInState['pulls'][number],
  repo: StandInRepository,
  site: Site,
) {
  const own = repositoryJson(repo, site);
  if (pull.fork === undefined) return own;
  const [owner = '', name = ''] = pull.fork.split('/');
  return {
    ...own,
    id: own.id + 1_000_000,
    node_id: `R_fork_${own.id}`,
    name,
    full_name: pull.fork,
    owner: { login: owner, id: 1, type: 'User' },
    html_url: `https://github.com/${pull.fork}`,
    clone_url: `${site.gitBaseUrl ?? 'http://git.invalid'}/${pull.fork}.git`,
  };
}

function pullJson(
  pull: StandInState['pulls'][number],
  repo: StandInRepository,
  site: Site,
  baseSha: string | null,
) {
  return {
    number: pull.number,
    state: pull.state,
    title: pull.title,
    body: pull.body,
    draft: pull.draft,
    html_url: `https://github.com/${repo.fullName}/pull/${pull.number}`,
    user: botUser(site),
    head: { ref: pull.head, sha: pull.headSha, repo: headRepositoryJson(pull, repo, site) },
    base: { ref: pull.base, sha: baseSha, repo: repositoryJson(repo, site) },
  };
}

function commentJson(
  comment: StandInState['comments'][number],
  repo: StandInRepository,
  site: Site,
) {
  return {
    id: comment.id,
    body: comment.body,
    user: botUser(site),
    created_at: comment.created_at,
    updated_at: comment.created_at,
    html_url: `https://github.com/${repo.fullName}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
  };
}

/** The `page` (from 1) of `per_page` (default 30, at most 100) items, as GitHub pages lists. */
function page<T>(items: T[], query: URLSearchParams): T[] {
  const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30)));
  const number = Math.max(1, Number(query.get('page') ?? 1));
  return items.slice((number - 1) * perPage, number * perPage);
}

function need(repo: StandInRepository | null): StandInRepository {
  if (repo === null) throw new Error('a /repos route without its repository');
  return repo;
}

export const routes: Record<string, Handler> = {
  'GET /app': (_state, _call, site) => ({
    status: 200,
    body: { id: site.appId, slug: site.slug, name: site.slug, owner: { login: 'octo-org' } },
  }),

  'POST /app/installations/{installation_id}/access_tokens': (state, call, site) => {
    const installationId = Number(call.params['installation_id']);
    const owned = [...state.repositories.values()].filter(
      (r) => r.installationId === installationId,
    );
    if (owned.length === 0) return notFound();
    const names = call.body['repositories'];
    const wanted = Array.isArray(names) ? names.map(String) : owned.map((r) => r.name);
    const reached = wanted.map((n) => owned.find((r) => r.name.toLowerCase() === n.toLowerCase()));
    if (reached.some((r) => r === undefined)) {
      return invalid(
        'There is at least one repository that does not exist or is not accessible to the parent installation.',
      );
    }
    const repos = reached.filter((r) => r !== undefined);
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    const expiresAt = Date.now() + state.lifetimeSeconds(installationId) * 1000;
    state.tokens.set(token, {
      token,
      installationId,
      repositories: repos.map((r) => r.fullName.toLowerCase()),
      expiresAt,
    });
    return {
      status: 201,
      body: {
        token,
        // GitHub writes whole seconds: 2016-07-11T22:14:10Z.
        expires_at: new Date(Math.floor(expiresAt / 1000) * 1000)
          .toISOString()
          .replace('.000Z', 'Z'),
        permissions: {
          checks: 'write',
          contents: 'write',
          issues: 'write',
          pull_requests: 'write',
        },
        repository_selection: 'selected',
        repositories: repos.map((r) => repositoryJson(r, site)),
      },
    };
  },

  'GET /repos/{owner}/{repo}': (_state, call, site) => ({
    status: 200,
    body: repositoryJson(need(call.repo), site),
  }),

  'GET /repos/{owner}/{repo}/collaborators/{username}/permission': (state, call) => {
    const repo = need(call.repo);
    const username = call.params['username'] ?? '';
    const permission = state.permission(repo.fullName, username);
    if (permission === null) return { status: 404, body: { message: `${username} is not a user` } };
    const summed =
      permission === 'maintain' ? 'write' : permission === 'triage' ? 'read' : permission;
    return {
      status: 200,
      body: { permission: summed, role_name: permission, user: { login: username, type: 'User' } },
    };
  },

  'POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions': (state, call, site) => {
    const repo = need(call.repo);
    const commentId = Number(call.params['comment_id']);
    const content = String(call.body['content']);
    const user = botUser(site).login;
    const same = state.reactions.find(
      (r) => r.repository === repo.fullName && r.commentId === commentId && r.content === content,
    );
    // GitHub answers 200 with the existing reaction when the same one is added twice.
    if (same !== undefined)
      return { status: 200, body: { id: same.id, content, user: botUser(site) } };
    const reaction = { id: state.id(), repository: repo.fullName, commentId, content, user };
    state.reactions.push(reaction);
    return { status: 201, body: { id: reaction.id, content, user: botUser(site) } };
  },

  'POST /repos/{owner}/{repo}/check-runs': async (state, call, site) => {
    const repo = need(call.repo);
    const sha = String(call.body['head_sha']);
    if (!(await hasCommit(repo.path, sha))) {
      return invalid('No commit found for SHA: ' + sha, [
        { resource: 'CheckRun', field: 'head_sha', code: 'invalid' },
      ]);
    }
    const run: CheckRun = {
      id: state.id(),
      repository: repo.fullName,
      head_sha: sha,
      name: String(call.body['name']),
      status: 'queued',
      conclusion: null,
      details_url: null,
      external_id: null,
      started_at: null,
      completed_at: null,
      output: { title: null, summary: null, text: null },
      history: [],
    };
    const problem = applyCheckRunFields(run, call.body);
    if (problem !== null) return invalid(problem);
    state.checkRuns.push(run);
    return { status: 201, body: checkRunJson(run, repo, site) };
  },

  'GET /repos/{owner}/{repo}/check-runs/{check_run_id}': (state, call, site) => {
    const repo = need(call.repo);
    const id = Number(call.params['check_run_id']);
    const run = state.checkRuns.find((r) => r.id === id && r.repository === repo.fullName);
    return run === undefined ? notFound() : { status: 200, body: checkRunJson(run, repo, site) };
  },

  'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}': (state, call, site) => {
    const repo = need(call.repo);
    const id = Number(call.params['check_run_id']);
    const run = state.checkRuns.find((r) => r.id === id && r.repository === repo.fullName);
    if (run === undefined) return notFound();
    const problem = applyCheckRunFields(run, call.body);
    return problem !== null
      ? invalid(problem)
      : { status: 200, body: checkRunJson(run, repo, site) };
  },

  'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': (state, call, site) => {
    const repo = need(call.repo);
    const issueNumber = Number(call.params['issue_number']);
    const comment = {
      id: state.id(),
      repository: repo.fullName,
      issueNumber,
      body: String(call.body['body']),
      user: botUser(site).login,
      created_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    state.comments.push(comment);
    return { status: 201, body: commentJson(comment, repo, site) };
  },

  // Oldest first, as GitHub lists them; `since` keeps those updated at or after it.
  'GET /repos/{owner}/{repo}/issues/{issue_number}/comments': (state, call, site) => {
    const repo = need(call.repo);
    const issueNumber = Number(call.params['issue_number']);
    const since = call.query.get('since');
    const sinceMs = since === null ? null : Date.parse(since);
    const all = state.comments.filter(
      (c) =>
        c.repository === repo.fullName &&
        c.issueNumber === issueNumber &&
        (sinceMs === null || Date.parse(c.created_at) >= sinceMs),
    );
    return { status: 200, body: page(all, call.query).map((c) => commentJson(c, repo, site)) };
  },

  'GET /repos/{owner}/{repo}/commits/{ref}/check-runs': async (state, call, site) => {
    const repo = need(call.repo);
    const ref = call.params['ref'] ?? '';
    const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : await refSha(repo.path, `refs/heads/${ref}`);
    if (sha === null || !(await hasCommit(repo.path, sha))) return notFound();
    const name = call.query.get('check_name');
    const all = state.checkRuns.filter(
      (r) =>
        r.repository === repo.fullName && r.head_sha === sha && (name === null || r.name === name),
    );
    return {
      status: 200,
      body: {
        total_count: all.length,
        check_runs: page(all, call.query).map((r) => checkRunJson(r, repo, site)),
      },
    };
  },

  // `head` is `owner:branch`; `state` open (the default), closed or all.
  'GET /repos/{owner}/{repo}/pulls': async (state, call, site) => {
    const repo = need(call.repo);
    const head = call.query.get('head');
    const wanted = call.query.get('state') ?? 'open';
    const base = call.query.get('base');
    const all = state.pulls.filter(
      (p) =>
        p.repository === repo.fullName &&
        (head === null || `${repo.owner}:${p.head}`.toLowerCase() === head.toLowerCase()) &&
        (base === null || p.base === base) &&
        (wanted === 'all' || p.state === wanted),
    );
    const listed = [];
    for (const pull of page(all, call.query)) {
      const baseSha = await refSha(repo.path, `refs/heads/${pull.base}`);
      listed.push(pullJson(pull, repo, site, baseSha));
    }
    return { status: 200, body: listed };
  },

  'GET /repos/{owner}/{repo}/pulls/{pull_number}': async (state, call, site) => {
    const repo = need(call.repo);
    const number = Number(call.params['pull_number']);
    const pull = state.pulls.find((p) => p.number === number && p.repository === repo.fullName);
    if (pull === undefined) return notFound();
    const baseSha = await refSha(repo.path, `refs/heads/${pull.base}`);
    return { status: 200, body: pullJson(pull, repo, site, baseSha) };
  },

  'POST /repos/{owner}/{repo}/pulls': async (state, call, site) => {
    const repo = need(call.repo);
    const rawHead = String(call.body['head']);
    const head = rawHead.includes(':') ? rawHead.slice(rawHead.indexOf(':') + 1) : rawHead;
    const base = String(call.body['base']);
    const headSha = await refSha(repo.path, `refs/heads/${head}`);
    const baseSha = await refSha(repo.path, `refs/heads/${base}`);
    if (headSha === null)
      return invalid('Validation Failed', [
        { resource: 'PullRequest', field: 'head', code: 'invalid' },
      ]);
    if (baseSha === null)
      return invalid('Validation Failed', [
        { resource: 'PullRequest', field: 'base', code: 'invalid' },
      ]);
    if (await isAncestor(repo.path, headSha, baseSha)) {
      return invalid('Validation Failed', [
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `No commits between ${base} and ${head}`,
        },
      ]);
    }
    const open = state.pulls.find(
      (p) =>
        p.repository === repo.fullName && p.head === head && p.base === base && p.state === 'open',
    );
    if (open !== undefined) {
      return invalid('Validation Failed', [
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `A pull request already exists for ${repo.owner}:${head}.`,
        },
      ]);
    }
    const numbers = state.pulls.filter((p) => p.repository === repo.fullName).map((p) => p.number);
    const pull = {
      number: Math.max(99, ...numbers) + 1,
      repository: repo.fullName,
      title: String(call.body['title'] ?? ''),
      body: str(call.body['body']),
      head,
      headSha,
      base,
      draft: call.body['draft'] === true,
      state: 'open' as const,
    };
    state.pulls.push(pull);
    return { status: 201, body: pullJson(pull, repo, site, baseSha) };
  },

  'GET /repos/{owner}/{repo}/git/ref/{ref}': async (_state, call) => {
    const repo = need(call.repo);
    const ref = `refs/${call.params['ref'] ?? ''}`;
    const sha = await refSha(repo.path, ref);
    if (sha === null) return notFound();
    return {
      status: 200,
      body: { ref, node_id: `REF_${sha.slice(0, 8)}`, object: { sha, type: 'commit' } },
    };
  },
};
