/**
 * Which repository URLs a job may clone. Production: https only, to a configured host, never an
 * IP literal or a loopback name. Development additionally allows file:// repositories on the
 * machine, so the demo and the tests need no network.
 */
import type { Config } from '../config.ts';
import { isLoopbackHost } from '../config.ts';
import { ApiError } from '../errors.ts';

function reject(message: string): never {
  throw new ApiError('invalid_request', `repo.url ${message}`, [{ path: 'repo.url', message }]);
}

/** Returns the URL to clone, or throws a 400 that says what to fix. */
export function checkRepoUrl(raw: string, config: Config): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return reject('must be an absolute URL such as https://github.com/owner/repo.git');
  }
  if (url.protocol === 'file:' && config.environment === 'development') {
    if (url.host !== '' || url.search || url.hash) reject('must be file:///absolute/path/to/repo');
    return url.href;
  }
  if (url.protocol !== 'https:') {
    reject(
      config.environment === 'development'
        ? 'must use https:// (or file:// for a local repository in development)'
        : 'must use https://',
    );
  }
  if (url.username || url.password) reject('must not contain credentials');
  const host = url.hostname.toLowerCase();
  if (isLoopbackHost(host) || isIpLiteral(host))
    reject('must name a host, not an IP address or localhost');
  if (config.repoAllowedHosts.length > 0 && !config.repoAllowedHosts.includes(host)) {
    reject(`must be on one of the allowed hosts: ${config.repoAllowedHosts.join(', ')}`);
  }
  return url.href;
}

function isIpLiteral(host: string): boolean {
  // URL normalises every IPv4 spelling (decimal, hex, octal) to dotted decimal.
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('[');
}
