/** POST /v1/jobs/{id}/cancel, and stream tokens for clients that cannot send headers. */
import { env } from 'cloudflare:workers';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobSchema, StreamTokenSchema } from '../../worker/schemas/jobs.ts';
import {
  addKey,
  allEvents,
  api,
  createJob,
  newTenant,
  sandboxesOf,
  waitForEnd,
} from './helpers.ts';
import { collectUntilClose, openStream, requestStream } from './sockets.ts';

const eventSchema = z.looseObject({ seq: z.number(), type: z.string() });

const longJob = () => ({ repo: { url: env.FIXTURE_REPO_URL }, command: 'echo started; sleep 60' });

describe('cancel', () => {
  it('ends a running job as canceled, records who did it, and deletes its sandbox', async () => {
    const { apiKey } = await newTenant();
    const job = await createJob(apiKey, longJob());
    await expect
      .poll(async () => (await allEvents(apiKey, job.id)).some((e) => e.type === 'stdout'), {
        timeout: 20_000,
      })
      .toBe(true);
    const res = await api(`/v1/jobs/${job.id}/cancel`, apiKey, { method: 'POST' });
    expect(res.status).toBe(200);
    const canceled = JobSchema.parse(await res.json());
    expect(canceled.status).toBe('canceled');
    expect(canceled.error?.code).toBe('canceled');
    expect(canceled.error?.message).toMatch(/^Canceled by key:/);
    expect((await waitForEnd(apiKey, job.id)).status).toBe('canceled');
    await expect.poll(() => sandboxesOf(job.id), { timeout: 20_000 }).toEqual([]);
    const audit = await env.DB.prepare(
      "SELECT actor, action FROM audit_log WHERE target = ? AND action = 'job.cancel'",
    )
      .bind(job.id)
      .all();
    expect(audit.results).toHaveLength(1);
  });

  it('answers 409 for a job that already ended, 403 for a viewer, 404 for another tenant', async () => {
    const { apiKey, tenantId } = await newTenant();
    const job = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    await waitForEnd(apiKey, job.id);
    const ended = await api(`/v1/jobs/${job.id}/cancel`, apiKey, { method: 'POST' });
    expect(ended.status).toBe(409);

    const running = await createJob(apiKey, longJob());
    const viewer = await addKey(tenantId, 'viewer');
    expect((await api(`/v1/jobs/${running.id}/cancel`, viewer, { method: 'POST' })).status).toBe(
      403,
    );
    const other = await newTenant();
    expect(
      (await api(`/v1/jobs/${running.id}/cancel`, other.apiKey, { method: 'POST' })).status,
    ).toBe(404);
    expect((await api(`/v1/jobs/${running.id}/cancel`, apiKey, { method: 'POST' })).status).toBe(
      200,
    );
  });
});

describe('stream tokens', () => {
  it('lets a client without headers watch the one job the token is for', async () => {
    const { apiKey, tenantId } = await newTenant();
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'echo hi',
    });
    const other = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    // Any role may watch: a viewer gets a token too.
    const viewer = await addKey(tenantId, 'viewer');
    const res = await api(`/v1/jobs/${job.id}/stream-token`, viewer, { method: 'POST' });
    expect(res.status).toBe(201);
    const { token, url } = StreamTokenSchema.parse(await res.json());

    const watched = await collectUntilClose(await openStream(url, null), 30_000);
    expect(watched.code).toBe(1000);
    const events = watched.messages.map((m) => eventSchema.parse(JSON.parse(m)));
    expect(events.filter((e) => e.type === 'stdout').map((e) => e.data)).toEqual(['hi\n']);
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    const refused = [
      await requestStream(`/v1/jobs/${other.id}/stream?token=${token}`, null),
      await requestStream(`/v1/jobs/${job.id}/stream?token=${apiKey}`, null),
    ];
    expect(refused.map((r) => r.status)).toEqual([401, 401]);
    const listWithToken = await api(`/v1/jobs?token=${token}`, null);
    expect(listWithToken.status).toBe(401);
    await waitForEnd(apiKey, other.id);
  });

  it('refuses an expired token and a token signed with another secret', async () => {
    const { apiKey } = await newTenant();
    const job = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    const sign = (secret: string, exp: number) =>
      new SignJWT({ tid: 'x', job: job.id })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('omni')
        .setAudience('omni-stream')
        .setSubject('key:x')
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(secret));
    const now = Math.floor(Date.now() / 1000);
    const expired = await requestStream(
      `/v1/jobs/${job.id}/stream?token=${await sign(env.STREAM_TOKEN_SECRET, now - 10)}`,
      null,
    );
    expect(expired.status).toBe(401);
    expect(await expired.text()).toContain('expired');
    const forged = await requestStream(
      `/v1/jobs/${job.id}/stream?token=${await sign('another-secret-another-secret-xx', now + 60)}`,
      null,
    );
    expect(forged.status).toBe(401);
  });
});
