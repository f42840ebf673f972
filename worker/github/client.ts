/**
 * The one way Omni sends a request to GitHub's REST API: @octokit/request with the configured
 * base URL (GITHUB_API_URL), Omni's user agent, the pinned API version, an authorization header
 * and a bounded time; every failure becomes a {@link GitHubApiError} that says whether trying
 * again later can help.
 */
import { request } from '@octokit/request';
import { z } from 'zod';
import type { GitHubConfig } from './config.ts';

/** The REST API version every request names (docs.github.com, "API Versions"). */
export const GITHUB_API_VERSION = '2022-11-28';

/** How long one request may take, answer included, before it is abandoned (a transient failure). */
export const GITHUB_CALL_TIMEOUT_MS = 10_000;

/**
 * A failed GitHub call. `status` is the HTTP status GitHub answered, or 0 when no answer came
 * (network error, timeout). `transient` failures (no answer, 5xx, 429, a rate-limited 403) may
 * succeed when tried again with backoff; the others (401, 404, 422, ...) will not. The message
 * never holds a token.
 */
export class GitHubApiError extends Error {
  override readonly name = 'GitHubApiError';
  readonly status: number;
  readonly transient: boolean;
  /** The call that failed, e.g. `POST /repos/{owner}/{repo}/check-runs`. */
  readonly operation: string;
  /** Seconds GitHub asked to wait (retry-after, or until x-ratelimit-reset), when it said. */
  readonly retryAfterSeconds: number | null;

  constructor(
    operation: string,
    status: number,
    transient: boolean,
    message: string,
    retryAfterSeconds: number | null = null,
  ) {
    super(`GitHub ${operation} failed (${status === 0 ? 'no answer' : status}): ${message}`);
    this.operation = operation;
    this.status = status;
    this.transient = transient;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

type Headers = Record<string, unknown>;

function header(headers: Headers, name: string): string | null {
  const value = headers[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

/** What @octokit/request throws when GitHub answered with an error status (its RequestError). */
const answeredError = z.object({
  message: z.string(),
  response: z.object({ status: z.number(), headers: z.record(z.string(), z.unknown()) }),
});

/** How long GitHub asked to wait: retry-after seconds, else until x-ratelimit-reset (epoch s). */
function retryAfter(headers: Headers, now: number): number | null {
  const after = Number(header(headers, 'retry-after') ?? Number.NaN);
  if (Number.isFinite(after) && after >= 0) return after;
  if (header(headers, 'x-ratelimit-remaining') !== '0') return null;
  const reset = Number(header(headers, 'x-ratelimit-reset') ?? Number.NaN);
  return Number.isFinite(reset) ? Math.max(0, Math.ceil(reset - now / 1000)) : null;
}

/**
 * Classes a failure (docs.github.com, "Rate limits for the REST API": a rate-limited request is
 * a 403 or 429 with x-ratelimit-remaining 0 or a retry-after header).
 */
export function toGitHubApiError(
  operation: string,
  error: unknown,
  now = Date.now(),
): GitHubApiError {
  if (error instanceof GitHubApiError) return error;
  const answered = answeredError.safeParse(error);
  if (answered.success) {
    const { status, headers } = answered.data.response;
    const wait = retryAfter(headers, now);
    const rateLimited = (status === 403 || status === 429) && wait !== null;
    const transient = status >= 500 || status === 429 || rateLimited;
    return new GitHubApiError(
      operation,
      status,
      transient,
      answered.data.message.slice(0, 300),
      wait,
    );
  }
  // No answer: the connection failed or the time ran out (octokit reports both as status 500
  // without a response; a timeout may also surface as the signal's own error).
  const message = error instanceof Error ? error.message : String(error);
  return new GitHubApiError(operation, 0, true, message.slice(0, 300));
}

/** The credential of a call: the App's JWT (for /app/*) or an installation token. */
export type GitHubAuth = { jwt: string } | { token: string };

/** An @octokit/request bound to GitHub's API, one credential and a fresh deadline. */
export function githubRequest(config: Pick<GitHubConfig, 'apiUrl'>, auth: GitHubAuth) {
  return request.defaults({
    baseUrl: config.apiUrl,
    headers: {
      'user-agent': 'omni',
      'x-github-api-version': GITHUB_API_VERSION,
      authorization: 'jwt' in auth ? `bearer ${auth.jwt}` : `token ${auth.token}`,
    },
    request: { signal: AbortSignal.timeout(GITHUB_CALL_TIMEOUT_MS) },
  });
}

/**
 * The fields Omni reads from an answer. An answer without them is a permanent GitHubApiError
 * (status 502: GitHub, or whatever stands at GITHUB_API_URL, said something unexpected).
 */
export function parseAnswer<T>(operation: string, schema: z.ZodType<T>, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') ?? '';
  throw new GitHubApiError(
    operation,
    502,
    false,
    `unexpected answer (${where}: ${issue?.message ?? ''})`,
  );
}

/** Runs one call, turning whatever it throws into a GitHubApiError named after `operation`. */
export async function send<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toGitHubApiError(operation, error);
  }
}
