/**
 * Who may do what on the job endpoints: every role (an API key of that role) against every
 * endpoint. Reading needs any role; creating and canceling need member or higher. A refusal is a
 * 403 problem and leaves nothing behind. The expected status of each cell is written out below,
 * not derived from the code under test.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  JobEventPageSchema,
  JobListSchema,
  JobSchema,
  StreamTokenSchema,
} from '../../worker/schemas/jobs.ts';
import { ProblemSchema } from '../../worker/schemas/problem.ts';
import { addKey, api, createJob, newTenant, waitForEnd } from './helpers.ts';
import { collectUntilClose, openStream, requestStream } from './sockets.ts';

const ROLES = ['viewer', 'member', 'admin', 'owner'] as const;
type Role = (typeof ROLES)[number];

const ROUTES = [
  'GET /v1/jobs',
  'GET /v1/jobs/{id}',
  'GET /v1/jobs/{id}/events',
  'GET /v1/jobs/{id}/stream',
  'POST /v1/jobs/{id}/stream-token',
  'POST /v1/jobs',
  'POST /v1/jobs/{id}/cancel',
] as const;
type Route = (typeof ROUTES)[number];

/** Route × role → the status that role's key gets. */
const expected: Record<Route, Record<Role, number>> = {
  'GET /v1/jobs': { viewer: 200, member: 200, admin: 200, owner: 200 },
  'GET /v1/jobs/{id}': { viewer: 200, member: 200, admin: 200, owner: 200 },
  'GET /v1/jobs/{id}/events': { viewer: 200, member: 200, admin: 200, owner: 200 },
  'GET /v1/jobs/{id}/stream': { viewer: 101, member: 101, admin: 101, owner: 101 },
  'POST /v1/jobs/{id}/stream-token': { viewer: 201, member: 201, admin: 201, owner: 201 },
  'POST /v1/jobs': { viewer: 403, member: 201, admin: 201, owner: 201 },
  'POST /v1/jobs/{id}/cancel': { viewer: 403, member: 200, admin: 200, owner: 200 },
};

let ownerKey: string;
const keys = new Map<Role, string>();
/** A job of the tenant that has ended, for the read endpoints. */
let finishedJobId: string;

beforeAll(async () => {
  const tenant = await newTenant('owner');
  ownerKey = tenant.apiKey;
  keys.set('owner', ownerKey);
  for (const role of ROLES) {
    if (role !== 'owner') keys.set(role, await addKey(tenant.tenantId, role));
  }
  const job = await createJob(ownerKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
  finishedJobId = (await waitForEnd(ownerKey, job.id)).id;
});

const post = (path: string, key: string, body?: unknown) =>
  api(path, key, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

async function expectForbidden(res: Response, role: Role): Promise<void> {
  expect(res.status).toBe(403);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const problem = ProblemSchema.parse(await res.json());
  expect(problem.code).toBe('forbidden');
  expect(problem.detail).toContain(`you have ${role}`);
}

async function jobStatus(id: string): Promise<string> {
  const res = await api(`/v1/jobs/${id}`, ownerKey);
  expect(res.status).toBe(200);
  return JobSchema.parse(await res.json()).status;
}

/**
 * Calls a route with `key` of `role` and asserts `status`: for a success, also what the caller
 * gets; for a refusal, the problem and that nothing changed.
 */
type Check = (key: string, role: Role, status: number) => Promise<void>;

/** Asserts `res` has `status`, and is the forbidden problem if that is 403. */
async function expectStatus(res: Response, role: Role, status: number): Promise<void> {
  if (status === 403) return expectForbidden(res, role);
  expect(res.status).toBe(status);
}

const checks: Record<Route, Check> = {
  async 'GET /v1/jobs'(key, role, status) {
    const res = await api('/v1/jobs', key);
    await expectStatus(res, role, status);
    if (status !== 200) return;
    const list = JobListSchema.parse(await res.json());
    expect(list.data.map((j) => j.id)).toContain(finishedJobId);
  },
  async 'GET /v1/jobs/{id}'(key, role, status) {
    const res = await api(`/v1/jobs/${finishedJobId}`, key);
    await expectStatus(res, role, status);
    if (status !== 200) return;
    expect(JobSchema.parse(await res.json()).status).toBe('succeeded');
  },
  async 'GET /v1/jobs/{id}/events'(key, role, status) {
    const res = await api(`/v1/jobs/${finishedJobId}/events`, key);
    await expectStatus(res, role, status);
    if (status !== 200) return;
    const page = JobEventPageSchema.parse(await res.json());
    expect(page.data.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
  },
  async 'GET /v1/jobs/{id}/stream'(key, role, status) {
    const path = `/v1/jobs/${finishedJobId}/stream`;
    if (status !== 101) return expectStatus(await requestStream(path, key), role, status);
    // The job has ended: its log is replayed and the server closes normally.
    const { messages, code } = await collectUntilClose(await openStream(path, key), 10_000);
    expect(code).toBe(1000);
    expect(messages.length).toBeGreaterThan(0);
  },
  async 'POST /v1/jobs/{id}/stream-token'(key, role, status) {
    const res = await post(`/v1/jobs/${finishedJobId}/stream-token`, key);
    await expectStatus(res, role, status);
    if (status !== 201) return;
    StreamTokenSchema.parse(await res.json());
  },
  async 'POST /v1/jobs'(key, role, status) {
    const command = `echo created by ${role} ${crypto.randomUUID()}`;
    const res = await post('/v1/jobs', key, { repo: { url: env.FIXTURE_REPO_URL }, command });
    await expectStatus(res, role, status);
    if (status === 201) {
      await waitForEnd(ownerKey, JobSchema.parse(await res.json()).id);
      return;
    }
    const list = JobListSchema.parse(await (await api('/v1/jobs?limit=100', ownerKey)).json());
    expect(list.data.map((j) => j.command)).not.toContain(command);
  },
  async 'POST /v1/jobs/{id}/cancel'(key, role, status) {
    const job = await createJob(ownerKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'sleep 60',
    });
    const res = await post(`/v1/jobs/${job.id}/cancel`, key);
    await expectStatus(res, role, status);
    if (status === 200) {
      expect(JobSchema.parse(await res.json()).status).toBe('canceled');
      return;
    }
    expect(await jobStatus(job.id)).not.toBe('canceled');
    expect((await post(`/v1/jobs/${job.id}/cancel`, ownerKey)).status).toBe(200);
  },
};

describe.each(ROLES)('an API key with the %s role', (role) => {
  it.each(ROUTES.map((route) => [expected[route][role], route] as const))(
    'gets %i from %s',
    async (status, route) => {
      const key = keys.get(role);
      if (!key) throw new Error(`no ${role} key`);
      await checks[route](key, role, status);
    },
  );
});
