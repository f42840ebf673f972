/**
 * Which repository URLs a job may clone: the edge's part of SSRF protection (OWASP API7:2023).
 * Production: https only, on the default port, without credentials, to a host in
 * REPO_ALLOWED_HOSTS, and never to an address or a name that is recognisably local, private or
 * a cloud metadata service (hosts.ts classifies the host). Development additionally allows
 * file:// repositories and http:// to a loopback host on the machine, and other ports, so the
 * demo and the tests need no network.
 *
 * What the edge cannot see: the clone runs inside the Daytona sandbox, which resolves the name
 * itself. A public name that resolves to a private address (or changes its answer between two
 * lookups, DNS rebinding) is for the sandbox's network policy to stop (Daytona's networkBlockAll /
 * networkAllowList). A redirect from an allowed host is refused by the clone itself: git runs
 * with `http.followRedirects=false` and only https allowed (durable-objects/job/clone.ts), so the
 * job fails with the redirect's target and the user resubmits that URL, which is checked here.
 * See docs/edge.md.
 */
import type { Config } from '../config.ts';
import { ApiError } from '../errors.ts';
import { classifyHost, type HostClass } from './hosts.ts';

/** A DNS label: letters, digits, hyphens inside, underscores (some hosts use them). */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
/** A top-level domain is alphabetic, or an IDN in punycode. */
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
/** Four numbers in a row, as dotted labels (10.0.0.1.nip.io) or inside one label (10-0-0-1). */
const EMBEDDED_IPV4 = /(?:^|[.-])\d{1,3}([.-])\d{1,3}\1\d{1,3}\1\d{1,3}(?:[.-]|$)/;

function reject(message: string): never {
  throw new ApiError('invalid_request', `repo.url ${message}`, [{ path: 'repo.url', message }]);
}

/** Rejects hosts that are addresses, or names that are recognisably not public. */
function checkHost(host: HostClass): void {
  // The URL parser has already turned every IPv4 spelling (2130706433, 0x7f.1, 0177.0.0.1) into
  // dotted decimal and every IPv6 one into its bracketed short form ([::ffff:7f00:1]).
  if (host.address !== null) reject('must name a host, not an IP address');
  // "github.com." is the same host to DNS, but not to an allow-list or a deny-list.
  if (host.trailingDot) reject('must not end the host name with a dot');
  if (host.kind === 'loopback' || host.kind === 'private' || host.kind === 'metadata') {
    reject('must name a host on the internet, not localhost or a local, private or metadata name');
  }
  const labels = host.host.split('.');
  const tld = labels[labels.length - 1] ?? '';
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !TLD.test(tld)) {
    reject('must name a host by its full public name, such as github.com');
  }
  if (host.kind !== 'public' || EMBEDDED_IPV4.test(host.host)) {
    reject('must not be a name that stands for an IP address (such as 127.0.0.1.nip.io)');
  }
}

/**
 * Returns the URL to clone (normalised by the URL parser), or throws a 400 that names
 * `repo.url` and says what to fix.
 */
export function checkRepoUrl(
  raw: string,
  config: Pick<Config, 'environment' | 'repoAllowedHosts'>,
): string {
  const development = config.environment === 'development';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return reject('must be an absolute URL such as https://github.com/owner/repo.git');
  }
  if (url.protocol === 'file:' && development) {
    if (url.host !== '' || url.search || url.hash) reject('must be file:///absolute/path/to/repo');
    return url.href;
  }
  const host = classifyHost(url.hostname);
  // Development only: a repository served over http on this machine (as the tests do).
  const local = development && url.protocol === 'http:' && host.kind === 'loopback';
  if (url.protocol !== 'https:' && !local) {
    reject(
      development
        ? 'must use https:// (or file:// for a local repository, or http:// to localhost, in development)'
        : 'must use https://',
    );
  }
  if (url.username || url.password) {
    reject('must not contain credentials; the repository must be readable without them');
  }
  // URL drops ":443", so every port left is another one.
  if (url.port !== '' && !development) reject('must use the default https port');
  if (url.search || url.hash) reject('must not have a query string or a fragment');
  if (local) return url.href;
  checkHost(host);
  if (config.repoAllowedHosts.length > 0 && !config.repoAllowedHosts.includes(host.host)) {
    reject(`must be on one of the allowed hosts: ${config.repoAllowedHosts.join(', ')}`);
  }
  return url.href;
}
