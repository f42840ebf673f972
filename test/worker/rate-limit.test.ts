/// <reference types="vite/client" />
/**
 * Rate limits per caller and per IP address. The production bindings are swapped for
 * TEST_RATE_LIMIT (3 a minute, vitest.config.ts) so that a limit is reached in a few requests.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import wranglerToml from '../../wrangler.toml?raw';
import { createApp } from '../../worker/app.ts';
import { ipKey, rateLimitPolicies } from '../../worker/middleware/rate-limit.ts';
import { addKey, newTenant } from './helpers.ts';

const TEST_LIMIT = 3;

type Binding = (typeof rateLimitPolicies)[keyof typeof rateLimitPolicies]['binding'];

/** An address no other test uses: its own /64, so its own IP counter. */
function freshIp(): string {
  const group = () => Math.floor(Math.random() * 0x10000).toString(16);
  return `2001:db8:${group()}:${group()}::1`;
}

/** Calls a fresh app from `ip`, with the given bindings replaced by TEST_RATE_LIMIT. */
async function call(
  path: string,
  init: { method?: string; apiKey?: string; body?: unknown; ip: string },
  swap: Binding[] = [],
  limiter: RateLimit = env.TEST_RATE_LIMIT,
): Promise<Response> {
  const headers = new Headers({ 'cf-connecting-ip': init.ip });
  if (init.apiKey) headers.set('authorization', `Bearer ${init.apiKey}`);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  const bindings = { ...env, ...Object.fromEntries(swap.map((name) => [name, limiter])) };
  const ctx = createExecutionContext();
  const res = await createApp().request(
    path,
    { method: init.method, headers, body },
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/**
 * Repeats `send` until it is answered 429. Counters use fixed windows, so a run may straddle
 * one window boundary: 2 × limit + 1 requests always reach the limit.
 */
async function untilLimited(send: () => Promise<Response>): Promise<Response[]> {
  const answers: Response[] = [];
  for (let i = 0; i < 2 * TEST_LIMIT + 1; i++) {
    const res = await send();
    answers.push(res);
    if (res.status === 429) return answers;
  }
  throw new Error(`no 429 after ${answers.length} requests`);
}

const problemSchema = z.object({ code: z.string(), detail: z.string(), status: z.number() });

describe('rate limit per caller', () => {
  it('answers 429 with Retry-After and RateLimit fields once a caller creates too many jobs', async () => {
    const { tenantId, apiKey } = await newTenant();
    const ip = freshIp();
    // An invalid body still counts: the limit is checked before the body is validated.
    const create = (key: string) =>
      call('/v1/jobs', { method: 'POST', apiKey: key, body: {}, ip }, [
        'RATE_LIMIT_CREATE_PER_CALLER',
      ]);
    const answers = await untilLimited(() => create(apiKey));
    expect(answers.slice(0, -1).every((r) => r.status === 400)).toBe(true);
    const limited = answers[answers.length - 1];
    if (!limited) throw new Error('no answer');
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(limited.headers.get('ratelimit')).toBe('"create-per-caller";r=0;t=60');
    const policy = limited.headers.get('ratelimit-policy') ?? '';
    expect(policy).toContain('"create-per-caller";q=20;w=60');
    // The IP policy counted the request too, and says so.
    expect(policy).toContain('"create-per-ip";q=100;w=60');
    const problem = problemSchema.parse(await limited.json());
    expect(problem).toMatchObject({ code: 'too_many_requests', status: 429 });
    expect(problem.detail).toContain('create-per-caller');
    expect(problem.detail).toContain('Retry after 60 seconds');

    // Another key of the same tenant, from the same address, is not affected.
    const other = await create(await addKey(tenantId, 'member'));
    expect(other.status).toBe(400);
    // Nor are the first key's other requests: creation has its own budget.
    const list = await call('/v1/jobs', { apiKey, ip }, ['RATE_LIMIT_CREATE_PER_CALLER']);
    expect(list.status).toBe(200);
  });

  it('names the policies that applied on a successful answer', async () => {
    const { apiKey } = await newTenant();
    const res = await call('/v1/jobs', { apiKey, ip: freshIp() });
    expect(res.status).toBe(200);
    const policy = res.headers.get('ratelimit-policy') ?? '';
    expect(policy).toContain('"requests-per-caller";q=600;w=60');
    expect(policy).toContain('"requests-per-ip";q=1200;w=60');
    expect(res.headers.get('ratelimit')).toBeNull();
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it('lets requests through when the limiter itself fails', async () => {
    const { apiKey } = await newTenant();
    const broken: RateLimit = { limit: () => Promise.reject(new Error('limiter down')) };
    const res = await call(
      '/v1/jobs',
      { apiKey, ip: freshIp() },
      ['RATE_LIMIT_PER_CALLER'],
      broken,
    );
    expect(res.status).toBe(200);
  });
});

describe('rate limit per IP address', () => {
  it('limits unauthenticated requests, before authentication', async () => {
    const ip = freshIp();
    const answers = await untilLimited(() => call('/v1/jobs', { ip }, ['RATE_LIMIT_PER_IP']));
    expect(answers.slice(0, -1).every((r) => r.status === 401)).toBe(true);
    const limited = answers[answers.length - 1];
    expect(limited?.headers.get('ratelimit')).toBe('"requests-per-ip";r=0;t=60');
    expect(limited?.headers.get('retry-after')).toBe('60');
    expect(problemSchema.parse(await limited?.json()).detail).toContain('your IP address');

    // Wrong credentials from that address are refused before they are even checked.
    const guess = await call('/v1/jobs', { ip, apiKey: `omni_${'A'.repeat(38)}` }, [
      'RATE_LIMIT_PER_IP',
    ]);
    expect(guess.status).toBe(429);
    // Another address is not affected.
    const elsewhere = await call('/v1/jobs', { ip: freshIp() }, ['RATE_LIMIT_PER_IP']);
    expect(elsewhere.status).toBe(401);
  });

  it('counts an IPv6 client by its /64 and an IPv4 client by its address', () => {
    expect(ipKey('2001:db8:1:2:3:4:5:6')).toBe(ipKey('2001:DB8:1:2::9'));
    expect(ipKey('2001:db8:1:2::1')).not.toBe(ipKey('2001:db8:1:3::1'));
    expect(ipKey('2001:db8::1')).toBe('ip6:2001:db8:0:0::/64');
    expect(ipKey('192.0.2.1')).not.toBe(ipKey('192.0.2.2'));
    expect(ipKey('::ffff:192.0.2.1')).not.toBe(ipKey('::ffff:192.0.2.2'));
    expect(ipKey(undefined)).toBe(ipKey(''));
  });
});

describe('configuration', () => {
  it('states the limits that wrangler.toml gives Cloudflare', () => {
    const blocks = wranglerToml.split('[[ratelimits]]').slice(1);
    const configured = blocks.map((block) => ({
      binding: /^name = "(\w+)"/m.exec(block)?.[1],
      limit: Number(/limit = (\d+)/.exec(block)?.[1]),
      period: Number(/period = (\d+)/.exec(block)?.[1]),
    }));
    const stated = Object.values(rateLimitPolicies).map(({ binding, limit, period }) => ({
      binding,
      limit,
      period,
    }));
    expect(configured).toEqual(expect.arrayContaining(stated));
    expect(configured).toHaveLength(stated.length);
  });
});

describe('RATE_LIMITS=off', () => {
  /** A limiter that refuses everything: any request it is asked about is limited. */
  const refuseAll = { limit: async () => ({ success: false }) } satisfies RateLimit;
  const all: Binding[] = Object.values(rateLimitPolicies).map((p) => p.binding);

  it('switches limits off in development only', async () => {
    const { apiKey } = await newTenant();
    const off = async (environment: string) => {
      const headers = new Headers({ authorization: `Bearer ${apiKey}` });
      const bindings = {
        ...env,
        ...Object.fromEntries(all.map((name) => [name, refuseAll])),
        RATE_LIMITS: 'off',
        ENVIRONMENT: environment,
        DAYTONA_API_URL:
          environment === 'production' ? 'https://daytona.example/api' : env.DAYTONA_API_URL,
      };
      return (
        await createApp().request('/v1/jobs', { headers }, bindings, createExecutionContext())
      ).status;
    };
    expect(await off('development')).toBe(200);
    expect(await off('production')).toBe(429);
  });
});
