/** GET /v1/jobs/{id}/stream: replay after a seq, then live, with no gap and no duplicate. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allEvents, api, createJob, newTenant, waitForEnd } from './helpers.ts';
import { collectUntilClose, nextMessage, openStream, requestStream } from './sockets.ts';

const eventSchema = z.looseObject({ seq: z.number(), type: z.string(), ts: z.string() });
type Event = z.infer<typeof eventSchema>;
const parse = (messages: string[]): Event[] =>
  messages.map((m) => eventSchema.parse(JSON.parse(m)));

/** How long one wait on a stream may take: well under the test timeout. */
const WAIT_MS = 30_000;

let apiKey: string;
beforeAll(async () => {
  ({ apiKey } = await newTenant());
});

/** Opens the stream of a job, replaying the events after `after`. */
const watch = (jobId: string, after = 0) =>
  openStream(`/v1/jobs/${jobId}/stream?after=${after}`, apiKey);

function expectContiguous(events: Event[], from: number) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => from + i));
}

const stdoutOf = (events: Event[]) =>
  events
    .filter((e) => e.type === 'stdout')
    .map((e) => e.data)
    .join('');

describe('live stream', () => {
  it('streams every event live to several watchers, then closes with 1000', async () => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: './count.sh 5 0.2',
    });
    const first = await watch(job.id);
    const second = await watch(job.id);
    const [a, b] = await Promise.all([
      collectUntilClose(first, WAIT_MS),
      collectUntilClose(second, WAIT_MS),
    ]);
    expect(a.code).toBe(1000);
    expect(b.code).toBe(1000);

    const events = parse(a.messages);
    expectContiguous(events, 1);
    expect(parse(b.messages)).toEqual(events);
    expect(stdoutOf(events)).toBe('step 1\nstep 2\nstep 3\nstep 4\nstep 5\n');
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    // The stream and the events endpoint read the same log.
    expect(events).toEqual(await allEvents(apiKey, job.id));
  });

  it('resumes after a seq while the job runs, with no gap and no duplicate', async () => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: './count.sh 6 0.2',
    });
    const full = await watch(job.id);
    // Wait until a few events exist, then join late from the middle of the log.
    const head: string[] = [];
    while (head.length < 4) head.push(await nextMessage(full, WAIT_MS));
    const late = await watch(job.id, 3);
    const [rest, lateEnd] = await Promise.all([
      collectUntilClose(full, WAIT_MS),
      collectUntilClose(late, WAIT_MS),
    ]);
    expect(rest.code).toBe(1000);
    expect(lateEnd.code).toBe(1000);
    const fullEvents = parse([...head, ...rest.messages]);
    const lateEvents = parse(lateEnd.messages);
    expectContiguous(fullEvents, 1);
    expectContiguous(lateEvents, 4);
    expect(lateEvents).toEqual(fullEvents.filter((e) => e.seq > 3));
  });

  it('replays a finished job after a seq and closes', async () => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'echo done',
    });
    await waitForEnd(apiKey, job.id);
    const all = await allEvents(apiKey, job.id);
    const replay = await collectUntilClose(await watch(job.id, 2), WAIT_MS);
    expect(replay.code).toBe(1000);
    expect(parse(replay.messages)).toEqual(all.slice(2));
  });

  it('needs a WebSocket upgrade and a job of the caller', async () => {
    const job = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    const plain = await api(`/v1/jobs/${job.id}/stream`, apiKey);
    expect(plain.status).toBe(426);
    const other = await newTenant();
    const res = await requestStream(`/v1/jobs/${job.id}/stream`, other.apiKey);
    expect(res.status).toBe(404);
    await waitForEnd(apiKey, job.id);
  });
});
