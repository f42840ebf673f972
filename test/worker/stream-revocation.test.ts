/**
 * Revoking a key or a membership ends what it opened: the caller's open streams are closed
 * (1008) within the auth cache's lifetime, and its unexpired stream tokens are refused.
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { addKey, api, createJob, newTenant } from './helpers.ts';
import { addMember, asUser, expectProblem, keyIdOf, send } from './identity-helpers.ts';
import { collectUntilClose, nextMessage, openStream, requestStream } from './sockets.ts';

const { tenantId, apiKey: owner } = await newTenant('owner');
const jobs: string[] = [];

afterAll(async () => {
  await Promise.all(jobs.map((id) => api(`/v1/jobs/${id}/cancel`, owner, { method: 'POST' })));
});

/** A job that runs until canceled. */
async function longJob(): Promise<string> {
  const job = await createJob(owner, { repo: { url: env.FIXTURE_REPO_URL }, command: 'sleep 300' });
  jobs.push(job.id);
  return job.id;
}

async function streamToken(res: Response): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return (JSON.parse(text) as { token: string }).token;
}

describe('an API key that is revoked', () => {
  it('has its open stream closed with 1008 and its stream token refused', async () => {
    const id = await longJob();
    const viewer = await addKey(tenantId, 'viewer');
    const ws = await openStream(`/v1/jobs/${id}/stream`, viewer);
    await nextMessage(ws, 20_000);
    const token = await streamToken(await send('POST', `/v1/jobs/${id}/stream-token`, viewer));
    // A second stream, opened with the token, is closed too.
    const byToken = await openStream(`/v1/jobs/${id}/stream?token=${token}`, null);

    expect((await send('DELETE', `/v1/keys/${await keyIdOf(viewer)}`, owner)).status).toBe(204);
    // The Job DO checks its watchers every 10 s (the auth cache's lifetime).
    expect((await collectUntilClose(ws, 25_000)).code).toBe(1008);
    expect((await collectUntilClose(byToken, 25_000)).code).toBe(1008);
    const problem = await expectProblem(
      await requestStream(`/v1/jobs/${id}/stream?token=${token}`, null),
      401,
      'unauthorized',
    );
    expect(problem.detail).toContain('revoked');
  });

  it('leaves the streams of other keys open', async () => {
    const id = await longJob();
    const [kept, revoked] = [await addKey(tenantId, 'viewer'), await addKey(tenantId, 'viewer')];
    const keptWs = await openStream(`/v1/jobs/${id}/stream`, kept);
    const revokedWs = await openStream(`/v1/jobs/${id}/stream`, revoked);
    await nextMessage(keptWs, 20_000);
    await nextMessage(revokedWs, 20_000);
    expect((await send('DELETE', `/v1/keys/${await keyIdOf(revoked)}`, owner)).status).toBe(204);
    expect((await collectUntilClose(revokedWs, 25_000)).code).toBe(1008);
    // Canceled, the job ends and its watcher is closed normally: it was never cut off.
    expect((await api(`/v1/jobs/${id}/cancel`, owner, { method: 'POST' })).status).toBe(200);
    expect((await collectUntilClose(keptWs, 25_000)).code).toBe(1000);
  });
});

describe('a membership that is removed', () => {
  it("closes the member's stream and refuses the member's stream token", async () => {
    const id = await longJob();
    await addMember(tenantId, 'vera', 'viewer');
    const token = await streamToken(
      await asUser(tenantId, 'vera', 'POST', `/v1/jobs/${id}/stream-token`),
    );
    const ws = await openStream(`/v1/jobs/${id}/stream?token=${token}`, null);
    await nextMessage(ws, 20_000);
    expect((await send('DELETE', '/v1/members/vera', owner)).status).toBe(204);
    expect((await collectUntilClose(ws, 25_000)).code).toBe(1008);
    await expectProblem(
      await requestStream(`/v1/jobs/${id}/stream?token=${token}`, null),
      401,
      'unauthorized',
    );
  });
});
