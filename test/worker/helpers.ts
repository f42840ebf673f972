/** Shared helpers of the workerd tests: tenants with API keys, API calls, and waiting on jobs. */
import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { z } from 'zod';
import { insertKey } from '../../worker/db/keys.ts';
import type { Role } from '../../worker/db/schema.ts';
import { apiKeyPrefix, generateApiKey, hashApiKey } from '../../worker/lib/api-keys.ts';
import { JobEventPageSchema, JobSchema, type Job } from '../../worker/schemas/jobs.ts';

/**
 * Stores a new API key of `role` for `tenantId` the way POST /v1/keys stores one (same id
 * format; only its hash and prefix are kept) and returns the key itself.
 */
export async function addKey(tenantId: string, role: Role, name = `test ${role}`): Promise<string> {
  const apiKey = generateApiKey();
  await insertKey(env.DB, {
    id: `key_${crypto.randomUUID().replaceAll('-', '')}`,
    tenantId,
    name,
    prefix: apiKeyPrefix(apiKey),
    keyHash: await hashApiKey(apiKey),
    role,
    createdBy: null,
    createdAt: Date.now(),
    lastUsedAt: null,
    expiresAt: null,
    revokedAt: null,
  });
  return apiKey;
}

/**
 * Creates a tenant with one API key of `role`. Its id is random, so no other test file sees
 * it; the tests of one file may share it (many files make one in `beforeAll`).
 */
export async function newTenant(
  role: Role = 'owner',
): Promise<{ tenantId: string; apiKey: string }> {
  const tenantId = `ten_${crypto.randomUUID().replaceAll('-', '')}`;
  await env.DB.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)')
    .bind(tenantId, 'test', Date.now())
    .run();
  return { tenantId, apiKey: await addKey(tenantId, role, 'test') };
}

/** Calls the Worker like a client would. */
export function api(
  path: string,
  apiKey: string | null,
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (apiKey) headers.set('authorization', `Bearer ${apiKey}`);
  if (init.body !== undefined && !headers.has('content-type'))
    headers.set('content-type', 'application/json');
  return exports.default.fetch(new Request(`https://omni.test${path}`, { ...init, headers }));
}

/** POST /v1/jobs with a JSON body; asserts 201 and returns the job. */
export async function createJob(apiKey: string, body: unknown): Promise<Job> {
  const res = await api('/v1/jobs', apiKey, { method: 'POST', body: JSON.stringify(body) });
  const json: unknown = await res.json();
  expect(res.status, JSON.stringify(json)).toBe(201);
  return JobSchema.parse(json);
}

const terminal = new Set(['succeeded', 'failed', 'timed_out', 'canceled']);

/** Polls GET /v1/jobs/{id} until the job has ended (bounded by the test timeout). */
export async function waitForEnd(apiKey: string, id: string): Promise<Job> {
  for (;;) {
    const res = await api(`/v1/jobs/${id}`, apiKey);
    expect(res.status).toBe(200);
    const job = JobSchema.parse(await res.json());
    if (terminal.has(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every event of a job, read page by page through GET /v1/jobs/{id}/events. */
export async function allEvents(
  apiKey: string,
  id: string,
  limit = 50,
): Promise<Array<Record<string, unknown>>> {
  const events: Array<Record<string, unknown>> = [];
  let after = 0;
  for (;;) {
    const res = await api(`/v1/jobs/${id}/events?after=${after}&limit=${limit}`, apiKey);
    expect(res.status).toBe(200);
    const page = JobEventPageSchema.parse(await res.json());
    events.push(...page.data);
    if (page.next_after === null || page.data.length === 0) return events;
    after = page.next_after;
  }
}

/** Sandboxes local-daytona still has for a job (by the label the Job DO sets). */
export async function sandboxesOf(jobId: string): Promise<unknown[]> {
  const res = await fetch(`${env.DAYTONA_API_URL}/sandbox`, {
    headers: { authorization: `Bearer ${env.DAYTONA_API_KEY}` },
  });
  expect(res.status).toBe(200);
  const body = z
    .union([z.array(z.unknown()), z.object({ items: z.array(z.unknown()) })])
    .parse(await res.json());
  const items = Array.isArray(body) ? body : body.items;
  return items.filter((s) => JSON.stringify(s).includes(jobId));
}
