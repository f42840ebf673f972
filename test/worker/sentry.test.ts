/**
 * Errors to Sentry: an unhandled error reaches the Sentry stand-in (test/sentry-server.ts) with
 * the request's ids and without its credentials; the client gets a generic 500 with the request
 * id; nothing at all is sent without a DSN. The reporter the Durable Objects call is checked
 * directly, with a job's ids.
 */
import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { deadlineAttemptLimit } from '../../durable-objects/job/decisions.ts';
import { JobStorage } from '../../durable-objects/job/storage.ts';
import { createApp } from '../../worker/app.ts';
import { scrubText } from '../../worker/lib/scrub.ts';
import { reportError } from '../../worker/lib/sentry.ts';
import { addFaults, newJobId, removeFaults, startJob, waitForStatus } from './faults.ts';
import { newTenant } from './helpers.ts';

/** A project number of its own, so the test reads only its own envelopes. */
function newProject(): string {
  return String(100_000 + Math.floor(Math.random() * 900_000));
}

function dsnOf(project: string): string {
  const url = new URL(env.TEST_SENTRY_URL);
  return `http://publickey@${url.host}/${project}`;
}

/** The envelopes the stand-in received for `project`, once there is at least one. */
async function envelopesOf(project: string): Promise<string[]> {
  for (;;) {
    const res = await fetch(`${env.TEST_SENTRY_URL}/projects/${project}/envelopes`);
    const { envelopes } = z.object({ envelopes: z.array(z.string()) }).parse(await res.json());
    if (envelopes.length > 0) return envelopes;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Shaped like a JWT (a stream token is one), put in the query string as `?token=`. */
const TOKEN_LIKE = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdHJlYW0ifQ.c2lnbmF0dXJlLW9mLWEtdG9rZW4';

/** An app with one route that fails the way a bug does, its message full of secrets. */
function failingApp(apiKey: string) {
  const app = createApp();
  app.get('/v1/test-failure', () => {
    throw new Error(`broken: key ${apiKey} token ${TOKEN_LIKE} daytona ${env.DAYTONA_API_KEY}`);
  });
  return app;
}

async function callFailing(apiKey: string, bindings: object): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await failingApp(apiKey).request(
    `/v1/test-failure?after=1&access_token=${TOKEN_LIKE}`,
    { headers: { authorization: `Bearer ${apiKey}`, cookie: 'session=cookie-value-1234' } },
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('errors to Sentry', () => {
  it('sends an unhandled error with the request ids and without its credentials', async () => {
    const { tenantId, apiKey } = await newTenant('member');
    const project = newProject();
    const res = await callFailing(apiKey, { ...env, SENTRY_DSN: dsnOf(project) });

    // The client: a generic 500 problem with the request id, no stack, no message.
    const text = await res.text();
    expect(res.status, text).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const requestId = res.headers.get('x-request-id') ?? '';
    const problem = z
      .object({ code: z.literal('internal'), request_id: z.string(), detail: z.string() })
      .parse(JSON.parse(text));
    expect(problem.request_id).toBe(requestId);
    expect(text).not.toMatch(/broken|at .*\.ts|stack/);

    const [envelope = ''] = await envelopesOf(project);
    expect(envelope).toContain('broken: key');
    expect(envelope).toContain(requestId);
    expect(envelope).toContain(tenantId);
    expect(envelope).toContain('/v1/test-failure');
    expect(envelope).toMatch(/"user_id":"key:key_/);
    for (const secret of [apiKey, TOKEN_LIKE, env.DAYTONA_API_KEY, 'cookie-value-1234']) {
      expect(envelope).not.toContain(secret);
    }
    expect(envelope).not.toMatch(/authorization|Bearer /i);
  });

  it('sends nothing without a DSN', async () => {
    const { apiKey } = await newTenant('member');
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const res = await callFailing(apiKey, { ...env, SENTRY_DSN: '' });
    await res.body?.cancel();
    expect(res.status).toBe(500);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('reports a Job DO deadline that gave up, with the job ids', async () => {
    const { tenantId } = await newTenant('member');
    const { id, sandbox } = newJobId();
    const project = newProject();
    // The sandbox cannot be deleted: the cleanup deadline fails until it gives up.
    const faults = await addFaults({
      action: 'fail',
      method: 'DELETE',
      path: '/api/sandbox/:id',
      sandbox,
      status: 500,
    });
    try {
      await startJob(id, tenantId, 'true');
      await waitForStatus(id, tenantId, (s) => s === 'succeeded');
      const stub = env.JOB.getByName(id);
      await runInDurableObject(stub, (instance, state) => {
        // This instance's bindings, with a DSN: the alarm below reports through them.
        Reflect.set(instance, 'env', { ...env, SENTRY_DSN: dsnOf(project) });
        const limit = deadlineAttemptLimit('cleanup') ?? 1;
        new JobStorage(state.storage).setDeadline('cleanup', Date.now(), limit - 1);
      });
      await runDurableObjectAlarm(stub);
      const [envelope = ''] = await envelopesOf(project);
      for (const text of [id, tenantId, 'job deadline', 'cleanup']) {
        expect(envelope).toContain(text);
      }
      expect(envelope).not.toContain(env.DAYTONA_API_KEY);
    } finally {
      await removeFaults(faults);
      const res = await fetch(`${env.DAYTONA_API_URL}/sandbox/${sandbox}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${env.DAYTONA_API_KEY}` },
      });
      await res.body?.cancel();
    }
  });

  it('reports a Durable Object failure with the job ids, scrubbed', async () => {
    const project = newProject();
    const pending: Promise<unknown>[] = [];
    reportError(
      { ...env, SENTRY_DSN: dsnOf(project) },
      new Error(`alarm failed; stream secret ${env.STREAM_TOKEN_SECRET}`),
      { where: 'job alarm', job_id: 'job_abc', tenant_id: 'ten_xyz', sandbox_id: 'sbx_1' },
      (promise) => pending.push(promise),
    );
    await Promise.all(pending);
    const [envelope = ''] = await envelopesOf(project);
    expect(envelope).toContain('alarm failed');
    for (const id of ['job_abc', 'ten_xyz', 'sbx_1', 'job alarm']) expect(envelope).toContain(id);
    expect(envelope).not.toContain(env.STREAM_TOKEN_SECRET);
  });

  it('scrubs keys, JWTs, bearer credentials and token parameters from text', () => {
    const key = `omni_${'a'.repeat(38)}`;
    const scrubbed = scrubText(
      `k=${key} jwt=${TOKEN_LIKE} Authorization: Bearer abc.def /stream?token=xyz&after=3`,
    );
    expect(scrubbed).not.toContain(key);
    expect(scrubbed).not.toContain(TOKEN_LIKE);
    expect(scrubbed).not.toContain('abc.def');
    expect(scrubbed).not.toContain('xyz');
    expect(scrubbed).toContain('after=3');
  });
});
