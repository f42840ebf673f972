/**
 * Object-level authorisation: tenant B, with an owner API key or an owner JWT, gets nothing of
 * tenant A's jobs on any job surface. Every answer is the 404 a job id that does not exist gets,
 * in the same shape, so B cannot even learn that A's job exists; never a 403, never a 409.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../worker/app.ts';
import { encodeCursor } from '../../worker/lib/cursor.ts';
import {
  JobListSchema,
  JobSchema,
  StreamTokenSchema,
  type Job,
} from '../../worker/schemas/jobs.ts';
import { ProblemSchema } from '../../worker/schemas/problem.ts';
import { api, createJob, newTenant, waitForEnd } from './helpers.ts';
import { collectUntilClose, openStream, requestStream } from './sockets.ts';

const app = createApp();
const jwtSettings = {
  JWT_ISSUER: 'https://idp.omni.test/',
  JWT_AUDIENCE: 'omni-api',
  JWT_SECRET: 'a shared secret of the tests, 32 bytes or more',
};
/** The Worker's bindings with JWTs accepted (shared-secret mode). */
const jwtEnv = { ...env, ...jwtSettings };

function jwtFor(tenantId: string): Promise<string> {
  return new SignJWT({ tenant_id: tenantId, role: 'owner' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(jwtSettings.JWT_ISSUER)
    .setAudience(jwtSettings.JWT_AUDIENCE)
    .setSubject(`user-${crypto.randomUUID()}`)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(jwtSettings.JWT_SECRET));
}

/** A way to call the API as tenant B. */
interface Credential {
  name: string;
  call(path: string, init?: RequestInit): Promise<Response>;
}

function withBearer(token: string, init: RequestInit): Headers {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return headers;
}

let tenantA: { tenantId: string; apiKey: string };
let tenantB: { tenantId: string; apiKey: string };
let finishedA: Job;
let runningA: Job;
let jobB: Job;
const credentials: Credential[] = [
  {
    name: 'API key',
    call: (path, init = {}) =>
      api(path, null, { ...init, headers: withBearer(tenantB.apiKey, init) }),
  },
  {
    name: 'JWT',
    call: async (path, init = {}) => {
      const headers = withBearer(await jwtFor(tenantB.tenantId), init);
      const ctx = createExecutionContext();
      const res = await app.request(`https://omni.test${path}`, { ...init, headers }, jwtEnv, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    },
  },
];

beforeAll(async () => {
  tenantA = await newTenant('owner');
  tenantB = await newTenant('owner');
  const repo = { url: env.FIXTURE_REPO_URL };
  finishedA = await createJob(tenantA.apiKey, { repo, command: 'echo secret of A' });
  runningA = await createJob(tenantA.apiKey, { repo, command: 'sleep 60' });
  jobB = await createJob(tenantB.apiKey, { repo, command: 'true' });
  await waitForEnd(tenantA.apiKey, finishedA.id);
  await waitForEnd(tenantB.apiKey, jobB.id);
  // The JWT credential must work for B at all, or every 404 below would prove nothing.
  const own = await credentials[1]?.call(`/v1/jobs/${jobB.id}`);
  expect(own?.status).toBe(200);
});

/** A well-formed job id that exists nowhere. */
const randomId = () => `job_${crypto.randomUUID().replaceAll('-', '')}`;

interface Surface {
  name: string;
  request(id: string): [string, RequestInit];
}

const surfaces: Surface[] = [
  { name: 'GET /v1/jobs/{id}', request: (id) => [`/v1/jobs/${id}`, {}] },
  { name: 'GET /v1/jobs/{id}/events', request: (id) => [`/v1/jobs/${id}/events`, {}] },
  {
    name: 'GET /v1/jobs/{id}/stream',
    request: (id) => [`/v1/jobs/${id}/stream`, { headers: { upgrade: 'websocket' } }],
  },
  {
    name: 'POST /v1/jobs/{id}/cancel',
    request: (id) => [`/v1/jobs/${id}/cancel`, { method: 'POST' }],
  },
  {
    name: 'POST /v1/jobs/{id}/stream-token',
    request: (id) => [`/v1/jobs/${id}/stream-token`, { method: 'POST' }],
  },
];

/** A 404 problem with what varies per request (its id, the job id) masked out. */
async function notFoundShape(res: Response, id: string) {
  expect(res.status).toBe(404);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const problem = ProblemSchema.parse(await res.json());
  expect(problem.request_id).toBe(res.headers.get('x-request-id'));
  const { request_id: _, ...rest } = problem;
  const mask = (s: string) => s.replaceAll(id, '<id>');
  return { ...rest, detail: mask(rest.detail), instance: mask(rest.instance) };
}

async function statusOf(job: Job): Promise<string> {
  const res = await api(`/v1/jobs/${job.id}`, tenantA.apiKey);
  expect(res.status).toBe(200);
  return JobSchema.parse(await res.json()).status;
}

describe.each(credentials.map((c) => [c.name, c] as const))("tenant B's %s", (_, credential) => {
  it.each(
    surfaces.flatMap((s) => [
      [s.name, 'a finished job', s] as const,
      [s.name, 'a running job', s] as const,
    ]),
  )("gets the unknown-job 404 from %s on A's %s", async (_, which, surface) => {
    const job = which === 'a finished job' ? finishedA : runningA;
    const theirs = await credential.call(...surface.request(job.id));
    const nobody = randomId();
    const unknown = await credential.call(...surface.request(nobody));
    const expected = await notFoundShape(unknown, nobody);
    expect(expected).toMatchObject({ code: 'not_found', title: 'Not found' });
    expect(await notFoundShape(theirs, job.id)).toEqual(expected);
  });

  it("never lists A's jobs, with or without filters or a cursor aimed at them", async () => {
    const cursor = encodeCursor({ createdAt: Date.parse(finishedA.created_at) + 1, id: 'job_z' });
    for (const query of [
      '?limit=100',
      '?status=succeeded',
      '?status=queued',
      '?status=running',
      `?cursor=${encodeURIComponent(cursor)}`,
    ]) {
      const res = await credential.call(`/v1/jobs${query}`);
      expect(res.status, query).toBe(200);
      const ids = JobListSchema.parse(await res.json()).data.map((j) => j.id);
      expect(ids, query).not.toContain(finishedA.id);
      expect(ids, query).not.toContain(runningA.id);
      if (query === '?limit=100') expect(ids).toEqual([jobB.id]);
    }
  });
});

describe('a stream token of tenant B', () => {
  it("opens only B's job, and on A's job is answered like on a job that does not exist", async () => {
    const res = await api(`/v1/jobs/${jobB.id}/stream-token`, tenantB.apiKey, { method: 'POST' });
    expect(res.status).toBe(201);
    const { token } = StreamTokenSchema.parse(await res.json());
    const path = (id: string) => `/v1/jobs/${id}/stream?token=${encodeURIComponent(token)}`;
    const open = (id: string) => requestStream(path(id), null);
    // B's job has ended: its log is replayed and the server closes normally.
    const own = await collectUntilClose(await openStream(path(jobB.id), null), 10_000);
    expect(own.code).toBe(1000);
    expect(own.messages.length).toBeGreaterThan(0);
    const theirs = await open(finishedA.id);
    const unknown = await open(randomId());
    expect(theirs.status).toBe(unknown.status);
    expect(theirs.status).toBeGreaterThanOrEqual(400);
    const text = (r: Response) => r.text();
    expect((await text(theirs)).replace(/"request_id":"[^"]*"|job_[0-9a-f]{32}/g, '')).toBe(
      (await text(unknown)).replace(/"request_id":"[^"]*"|job_[0-9a-f]{32}/g, ''),
    );
  });
});

describe("A's jobs afterwards", () => {
  it('are untouched: the running job was not canceled', async () => {
    expect(await statusOf(finishedA)).toBe('succeeded');
    expect(await statusOf(runningA)).not.toBe('canceled');
    const cancel = await api(`/v1/jobs/${runningA.id}/cancel`, tenantA.apiKey, { method: 'POST' });
    expect(cancel.status).toBe(200);
  });
});
