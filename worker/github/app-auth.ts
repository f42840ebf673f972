/**
 * GitHub App authentication (docs.github.com, "Authenticating as a GitHub App"): the App's JWT,
 * signed RS256 with its private key, is exchanged for installation tokens, each scoped to the
 * one repository a job works on. Tokens are cached in the isolate until five minutes before they
 * expire, and callers asking at the same time share one request. Tokens are never logged.
 */
import { SignJWT } from 'jose';
import { z } from 'zod';
import {
  GITHUB_CALL_TIMEOUT_MS,
  GitHubApiError,
  githubRequest,
  parseAnswer,
  send,
} from './client.ts';
import { loadGitHubConfig, type GitHubConfig } from './config.ts';
import { pkcs8Der } from './private-key.ts';

/** GitHub refuses a JWT valid for more than ten minutes; the clock may run a little ahead. */
const JWT_BACKDATE_SECONDS = 60;
const JWT_LIFETIME_SECONDS = 9 * 60;

/** A cached token is used until this long before it expires, so no call carries a dying token. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/** An installation token and when it expires (ms since the epoch). */
export interface InstallationToken {
  token: string;
  expiresAt: number;
}

const keys = new Map<string, Promise<CryptoKey>>();

/** The App's signing key, imported once per isolate (PKCS#1 keys are wrapped into PKCS#8). */
function signingKey(pem: string): Promise<CryptoKey> {
  let key = keys.get(pem);
  if (key === undefined) {
    key = crypto.subtle.importKey(
      'pkcs8',
      pkcs8Der(pem),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    key.catch(() => keys.delete(pem));
    keys.set(pem, key);
  }
  return key;
}

/** The App's JWT: iss = the App ID, issued a minute ago, expiring nine minutes from now. */
export async function appJwt(config: Pick<GitHubConfig, 'appId' | 'privateKey'>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(config.appId)
    .setIssuedAt(now - JWT_BACKDATE_SECONDS)
    .setExpirationTime(now + JWT_LIFETIME_SECONDS)
    .sign(await signingKey(config.privateKey));
}

/** Whether a token expiring at `expiresAt` is still fit to hand out at `now`. */
export function tokenIsFresh(expiresAt: number, now: number): boolean {
  return now < expiresAt - TOKEN_REFRESH_MARGIN_MS;
}

const TOKEN_ROUTE = 'POST /app/installations/{installation_id}/access_tokens';

const cached = new Map<string, InstallationToken>();
const inFlight = new Map<string, Promise<InstallationToken>>();

const tokenAnswer = z.object({
  token: z.string().min(1),
  expires_at: z.iso.datetime({ offset: true }),
});

/** `owner/name` or `name`: the repository's name, which is how the token request names it. */
function repositoryNameOf(repository: string): string {
  return repository.includes('/') ? repository.slice(repository.indexOf('/') + 1) : repository;
}

function cacheKey(config: GitHubConfig, installationId: number, name: string): string {
  return `${config.apiUrl} ${config.appId} ${installationId} ${name.toLowerCase()}`;
}

async function requestToken(
  config: GitHubConfig,
  installationId: number,
  name: string,
): Promise<InstallationToken> {
  const jwt = await appJwt(config);
  const route = TOKEN_ROUTE;
  const answer = await send(route, () =>
    githubRequest(config, { jwt })(route, {
      installation_id: installationId,
      repositories: [name],
    }),
  );
  const parsed = parseAnswer(route, tokenAnswer, answer.data);
  return { token: parsed.token, expiresAt: Date.parse(parsed.expires_at) };
}

/**
 * A token of the installation that reaches only `repository` (`owner/name` or `name`), from the
 * isolate's cache while it has more than five minutes left, else freshly requested.
 * @throws GitHubApiError when GitHub refuses or cannot be reached (its `transient` says whether to retry).
 * @throws ConfigError when the App's settings are missing.
 */
export async function installationToken(
  env: object,
  installationId: number,
  repository: string,
): Promise<InstallationToken> {
  const config = loadGitHubConfig(env);
  const name = repositoryNameOf(repository);
  const key = cacheKey(config, installationId, name);
  const hit = cached.get(key);
  if (hit !== undefined && tokenIsFresh(hit.expiresAt, Date.now())) return hit;
  cached.delete(key);
  const joined = inFlight.get(key);
  if (joined !== undefined) return joinWithin(joined, JOIN_TIMEOUT_MS);
  const pending = requestToken(config, installationId, name).then(
    (token) => {
      inFlight.delete(key);
      if (tokenIsFresh(token.expiresAt, Date.now())) cached.set(key, token);
      return token;
    },
    (error: unknown) => {
      inFlight.delete(key);
      throw error;
    },
  );
  inFlight.set(key, pending);
  return pending;
}

/** How long a caller waits for a request another caller started: a little past its deadline. */
const JOIN_TIMEOUT_MS = GITHUB_CALL_TIMEOUT_MS + 5_000;

/**
 * Waits for a token request that another caller, maybe in another request, started. The promise
 * settles to plain data, so sharing it is safe; but if that other request is cancelled, workerd
 * may drop its I/O and leave the promise unsettled, so this caller gives up after `ms` with a
 * transient error (tried again, it makes a request of its own once the entry is gone).
 */
function joinWithin(shared: Promise<InstallationToken>, ms: number): Promise<InstallationToken> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new GitHubApiError(TOKEN_ROUTE, 0, true, 'a shared token request did not settle')),
      ms,
    );
  });
  return Promise.race([shared, deadline]).finally(() => clearTimeout(timer));
}

/** Drops a cached token GitHub no longer accepts (a 401), so the next call asks for a new one. */
export function forgetInstallationToken(env: object, installationId: number, repository: string) {
  const config = loadGitHubConfig(env);
  cached.delete(cacheKey(config, installationId, repositoryNameOf(repository)));
}

/** Empties the isolate's token cache (tests). */
export function clearInstallationTokenCache(): void {
  cached.clear();
}
