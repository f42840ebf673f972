/** Helpers of the key, member and audit tests: JSON calls, problems, keys, audit pages, polling. */
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { SignJWT } from 'jose';
import { expect } from 'vitest';
import { createApp } from '../../worker/app.ts';
import { z } from 'zod';
import type { Role } from '../../worker/db/schema.ts';
import { hashApiKey } from '../../worker/lib/api-keys.ts';
import { AuditListSchema, type AuditEntry } from '../../worker/schemas/audit.ts';
import { CreatedKeySchema, type CreatedKey } from '../../worker/schemas/keys.ts';
import { api } from './helpers.ts';

/** Calls the API with `body` as JSON (if given). */
export function send(
  method: string,
  path: string,
  apiKey: string,
  body?: unknown,
): Promise<Response> {
  return api(path, apiKey, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const ProblemSchema = z.object({
  code: z.string(),
  detail: z.string(),
  request_id: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/** Asserts a problem+json answer with `status` and `code`, and returns it. */
export async function expectProblem(res: Response, status: number, code: string) {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const problem = ProblemSchema.parse(JSON.parse(text));
  expect(problem.code).toBe(code);
  return problem;
}

/** Creates a key through POST /v1/keys; asserts 201. */
export async function createKey(
  apiKey: string,
  role: Role,
  name = `key ${role}`,
): Promise<CreatedKey & { requestId: string }> {
  const res = await send('POST', '/v1/keys', apiKey, { name, role });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return {
    ...CreatedKeySchema.parse(JSON.parse(text)),
    requestId: res.headers.get('x-request-id') ?? '',
  };
}

/** The id of a key, as stored (keys made by `newTenant` and `addKey` only give their secret). */
export async function keyIdOf(apiKey: string): Promise<string> {
  const row = await env.DB.prepare('SELECT id FROM api_keys WHERE key_hash = ?')
    .bind(await hashApiKey(apiKey))
    .first();
  return z.object({ id: z.string() }).parse(row).id;
}

/** Status of GET /v1/jobs with `apiKey`: 200 if the key works, 401 if not. */
export async function statusWith(apiKey: string): Promise<number> {
  const res = await api('/v1/jobs', apiKey);
  await res.body?.cancel();
  return res.status;
}

/** Every audit entry visible to `apiKey` (optionally of one action), read page by page. */
export async function auditEntries(apiKey: string, query = ''): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams(query);
    params.set('limit', '100');
    if (cursor) params.set('cursor', cursor);
    const res = await api(`/v1/audit?${params}`, apiKey);
    expect(res.status).toBe(200);
    const page = AuditListSchema.parse(await res.json());
    entries.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return entries;
}

/** Calls `check` until it returns true, every 100 ms for at most `ms`; fails the test after. */
export async function eventually(check: () => Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const USER_SECRET = 'identity-test-secret-of-at-least-32-bytes';

/** Bindings under which HS256 JWTs signed by asUser() are accepted. */
export const userEnv = {
  ...env,
  JWT_SECRET: USER_SECRET,
  JWT_ISSUER: 'https://idp.test',
  JWT_AUDIENCE: 'omni',
};

/** An HS256 JWT for the person `subject` of `tenant`, with `claimRole` as its role claim. */
export function userToken(tenant: string, subject: string, claimRole = 'viewer'): Promise<string> {
  return new SignJWT({ tenant_id: tenant, role: claimRole })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer('https://idp.test')
    .setAudience('omni')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(USER_SECRET));
}

/** Calls the app (under userEnv) as the person `subject` of `tenant`, with a JWT. */
export async function asUser(
  tenant: string,
  subject: string,
  method: string,
  path: string,
  body?: unknown,
  claimRole = 'viewer',
): Promise<Response> {
  const token = await userToken(tenant, subject, claimRole);
  const init: RequestInit = {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
  return createApp().request(path, init, userEnv, createExecutionContext());
}

/** Adds a membership directly in D1 (for tenants that have no owner to add it through the API). */
export async function addMember(tenant: string, subject: string, role: Role): Promise<void> {
  const now = Date.now();
  await env.DB.prepare(
    'INSERT INTO memberships (tenant_id, subject, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
  )
    .bind(tenant, subject, role, now, now)
    .run();
}
