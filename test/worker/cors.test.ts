/** CORS: only the origins in CORS_ALLOWED_ORIGINS may call the API from a browser. */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../worker/app.ts';
import { newTenant } from './helpers.ts';

const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example';

let apiKey: string;
beforeAll(async () => {
  ({ apiKey } = await newTenant());
});

/** Calls a fresh app with CORS_ALLOWED_ORIGINS set to `origins`. */
async function call(
  path: string,
  init: RequestInit,
  origins = `${ALLOWED}, http://localhost:5173`,
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await createApp().request(path, init, { ...env, CORS_ALLOWED_ORIGINS: origins }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const preflight = (origin: string) =>
  call('/v1/jobs', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, idempotency-key',
    },
  });

describe('preflight', () => {
  it('allows an allowed origin, with the methods, headers and cache time', async () => {
    const res = await preflight(ALLOWED);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-methods')).toContain('DELETE');
    const allowHeaders = res.headers.get('access-control-allow-headers')?.toLowerCase() ?? '';
    expect(allowHeaders.split(',')).toEqual([
      'authorization',
      'content-type',
      'idempotency-key',
      'if-none-match',
      'last-event-id',
    ]);
    expect(res.headers.get('access-control-max-age')).toBe('7200');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('gives a disallowed origin no Access-Control-Allow-Origin', async () => {
    const res = await preflight(OTHER);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is not counted as an API request: no credentials, no rate limit', async () => {
    const res = await preflight(ALLOWED);
    expect(res.headers.get('ratelimit-policy')).toBeNull();
  });
});

describe('simple requests', () => {
  const get = (origin: string, origins?: string) =>
    call('/v1/jobs', { headers: { origin, authorization: `Bearer ${apiKey}` } }, origins);

  it('lets an allowed origin read the answer and the exposed headers', async () => {
    const res = await get(ALLOWED);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const exposed = res.headers.get('access-control-expose-headers')?.split(',') ?? [];
    expect(exposed).toEqual(
      expect.arrayContaining(['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy']),
    );
    expect(exposed).toEqual(
      expect.arrayContaining(['Location', 'Idempotent-Replayed', 'WWW-Authenticate']),
    );
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('answers a disallowed origin without Access-Control-Allow-Origin', async () => {
    const res = await get(OTHER);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    // A page of an origin that is merely similar is refused too: matching is exact.
    const lookalike = await get('https://app.example.com.evil.example');
    expect(lookalike.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows no origin when the setting is empty', async () => {
    const res = await get(ALLOWED, '');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('adds CORS headers to errors too, so a page can read the problem', async () => {
    const res = await call('/v1/jobs', { headers: { origin: ALLOWED } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });
});

describe('configuration', () => {
  it.each(['*', 'https://app.example.com/', 'https://app.example.com/path', 'app.example.com'])(
    'answers 503 naming CORS_ALLOWED_ORIGINS for the entry %s',
    async (entry) => {
      const res = await call('/health', { headers: { origin: ALLOWED } }, `${ALLOWED},${entry}`);
      expect(res.status).toBe(503);
      const problem = z.object({ code: z.string(), detail: z.string() }).parse(await res.json());
      expect(problem.code).toBe('misconfigured');
      expect(problem.detail).toContain('CORS_ALLOWED_ORIGINS');
    },
  );

  it('does not need the setting for requests without an Origin', async () => {
    const res = await call('/health', {}, '*');
    expect(res.status).toBe(200);
  });
});
