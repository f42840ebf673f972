/**
 * Who may do what on the job endpoints: every role (an API key of that role) against every
 * endpoint. Reading needs any role; creating and canceling need member or higher. A refusal is a
 * 403 problem and leaves nothing behind.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { roles, type Role } from '../../worker/db/schema.ts';
import { hasRole } from '../../worker/middleware/auth.ts';
import {
  JobEventPageSchema,
  JobListSchema,
  JobSchema,
  StreamTokenSchema,
} from '../../worker/schemas/jobs.ts';
import { ProblemSchema } from '../../worker/schemas/problem.ts';
import { addKey, api, createJob, newTenant, waitForEnd } from './helpers.ts';
import { collectUntilClose, openStream } from './sockets.ts';

let ownerKey: string;
const keys = new Map<Role, string>();
/** A job of the tenant that has ended, for the read endpoints. */
let finishedJobId: string;

beforeAll(async () => {
  const tenant = await newTenant('owner');
  ownerKey = tenant.apiKey;
  keys.set('owner', ownerKey);
  for (const role of roles) {
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

interface Endpoint {
  name: string;
  /** The weakest role allowed. */
  min: Role;
  /** Calls the endpoint with `key` of `role` and asserts the outcome `allowed` says. */
  run(key: string, role: Role, allowed: boolean): Promise<void>;
}

const endpoints: Endpoint[] = [
  {
    name: 'GET /v1/jobs',
    min: 'viewer',
    async run(key) {
      const res = await api('/v1/jobs', key);
      expect(res.status).toBe(200);
      const list = JobListSchema.parse(await res.json());
      expect(list.data.map((j) => j.id)).toContain(finishedJobId);
    },
  },
  {
    name: 'GET /v1/jobs/{id}',
    min: 'viewer',
    async run(key) {
      const res = await api(`/v1/jobs/${finishedJobId}`, key);
      expect(res.status).toBe(200);
      expect(JobSchema.parse(await res.json()).status).toBe('succeeded');
    },
  },
  {
    name: 'GET /v1/jobs/{id}/events',
    min: 'viewer',
    async run(key) {
      const res = await api(`/v1/jobs/${finishedJobId}/events`, key);
      expect(res.status).toBe(200);
      const page = JobEventPageSchema.parse(await res.json());
      expect(page.data.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    },
  },
  {
    name: 'GET /v1/jobs/{id}/stream',
    min: 'viewer',
    async run(key) {
      const ws = await openStream(`/v1/jobs/${finishedJobId}/stream`, key);
      // The job has ended: its log is replayed and the server closes normally.
      const { messages, code } = await collectUntilClose(ws, 10_000);
      expect(code).toBe(1000);
      expect(messages.length).toBeGreaterThan(0);
    },
  },
  {
    name: 'POST /v1/jobs/{id}/stream-token',
    min: 'viewer',
    async run(key) {
      const res = await post(`/v1/jobs/${finishedJobId}/stream-token`, key);
      expect(res.status).toBe(201);
      StreamTokenSchema.parse(await res.json());
    },
  },
  {
    name: 'POST /v1/jobs',
    min: 'member',
    async run(key, role, allowed) {
      const command = `echo created by ${role} ${crypto.randomUUID()}`;
      const res = await post('/v1/jobs', key, { repo: { url: env.FIXTURE_REPO_URL }, command });
      if (allowed) {
        expect(res.status).toBe(201);
        await waitForEnd(ownerKey, JobSchema.parse(await res.json()).id);
        return;
      }
      await expectForbidden(res, role);
      const list = JobListSchema.parse(await (await api('/v1/jobs?limit=100', ownerKey)).json());
      expect(list.data.map((j) => j.command)).not.toContain(command);
    },
  },
  {
    name: 'POST /v1/jobs/{id}/cancel',
    min: 'member',
    async run(key, role, allowed) {
      const job = await createJob(ownerKey, {
        repo: { url: env.FIXTURE_REPO_URL },
        command: 'sleep 60',
      });
      const res = await post(`/v1/jobs/${job.id}/cancel`, key);
      if (allowed) {
        expect(res.status).toBe(200);
        expect(JobSchema.parse(await res.json()).status).toBe('canceled');
        return;
      }
      await expectForbidden(res, role);
      expect(await jobStatus(job.id)).not.toBe('canceled');
      expect((await post(`/v1/jobs/${job.id}/cancel`, ownerKey)).status).toBe(200);
    },
  },
];

describe.each(roles)('an API key with the %s role', (role) => {
  const matrix = endpoints.map((e) => {
    const allowed = hasRole(role, e.min);
    return [allowed ? 'may call' : 'gets 403 from', e.name, allowed, e] as const;
  });
  it.each(matrix)('%s %s', async (_, __, allowed, endpoint) => {
    const key = keys.get(role);
    if (!key) throw new Error(`no ${role} key`);
    await endpoint.run(key, role, allowed);
  });
});
