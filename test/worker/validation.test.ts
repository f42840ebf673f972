/** Bad input gets a 4xx problem+json that says what to fix; unknown jobs are 404. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp, MAX_BODY_BYTES } from '../../worker/app.ts';
import { api, createJob, newTenant } from './helpers.ts';

const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  code: z.string(),
  instance: z.string(),
  request_id: z.string().min(1),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

async function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const problem = problemSchema.parse(await res.json());
  expect(problem.code).toBe(code);
  expect(problem.type).toBe(`urn:omni:error:${code}`);
  expect(problem.request_id).toBe(res.headers.get('x-request-id'));
  return problem;
}

let apiKey: string;
beforeAll(async () => {
  ({ apiKey } = await newTenant());
});

const post = (body: string, headers: Record<string, string> = {}) =>
  api('/v1/jobs', apiKey, { method: 'POST', body, headers });
const valid = () => ({ repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });

describe('authentication', () => {
  it('needs an API key', async () => {
    const problem = await expectProblem(await api('/v1/jobs', null), 401, 'unauthorized');
    expect(problem.detail).toContain('Authorization: Bearer');
  });

  it('refuses a malformed key and an unknown key', async () => {
    await expectProblem(await api('/v1/jobs', 'nope'), 401, 'unauthorized');
    await expectProblem(await api('/v1/jobs', `omni_${'A'.repeat(38)}`), 401, 'unauthorized');
  });

  it('answers /health without a key', async () => {
    const res = await api('/health', null);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});

describe('POST /v1/jobs bodies', () => {
  it('rejects malformed JSON', async () => {
    await expectProblem(await post('{"repo": '), 400, 'malformed_json');
  });

  it('rejects a body that is not JSON', async () => {
    await expectProblem(
      await post('repo=x', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type',
    );
  });

  it('names missing fields', async () => {
    const problem = await expectProblem(
      await post(JSON.stringify({ repo: {} })),
      400,
      'invalid_request',
    );
    const paths = problem.errors?.map((e) => e.path);
    expect(paths).toContain('repo.url');
    expect(paths).toContain('command');
  });

  it('names unknown fields, at any depth', async () => {
    const body = { ...valid(), colour: 'red', repo: { url: env.FIXTURE_REPO_URL, branch: 'main' } };
    const problem = await expectProblem(await post(JSON.stringify(body)), 400, 'invalid_request');
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { path: 'colour', message: 'is not a known field; remove it' },
        { path: 'repo.branch', message: 'is not a known field; remove it' },
      ]),
    );
    expect(problem.detail).toContain('colour');
  });

  it('rejects an oversized body with 413', async () => {
    const body = JSON.stringify({ ...valid(), command: 'x'.repeat(MAX_BODY_BYTES + 1024) });
    await expectProblem(await post(body), 413, 'payload_too_large');
  });

  it('rejects a command over the length limit', async () => {
    const problem = await expectProblem(
      await post(JSON.stringify({ ...valid(), command: 'x'.repeat(20_000) })),
      400,
      'invalid_request',
    );
    expect(problem.errors?.[0]?.path).toBe('command');
  });

  it.each([
    ['ftp://example.com/repo.git', 'must use https://'],
    ['https://127.0.0.1/repo.git', 'must name a host'],
    ['https://localhost/repo.git', 'must name a host'],
    ['https://[::1]/repo.git', 'must name a host'],
    ['https://user:secret@github.com/o/r.git', 'must not contain credentials'],
    ['https://evil.example/o/r.git', 'allowed hosts'],
    ['not a url', 'absolute URL'],
  ])('rejects the repository URL %s', async (url, message) => {
    const problem = await expectProblem(
      await post(JSON.stringify({ repo: { url }, command: 'true' })),
      400,
      'invalid_request',
    );
    expect(problem.errors?.[0]?.path).toBe('repo.url');
    expect(problem.detail).toContain(message);
  });

  it('rejects a ref that is not a branch or tag name', async () => {
    const problem = await expectProblem(
      await post(
        JSON.stringify({
          repo: { url: env.FIXTURE_REPO_URL, ref: '--upload-pack=evil' },
          command: 'true',
        }),
      ),
      400,
      'invalid_request',
    );
    expect(problem.errors?.[0]?.path).toBe('repo.ref');
  });

  it('rejects a timeout above the maximum', async () => {
    const problem = await expectProblem(
      await post(JSON.stringify({ ...valid(), timeout_seconds: 999_999 })),
      400,
      'invalid_request',
    );
    expect(problem.errors?.[0]?.path).toBe('timeout_seconds');
  });
});

describe('unknown parameters everywhere', () => {
  it('refuses unknown query parameters, and bodies on actions that take none', async () => {
    const job = await createJob(apiKey, { ...valid(), command: 'sleep 5' });
    const tokenPath = `/v1/jobs/${job.id}/stream-token`;
    const statuses = [
      (await api(`/v1/jobs/${job.id}?colour=red`, apiKey)).status,
      (await api(tokenPath, apiKey, { method: 'POST', body: '{"colour":"red"}' })).status,
      (await api(`/v1/jobs/${job.id}/cancel?now=1`, apiKey, { method: 'POST' })).status,
      (await api(tokenPath, apiKey, { method: 'POST', body: '{}' })).status,
      (await api(tokenPath, apiKey, { method: 'POST' })).status,
      (await api(`/v1/jobs/${job.id}/cancel`, apiKey, { method: 'POST' })).status,
    ];
    expect(statuses).toEqual([400, 400, 400, 201, 201, 200]);
  });

  it('refuses a chunked body that is not JSON', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('repo=x'));
        controller.close();
      },
    });
    const res = await api('/v1/jobs', apiKey, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
  });
});

describe('unknown resources', () => {
  it('answers 404 for an unknown or malformed job id', async () => {
    await expectProblem(await api(`/v1/jobs/job_${'0'.repeat(32)}`, apiKey), 404, 'not_found');
    await expectProblem(await api('/v1/jobs/whatever', apiKey), 404, 'not_found');
    await expectProblem(
      await api(`/v1/jobs/job_${'0'.repeat(32)}/events`, apiKey),
      404,
      'not_found',
    );
  });

  it('answers 404 for an unknown route', async () => {
    await expectProblem(await api('/v2/nothing', apiKey), 404, 'not_found');
  });
});

describe('configuration', () => {
  /** POST /v1/jobs to the app with some settings changed. */
  const postWith = (settings: Partial<Env>) =>
    createApp().request(
      '/v1/jobs',
      {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(valid()),
      },
      { ...env, ...settings },
    );

  it('refuses a loopback Daytona URL outside development with a 503 naming the setting', async () => {
    const problem = await expectProblem(
      await postWith({ ENVIRONMENT: 'production' }),
      503,
      'misconfigured',
    );
    expect(problem.detail).toContain('DAYTONA_API_URL');
    expect(problem.detail).toContain('ENVIRONMENT=development');
  });

  it('names a missing setting', async () => {
    const problem = await expectProblem(
      await postWith({ DAYTONA_API_KEY: '' }),
      503,
      'misconfigured',
    );
    expect(problem.detail).toContain('DAYTONA_API_KEY');
  });
});

describe('OpenAPI', () => {
  it('serves a document generated from the route schemas', async () => {
    const res = await api('/openapi.json', null);
    expect(res.status).toBe(200);
    const doc = z
      .object({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) })
      .parse(await res.json());
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/health',
        '/v1/jobs',
        '/v1/jobs/{id}',
        '/v1/jobs/{id}/events',
        '/v1/jobs/{id}/stream',
      ]),
    );
  });
});
