/**
 * Actions that take no body accept a request that says `Content-Type: application/json` and
 * sends nothing, as many HTTP clients do by default (fetch wrappers, `curl -H` in scripts).
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobSchema, StreamTokenSchema } from '../../worker/schemas/jobs.ts';
import { api, createJob, newTenant } from './helpers.ts';

let apiKey: string;
beforeAll(async () => {
  ({ apiKey } = await newTenant());
});

/** The ways a client sends "JSON, but nothing": a zero length, and a chunked empty body. */
const emptyBodies: Array<[string, () => RequestInit]> = [
  [
    'Content-Length: 0',
    () => ({ headers: { 'content-type': 'application/json', 'content-length': '0' } }),
  ],
  ['an empty string', () => ({ headers: { 'content-type': 'application/json' }, body: '' })],
  [
    'an empty chunked stream',
    () => ({
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: new ReadableStream({ start: (controller) => controller.close() }),
    }),
  ],
];

describe('POST with Content-Type: application/json and no body', () => {
  it.each(emptyBodies)('cancels a job (%s)', async (_, init) => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'sleep 60',
    });
    const res = await api(`/v1/jobs/${job.id}/cancel`, apiKey, { method: 'POST', ...init() });
    const body: unknown = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(JobSchema.parse(body).status).toBe('canceled');
  });

  it.each(emptyBodies)('issues a stream token (%s)', async (_, init) => {
    const job = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    const res = await api(`/v1/jobs/${job.id}/stream-token`, apiKey, {
      method: 'POST',
      ...init(),
    });
    const body: unknown = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(StreamTokenSchema.parse(body).url).toContain(`/v1/jobs/${job.id}/stream?token=`);
  });

  it('still refuses a body that is not JSON, and one with an unknown field', async () => {
    const job = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    const path = `/v1/jobs/${job.id}/stream-token`;
    const broken = await api(path, apiKey, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(broken.status).toBe(400);
    const unknown = await api(path, apiKey, { method: 'POST', body: '{"x":1}' });
    expect(unknown.status).toBe(400);
  });
});

describe('POST /v1/jobs with Content-Type: application/json and no body', () => {
  it('names the missing fields', async () => {
    const res = await api('/v1/jobs', apiKey, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '0' },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'invalid_request' });
  });
});
