/**
 * A stand-in for GitHub's REST API on 127.0.0.1, for the tests (GITHUB_API_URL points here).
 *
 * Every request is checked against GitHub's own description (@octokit/openapi, through
 * test/github-openapi.ts): a method and path that name no documented operation answer 404, path
 * parameters, query or JSON body that break the operation's schemas answer 422, each with a
 * message naming the problem, and each is recorded as a violation (tests assert there are none).
 * A documented operation the stand-in does not carry out answers 501 and is a violation too.
 *
 * Credentials, as GitHub checks them: `/app/…` needs the App's JWT (RS256 with the App's key,
 * iss = App ID, at most ten minutes long); every other path needs an installation token issued
 * here, not expired, whose repositories include the one in the path (else 404, as GitHub answers).
 * Refusals are recorded as auth failures (kept apart from violations: tests provoke them).
 * The stand-in's own answers are checked against the documented answer schemas too (fields may
 * be missing, but those present have the documented types); a mismatch is an answer problem, a
 * bug of the stand-in that its own tests (test/node/github-stand-in.test.ts) look for.
 *
 * State (test/github-stand-in-state.ts): repositories are bare git repositories under one
 * directory, served by test/git-http-server.ts; refs and commits are read from them with git.
 *
 * Control, for Node code through the returned object and for workerd tests over HTTP:
 * - `GET /_stand-in/state[?repository=owner/name]`: requests, violations, auth failures, check
 *   runs, reactions, comments, pull requests and tokens (without their values);
 * - `POST /_stand-in/repositories` `{owner, name, installationId?, private?}`: a new repository
 *   (a bare clone of the seed), so that each test file can work on its own;
 * - `PUT /_stand-in/permissions` `{repository, username, permission}`;
 * - `PUT /_stand-in/token-lifetime` `{seconds, installationId?}`: how long tokens issued from now
 *   on live (of one installation, or of all);
 * - `POST /_stand-in/tokens/revoke` `{repository}`: revokes the tokens that reach it;
 * - `POST /_stand-in/faults` `{operation, repository?, status, times?, headers?, message?, after?}`:
 *   the next calls of `operation` (e.g. `POST /repos/{owner}/{repo}/check-runs`), about
 *   `repository` when given, answer `status` (with `after`, once the call was carried out);
 * - `POST /_stand-in/commits` `{repository, branch, message?}` → `{sha}`: a new commit on the
 *   branch, as if someone pushed (a pull request's `synchronize`);
 * - `POST /_stand-in/pulls` `{repository, number, head, base?, fork?}`: a pull request someone
 *   opened (its head branch read from the repository; `fork`: shown as in that fork);
 * - `POST /_stand-in/tokens/check` `{token, repository}` → `{valid}`;
 * - `POST /_stand-in/reset`: forgets records, tokens and faults (repositories and permissions stay).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { z } from 'zod';
import {
  answerProblems,
  findOperation,
  prepareOperations,
  requestProblems,
} from './github-openapi.ts';
import { repositoryJson, routes, type Site } from './github-stand-in-routes.ts';
import {
  addCommit,
  createBareRepository,
  refSha,
  StandInState,
  type IssuedToken,
  type Permission,
  type StandInRepository,
} from './github-stand-in-state.ts';
import { listenOnLoopback } from './loopback-server.ts';

export type { Permission, StandInRepository } from './github-stand-in-state.ts';

export const STAND_IN_API_VERSION = '2022-11-28';

export interface NewRepository {
  owner: string;
  name: string;
  /** Default 4242: the stand-in's one installation (owner octo-org). */
  installationId?: number;
  private?: boolean;
}

export interface GitHubStandIn {
  /** The base URL to set as GITHUB_API_URL. */
  url: string;
  appId: number;
  slug: string;
  /** The App's private key as GitHub hands it out (PKCS#1, `BEGIN RSA PRIVATE KEY`). */
  privateKeyPem: string;
  /** The same key as PKCS#8 (`BEGIN PRIVATE KEY`). */
  privateKeyPkcs8Pem: string;
  state: StandInState;
  /** Clone URLs start with this (`<base>/<owner>/<name>.git`); set once the git server listens. */
  setGitBaseUrl(url: string): void;
  addRepository(repo: NewRepository): Promise<StandInRepository>;
  repository(owner: string, name: string): StandInRepository | null;
  setPermission(repository: string, username: string, permission: Permission): void;
  /** Whether `token` is an unexpired installation token issued here that reaches `owner/name`. */
  tokenValid(token: string, repository: string): boolean;
  close(): Promise<void>;
}

export const DEFAULT_INSTALLATION_ID = 4242;

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

function credential(req: IncomingMessage): { scheme: string; value: string } | null {
  const match = /^(\w+) (\S+)$/.exec(req.headers.authorization ?? '');
  return match === null ? null : { scheme: (match[1] ?? '').toLowerCase(), value: match[2] ?? '' };
}

const repositorySchema = z.object({
  owner: z.string().regex(/^[\w.-]+$/),
  name: z.string().regex(/^[\w.-]+$/),
  installationId: z.number().int().positive().optional(),
  private: z.boolean().optional(),
});
const permissionSchema = z.object({
  repository: z.string(),
  username: z.string(),
  permission: z.enum(['admin', 'maintain', 'write', 'triage', 'read', 'none']),
});
const faultSchema = z.object({
  operation: z.string(),
  repository: z.string().nullable().default(null),
  status: z.number().int().min(400).max(599),
  times: z.number().int().positive().default(1),
  headers: z.record(z.string(), z.string()).default({}),
  message: z.string().default('Injected failure'),
  after: z.boolean().default(false),
});

/**
 * The repository (`owner/name`) a request is about, so each test can read its own: the path's,
 * or for a token request naming one repository, that repository of the installation.
 */
function repositoryOf(path: string, raw: string, state: StandInState): string | null {
  const repos = /^\/repos\/([^/]+)\/([^/]+)/.exec(path);
  if (repos !== null)
    return `${decodeURIComponent(repos[1] ?? '')}/${decodeURIComponent(repos[2] ?? '')}`;
  const installation = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
  if (installation === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  const names = isObject(parsed) ? parsed['repositories'] : null;
  if (!Array.isArray(names) || names.length !== 1) return null;
  const id = Number(installation[1]);
  const repo = [...state.repositories.values()].find(
    (r) => r.installationId === id && r.name.toLowerCase() === String(names[0]).toLowerCase(),
  );
  return repo?.fullName ?? null;
}

/** Starts the stand-in; new repositories are bare clones of `seed` (a repository on disk). */
export async function startGitHubStandIn(options: { seed: string }): Promise<GitHubStandIn> {
  prepareOperations(Object.keys(routes));
  const appId = 31337;
  const slug = 'omni-test';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const privateKeyPkcs8Pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const root = await mkdtemp(join(tmpdir(), 'omni-github-'));
  const state = new StandInState();
  const site: Site = { appId, slug, gitBaseUrl: null };

  const addRepository = async (repo: NewRepository): Promise<StandInRepository> => {
    const existing = state.repository(repo.owner, repo.name);
    if (existing !== null) return existing;
    const path = await createBareRepository(root, repo.owner, repo.name, options.seed);
    const added: StandInRepository = {
      id: state.id(),
      owner: repo.owner,
      name: repo.name,
      fullName: `${repo.owner}/${repo.name}`,
      installationId: repo.installationId ?? DEFAULT_INSTALLATION_ID,
      defaultBranch: 'main',
      private: repo.private ?? false,
      path,
    };
    state.repositories.set(added.fullName.toLowerCase(), added);
    return added;
  };

  /** Why the App's JWT is refused, or null when it is good. */
  const jwtProblem = async (jwt: string): Promise<string | null> => {
    try {
      const { payload } = await jwtVerify(jwt, publicKey, {
        algorithms: ['RS256'],
        issuer: String(appId),
        requiredClaims: ['iat', 'exp'],
      });
      const now = Math.floor(Date.now() / 1000);
      if ((payload.iat ?? 0) > now + 60) return "'Issued at' claim (iat) must be in the past";
      if ((payload.exp ?? 0) > now + 600)
        return "'Expiration time' claim (exp) is too far in the future";
      return null;
    } catch (error) {
      return `A JSON web token could not be decoded or verified: ${error instanceof Error ? error.message : String(error)}`;
    }
  };

  const control = async (req: IncomingMessage, res: ServerResponse, url: URL, raw: string) => {
    const json: unknown = raw === '' ? {} : JSON.parse(raw);
    const route = `${req.method} ${url.pathname.slice('/_stand-in'.length)}`;
    if (route === 'GET /state') {
      const only = url.searchParams.get('repository')?.toLowerCase() ?? null;
      const mine = <T extends { repository: string | null }>(items: T[]) =>
        only === null ? items : items.filter((i) => i.repository?.toLowerCase() === only);
      return send(res, 200, {
        requests: mine(state.requests),
        violations: mine(state.violations),
        authFailures: mine(state.authFailures),
        answerProblems: mine(state.answerProblems),
        checkRuns: mine(state.checkRuns),
        reactions: mine(state.reactions),
        comments: mine(state.comments),
        pulls: mine(state.pulls),
        tokens: [...state.tokens.values()]
          .filter((t) => only === null || t.repositories.includes(only))
          .map((t) => ({
            installationId: t.installationId,
            repositories: t.repositories,
            expiresAt: t.expiresAt,
          })),
      });
    }
    if (route === 'POST /repositories') {
      const repo = await addRepository(repositorySchema.parse(json));
      return send(res, 201, repositoryJson(repo, site));
    }
    if (route === 'PUT /permissions') {
      const p = permissionSchema.parse(json);
      state.setPermission(p.repository, p.username, p.permission);
      return send(res, 204, undefined);
    }
    if (route === 'PUT /token-lifetime') {
      const lifetime = z
        .object({
          seconds: z.number().int().positive(),
          installationId: z.number().int().optional(),
        })
        .parse(json);
      if (lifetime.installationId === undefined) state.tokenLifetimeSeconds = lifetime.seconds;
      else state.installationTokenLifetimes.set(lifetime.installationId, lifetime.seconds);
      return send(res, 204, undefined);
    }
    if (route === 'POST /tokens/revoke') {
      const repository = z.object({ repository: z.string() }).parse(json).repository;
      return send(res, 200, { revoked: state.revokeTokens(repository) });
    }
    if (route === 'POST /commits') {
      const c = z
        .object({
          repository: z.string(),
          branch: z.string(),
          message: z.string().default('A push'),
        })
        .parse(json);
      const [owner = '', name = ''] = c.repository.split('/');
      const repo = state.repository(owner, name);
      if (repo === null) return send(res, 404, { message: `no repository ${c.repository}` });
      return send(res, 201, { sha: await addCommit(repo.path, c.branch, c.message) });
    }
    if (route === 'POST /pulls') {
      const p = z
        .object({
          repository: z.string(),
          number: z.number().int().positive(),
          head: z.string(),
          base: z.string().default('main'),
          fork: z.string().optional(),
        })
        .parse(json);
      const [owner = '', name = ''] = p.repository.split('/');
      const repo = state.repository(owner, name);
      const headSha = repo === null ? null : await refSha(repo.path, `refs/heads/${p.head}`);
      if (repo === null || headSha === null) {
        return send(res, 404, { message: `no branch ${p.head} in ${p.repository}` });
      }
      state.pulls.push({
        number: p.number,
        repository: repo.fullName,
        title: `Pull request ${p.number}`,
        body: null,
        head: p.head,
        headSha,
        base: p.base,
        draft: false,
        state: 'open',
        ...(p.fork === undefined ? {} : { fork: p.fork }),
      });
      return send(res, 201, { number: p.number, headSha });
    }
    if (route === 'POST /faults') {
      state.faults.push(faultSchema.parse(json));
      return send(res, 204, undefined);
    }
    if (route === 'POST /tokens/check') {
      const t = z.object({ token: z.string(), repository: z.string() }).parse(json);
      return send(res, 200, { valid: state.tokenFor(t.token, t.repository) !== null });
    }
    if (route === 'POST /reset') {
      state.reset();
      return send(res, 204, undefined);
    }
    return send(res, 404, { message: `no control route ${route}` });
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL, raw: string) => {
    const method = req.method ?? 'GET';
    const found = findOperation(method, url.pathname);
    const operation =
      found === null ? null : `${found.operation.method} ${found.operation.template}`;
    const params = found?.params ?? {};
    const repoName = repositoryOf(url.pathname, raw, state);
    const auth = credential(req);
    let body: unknown;
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      state.requests.push({
        method,
        path: url.pathname + url.search,
        operation,
        repository: repoName,
        auth:
          auth === null
            ? 'none'
            : auth.value.split('.').length === 3
              ? 'jwt'
              : auth.value.startsWith('ghs_')
                ? 'token'
                : 'other',
        body,
        status,
      });
      send(res, status, payload, headers);
    };
    const violation = (status: number, problems: string[]) => {
      state.violations.push({
        method,
        path: url.pathname + url.search,
        operation,
        repository: repoName,
        problems,
      });
      answer(status, {
        message: problems.join('; '),
        documentation_url: 'https://docs.github.com/rest',
      });
    };
    if (found === null) {
      return violation(404, [
        `Not Found: GitHub's REST API has no operation ${method} ${url.pathname}`,
      ]);
    }
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        return violation(400, ['Problems parsing JSON']);
      }
      if (!/^application\/json/.test(req.headers['content-type'] ?? '')) {
        return violation(415, ['the body is not sent as application/json']);
      }
    }
    const problems = requestProblems(found.operation, params, url.searchParams, body);
    if (req.headers['user-agent'] === undefined) problems.push('the user-agent header is required');
    const version = req.headers['x-github-api-version'];
    if (version !== undefined && version !== STAND_IN_API_VERSION) {
      problems.push(`API version ${String(version)} is not supported`);
    }
    if (problems.length > 0) return violation(422, [`${operation}: ${problems.join('; ')}`]);

    const refuse = (status: number, reason: string) => {
      state.authFailures.push({ method, path: url.pathname, repository: repoName, reason });
      answer(status, { message: status === 404 ? 'Not Found' : reason });
    };
    let token: IssuedToken | null = null;
    let repo: StandInRepository | null = null;
    if (found.operation.template === '/app' || found.operation.template.startsWith('/app/')) {
      if (auth === null || auth.scheme !== 'bearer')
        return refuse(401, 'A JSON web token is required');
      const problem = await jwtProblem(auth.value);
      if (problem !== null) return refuse(401, problem);
    } else {
      if (auth === null || (auth.scheme !== 'token' && auth.scheme !== 'bearer')) {
        return refuse(401, 'Requires authentication');
      }
      const issued = state.tokens.get(auth.value);
      if (issued === undefined) return refuse(401, 'Bad credentials');
      if (issued.expiresAt <= Date.now())
        return refuse(401, 'Bad credentials (the token has expired)');
      token = issued;
      if (repoName !== null) {
        repo = state.repository(params['owner'] ?? '', params['repo'] ?? '');
        if (repo === null) return refuse(404, `no repository ${repoName}`);
        if (state.tokenFor(auth.value, repo.fullName) === null) {
          return refuse(404, `the token does not reach ${repoName}`);
        }
      }
    }
    const fault = state.faults.find(
      (f) =>
        f.operation === operation &&
        f.times > 0 &&
        (f.repository === null || f.repository.toLowerCase() === repoName?.toLowerCase()),
    );
    if (fault !== undefined) {
      fault.times -= 1;
      if (!fault.after) return answer(fault.status, { message: fault.message }, fault.headers);
    }
    const handler = routes[operation ?? ''];
    if (handler === undefined)
      return violation(501, [`${operation} is documented but not carried out by the stand-in`]);
    const result = await handler(
      state,
      { params, query: url.searchParams, body: isObject(body) ? body : {}, repo, token },
      site,
    );
    if (fault?.after === true) {
      return answer(fault.status, { message: fault.message }, fault.headers);
    }
    const sent: unknown =
      result.body === undefined ? undefined : JSON.parse(JSON.stringify(result.body));
    const wrong = answerProblems(found.operation, result.status, sent);
    if (wrong.length > 0) {
      state.answerProblems.push({
        method,
        path: url.pathname,
        operation,
        repository: repoName,
        problems: wrong,
      });
    }
    answer(result.status, sent);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    readBody(req)
      .then((raw) =>
        url.pathname.startsWith('/_stand-in/')
          ? control(req, res, url, raw)
          : api(req, res, url, raw),
      )
      .catch((error: unknown) => {
        if (!res.headersSent)
          send(res, error instanceof z.ZodError ? 400 : 500, { message: String(error) });
      });
  });
  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    appId,
    slug,
    privateKeyPem,
    privateKeyPkcs8Pem,
    state,
    setGitBaseUrl: (url) => (site.gitBaseUrl = url),
    addRepository,
    repository: (owner, name) => state.repository(owner, name),
    setPermission: (repository, username, permission) =>
      state.setPermission(repository, username, permission),
    tokenValid: (token, repository) => state.tokenFor(token, repository) !== null,
    close: async () => {
      await listening.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
