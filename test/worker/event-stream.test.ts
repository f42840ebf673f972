/**
 * GET /v1/jobs/{id}/events with Accept: text/event-stream: the job's events as Server-Sent
 * Events, resumed with Last-Event-ID without a gap or a duplicate, ending with `end` once the
 * job has ended; each connection lasts a bounded time.
 */
import { createExecutionContext, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../worker/app.ts';
import { addKey, allEvents, api, createJob, newTenant, waitForEnd } from './helpers.ts';
import { keyIdOf } from './identity-helpers.ts';
import {
  followToEnd,
  readEvents,
  requestEvents,
  type Fetcher,
  type SseEvent,
} from './sse-client.ts';

/** How long one wait on a stream may take: well under the test timeout. */
const WAIT_MS = 30_000;

const eventSchema = z.looseObject({ seq: z.number(), type: z.string(), ts: z.string() });

let apiKey: string;
let tenantId: string;
beforeAll(async () => {
  ({ apiKey, tenantId } = await newTenant());
});

/** The job events among SSE events (not `end`), checked against their own JSON. */
function jobEvents(events: SseEvent[]): Array<z.infer<typeof eventSchema>> {
  return events
    .filter((e) => e.event !== 'end')
    .map((e) => {
      const parsed = eventSchema.parse(JSON.parse(e.data));
      expect(e.id).toBe(String(parsed.seq));
      expect(e.event).toBe(parsed.type);
      return parsed;
    });
}

const seqs = (events: SseEvent[]) => jobEvents(events).map((e) => e.seq);
const from = (first: number, count: number) => Array.from({ length: count }, (_, i) => first + i);

describe('Server-Sent Events of a job', () => {
  it('streams a running job live, with its status and output, and ends with `end`', async () => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: './count.sh 5 0.2',
    });
    const res = await requestEvents(`/v1/jobs/${job.id}/events`, apiKey);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const got = await readEvents(res, WAIT_MS);
    expect(got.retry).toBe(1000);
    expect(got.events.at(-1)).toMatchObject({ event: 'end', data: '{}' });
    const events = jobEvents(got.events);
    expect(events.map((e) => e.seq)).toEqual(from(1, events.length));
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    const stdout = events.flatMap((e) => (e.type === 'stdout' ? [String(e.data)] : [])).join('');
    expect(stdout).toBe('step 1\nstep 2\nstep 3\nstep 4\nstep 5\n');
    // The same events as the pages of the log.
    expect(events).toEqual(await allEvents(apiKey, job.id));
  });

  it('resumes after Last-Event-ID without a gap or a duplicate while the job runs', async () => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: './count.sh 6 0.3',
    });
    const path = `/v1/jobs/${job.id}/events`;
    // The client goes away after a few events, then reconnects from the last one it got.
    const head = await readEvents(
      await requestEvents(path, apiKey),
      WAIT_MS,
      (_, all) => all.length >= 3,
    );
    const last = head.events.at(-1)?.id ?? '';
    expect(last).toBe('3');
    // Last-Event-ID wins over the `after` of the URL, as when EventSource reconnects.
    const rest = await readEvents(await requestEvents(`${path}?after=0`, apiKey, last), WAIT_MS);
    expect(rest.events.at(-1)?.event).toBe('end');
    const all = [...seqs(head.events), ...seqs(rest.events)];
    expect(all).toEqual(from(1, all.length));
    expect(jobEvents([...head.events, ...rest.events])).toEqual(await allEvents(apiKey, job.id));
  });

  it('ends each connection after EVENT_STREAM_MAX_SECONDS; reconnecting loses nothing', async () => {
    // An app of its own with connections of 1 s, so that a job of a few seconds needs several.
    const app = createApp();
    const shortLived: Fetcher = async (request) =>
      app.fetch(request, { ...env, EVENT_STREAM_MAX_SECONDS: '1' }, createExecutionContext());
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: './count.sh 8 0.4',
    });
    const { events, connections, ended } = await followToEnd(
      `/v1/jobs/${job.id}/events`,
      apiKey,
      WAIT_MS,
      shortLived,
    );
    expect(ended).toBe('end');
    expect(connections).toBeGreaterThan(1);
    const got = jobEvents(events);
    expect(got.map((e) => e.seq)).toEqual(from(1, got.length));
    expect(got).toEqual(await allEvents(apiKey, job.id));
  });

  it('replays an ended job, then answers 204 once everything was sent', async () => {
    const job = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    await waitForEnd(apiKey, job.id);
    const path = `/v1/jobs/${job.id}/events`;
    const replay = await readEvents(await requestEvents(path, apiKey), WAIT_MS);
    const events = jobEvents(replay.events);
    expect(replay.events.at(-1)?.event).toBe('end');
    expect(events).toEqual(await allEvents(apiKey, job.id));
    const lastSeq = String(events.at(-1)?.seq);
    // EventSource reconnects when a stream closes; a 204 makes it stop.
    const again = await requestEvents(path, apiKey, lastSeq);
    expect(again.status).toBe(204);
    expect(await again.text()).toBe('');
    // From the middle, the rest.
    const tail = await readEvents(await requestEvents(path, apiKey, '2'), WAIT_MS);
    expect(seqs(tail.events)).toEqual(events.slice(2).map((e) => e.seq));
  });

  it('releases its watcher on the Job DO once the client goes away', async () => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'echo started; sleep 120',
    });
    const watchers = () =>
      runInDurableObject(
        env.JOB.getByName(job.id),
        (_instance, state) => state.getWebSockets().length,
      );
    const res = await requestEvents(`/v1/jobs/${job.id}/events`, apiKey);
    expect(await watchers()).toBe(1);
    await readEvents(res, WAIT_MS, (event) => event.event === 'stdout');
    // readEvents cancelled the body: the bridge closes its socket, and the object lets it go.
    await expect.poll(watchers, { timeout: WAIT_MS }).toBe(0);
    await (await api(`/v1/jobs/${job.id}/cancel`, apiKey, { method: 'POST' })).body?.cancel();
  });

  it('ends with `revoked` once the key that opened it is revoked; reconnecting is 401', async () => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'echo started; sleep 120',
    });
    const viewer = await addKey(tenantId, 'viewer');
    const path = `/v1/jobs/${job.id}/events`;
    const res = await requestEvents(path, viewer);
    expect(res.status).toBe(200);
    const revoke = await api(`/v1/keys/${await keyIdOf(viewer)}`, apiKey, { method: 'DELETE' });
    expect(revoke.status).toBe(204);
    // The Job DO checks its watchers every 10 s (the auth cache's lifetime).
    const got = await readEvents(res, WAIT_MS);
    expect(got.events.at(-1)?.event).toBe('revoked');
    const again = await requestEvents(path, viewer, got.events.at(-1)?.id);
    expect(again.status).toBe(401);
    await again.body?.cancel();
    await (await api(`/v1/jobs/${job.id}/cancel`, apiKey, { method: 'POST' })).body?.cancel();
  });

  it('is refused like the other job routes, and JSON pages are unchanged', async () => {
    const job = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    const path = `/v1/jobs/${job.id}/events`;
    const other = await newTenant();
    const foreign = await requestEvents(path, other.apiKey);
    expect(foreign.status).toBe(404);
    await foreign.body?.cancel();
    const anonymous = await api(path, null, { headers: { accept: 'text/event-stream' } });
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
    const bad = await requestEvents(path, apiKey, 'abc');
    expect(bad.status).toBe(400);
    await bad.body?.cancel();
    const page = await api(`${path}?after=0`, apiKey);
    expect(page.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await page.json()).toMatchObject({ data: expect.arrayContaining([]) });
  });
});
