/**
 * Rate limits under /v1, counted by Cloudflare's Workers Rate Limiting bindings (`[[ratelimits]]`
 * in wrangler.toml): per client IP address before authentication, so guessing credentials is
 * limited too, and per caller (API key or JWT subject) after it. Job creation (`POST /v1/jobs`)
 * has its own, smaller budgets. Answers follow the IETF RateLimit header fields draft
 * (https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/): every response names
 * the policies that applied in `RateLimit-Policy`; a 429 adds `RateLimit` and `Retry-After`.
 *
 * The binding is a protection, not an accounting tool: its counters are kept per Cloudflare
 * location and are eventually consistent, so a client spread over locations, or a burst, can get
 * somewhat more than the limit (https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/).
 * Exact caps, such as a tenant's running jobs, are enforced elsewhere.
 */
import type { Context, Next } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ApiError, problemResponse } from '../errors.ts';
import { errorFields, log } from '../lib/log.ts';
import type { AppEnv } from '../types.ts';

/** Names of the bindings in `Env` that are rate limiters. */
type RateLimitBinding = { [K in keyof Env]: Env[K] extends RateLimit ? K : never }[keyof Env];

/** One rate limit. `limit` and `period` repeat the binding's settings in wrangler.toml. */
interface RateLimitPolicy {
  /** The policy's name in the `RateLimit-Policy` and `RateLimit` fields. */
  name: string;
  binding: RateLimitBinding;
  limit: number;
  /** Seconds; the binding accepts only 10 or 60. */
  period: 10 | 60;
  /** What is counted, as the 429's detail says it. */
  counts: string;
}

/**
 * Every rate limit, keyed by what it guards. A test checks these numbers against wrangler.toml,
 * which is what Cloudflare enforces.
 */
export const rateLimitPolicies = {
  createPerIp: {
    name: 'create-per-ip',
    binding: 'RATE_LIMIT_CREATE_PER_IP',
    limit: 100,
    period: 60,
    counts: 'job creations from your IP address',
  },
  createPerCaller: {
    name: 'create-per-caller',
    binding: 'RATE_LIMIT_CREATE_PER_CALLER',
    limit: 20,
    period: 60,
    counts: 'job creations by your API key or user',
  },
  requestsPerIp: {
    name: 'requests-per-ip',
    binding: 'RATE_LIMIT_PER_IP',
    limit: 1200,
    period: 60,
    counts: 'API requests from your IP address',
  },
  requestsPerCaller: {
    name: 'requests-per-caller',
    binding: 'RATE_LIMIT_PER_CALLER',
    limit: 600,
    period: 60,
    counts: 'API requests by your API key or user',
  },
} as const satisfies Record<string, RateLimitPolicy>;

/** Requests from which Cloudflare reported no address (tests, some local tools) share one key. */
const UNKNOWN_IP_KEY = 'ip:unknown';

function isJobCreation(c: Context<AppEnv>): boolean {
  return c.req.method === 'POST' && /^\/v1\/jobs\/?$/.test(c.req.path);
}

/**
 * The rate-limit key of a client address. An IPv6 client usually holds a whole /64, so it is
 * counted by that prefix; otherwise it could rotate addresses to escape its limit.
 */
export function ipKey(address: string | undefined): string {
  const ip = address?.trim().toLowerCase();
  if (!ip) return UNKNOWN_IP_KEY;
  // IPv4, and IPv4 written in IPv6 form (::ffff:192.0.2.1): one address is one client.
  if (!ip.includes(':') || ip.includes('.')) return `ip:${ip}`;
  const [head = '', tail = ''] = ip.split('::', 2);
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = ip.includes('::') ? Math.max(0, 8 - left.length - right.length) : 0;
  const groups = [...left, ...Array<string>(zeros).fill('0'), ...right];
  const prefix = groups.slice(0, 4).map((g) => (Number.parseInt(g, 16) || 0).toString(16));
  return `ip6:${prefix.join(':')}::/64`;
}

/** The `RateLimit-Policy` list member that describes `policy`. */
function policyItem(policy: RateLimitPolicy): string {
  return `"${policy.name}";q=${policy.limit};w=${policy.period}`;
}

/** Asks the binding; if it fails, the request goes through (a limiter outage is not an API outage). */
async function isAllowed(c: Context<AppEnv>, policy: RateLimitPolicy, key: string) {
  try {
    const { success } = await c.env[policy.binding].limit({ key });
    return success;
  } catch (error) {
    log('error', 'rate limiter failed', {
      request_id: c.var.requestId,
      binding: policy.binding,
      ...errorFields(error),
    });
    return true;
  }
}

/**
 * The 429. The binding does not say when its window ends, so `Retry-After` (and the `t` of
 * `RateLimit`) is the whole period: a client that waits that long is never too early.
 */
function tooManyRequests(c: Context<AppEnv>, policy: RateLimitPolicy): Response {
  const detail =
    `Rate limit "${policy.name}" reached: at most ${policy.limit} ${policy.counts} ` +
    `per ${policy.period} seconds. Retry after ${policy.period} seconds.`;
  const response = problemResponse(
    new ApiError('too_many_requests', detail),
    c.req.path,
    c.var.requestId,
  );
  response.headers.set('Retry-After', String(policy.period));
  response.headers.set('RateLimit-Policy', policyItem(policy));
  response.headers.set('RateLimit', `"${policy.name}";r=0;t=${policy.period}`);
  return response;
}

/**
 * `RATE_LIMITS=off` switches limiting off, in development only (`npm run bench` measures the
 * API itself, from one address and one key, which the limits would otherwise answer).
 */
function limitsOff(env: Env): boolean {
  return env.ENVIRONMENT === 'development' && env.RATE_LIMITS === 'off';
}

async function enforce(
  c: Context<AppEnv>,
  next: Next,
  policy: RateLimitPolicy,
  key: string,
): Promise<Response | undefined> {
  if (limitsOff(c.env)) {
    await next();
    return undefined;
  }
  if (!(await isAllowed(c, policy, key))) return tooManyRequests(c, policy);
  await next();
  // Answers that passed (errors included) say which policies counted them.
  c.header('RateLimit-Policy', policyItem(policy), { append: true });
  return undefined;
}

/** Limits /v1 requests per client IP address (`CF-Connecting-IP`); runs before authentication. */
export const rateLimitByIp = createMiddleware<AppEnv>(async (c, next) => {
  const policy = isJobCreation(c) ? rateLimitPolicies.createPerIp : rateLimitPolicies.requestsPerIp;
  return enforce(c, next, policy, ipKey(c.req.header('cf-connecting-ip')));
});

/** Limits /v1 requests per caller (`caller.actor` within its tenant); runs after authentication. */
export const rateLimitByCaller = createMiddleware<AppEnv>(async (c, next) => {
  const policy = isJobCreation(c)
    ? rateLimitPolicies.createPerCaller
    : rateLimitPolicies.requestsPerCaller;
  const { tenantId, actor } = c.var.caller;
  return enforce(c, next, policy, `caller:${tenantId}:${actor}`);
});
