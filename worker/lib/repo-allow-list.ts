/**
 * A project's repository allow-list: URL prefixes its jobs' repositories must start with. Each
 * prefix passes the same rules as a job's repository URL (repo-url.ts: https, a public host on
 * REPO_ALLOWED_HOSTS, no credentials, ...), so a prefix that no job could ever use is refused
 * when it is set, not when a job fails to match it.
 */
import type { Config } from '../config.ts';
import { ApiError, type FieldError } from '../errors.ts';
import { checkRepoUrl } from './repo-url.ts';

/**
 * The prefixes normalised by the URL parser (as checkRepoUrl normalises job URLs, so the two
 * compare), without duplicates.
 * @throws ApiError `invalid_request` (400) naming each entry that is not a valid prefix.
 */
export function checkAllowList(
  prefixes: string[],
  config: Pick<Config, 'environment' | 'repoAllowedHosts'>,
  field = 'repo_allow_list',
): string[] {
  const normalised: string[] = [];
  const errors: FieldError[] = [];
  prefixes.forEach((raw, i) => {
    try {
      normalised.push(checkRepoUrl(raw, config));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // checkRepoUrl words its messages for a job's repo.url; say which entry instead.
      const message = (error.errors?.[0]?.message ?? error.message).replace(/^repo\.url /, '');
      errors.push({ path: `${field}.${i}`, message });
    }
  });
  const first = errors[0];
  if (first) {
    throw new ApiError('invalid_request', `${first.path} ${first.message}`, errors);
  }
  return [...new Set(normalised)];
}

/**
 * True if `url` (as checkRepoUrl returned it) is allowed by `prefixes`: an empty list allows
 * everything; otherwise the URL equals a prefix, or continues it after a "/" (so
 * https://github.com/acme allows https://github.com/acme/app.git but not
 * https://github.com/acme-evil/app.git), or adds ".git" to it.
 */
export function allowedByList(url: string, prefixes: readonly string[]): boolean {
  if (prefixes.length === 0) return true;
  return prefixes.some((prefix) => {
    if (url === prefix || url === `${prefix}.git`) return true;
    const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
    return url.startsWith(base);
  });
}
