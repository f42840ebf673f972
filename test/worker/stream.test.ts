/** GET /v1/jobs/{id}/stream: replay after a seq, then live, with no gap and no duplicate. */
import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allEvents, api, createJob, newTenant, waitForEnd } from './helpers.ts';

const eventSchema = z.looseObject({ seq: z.number(), type: z.string(), ts: z.string() });
type Event = z.infer<typeof eventSchema>;

let apiKey: string;
beforeAll(async () => {
  ({ apiKey } = await newTenant());
});

interface Watch {
  events: Event[];
  closed: Promise<number>;
  socket: WebSocket;
}

/** Opens the stream of a job and collects its events until the server closes it. */
async function watch(jobId: string, after = 0): Promise<Watch> {
  const res = await exports.default.fetch(
    new Request(`https://omni.test/v1/jobs/${jobId}/stream?after=${after}`, {
      headers: { upgrade: 'websocket', authorization: `Bearer ${apiKey}` },
    }),
  );
  expect(res.status).toBe(101);
  const socket = res.webSocket;
  if (!socket) throw new Error('no WebSocket in the 101 response');
  const events: Event[] = [];
  const closed = new Promise<number>((resolve) => {
    socket.addEventListener('close', (e) => resolve(e.code));
  });
  socket.addEventListener('message', (e) => {
    events.push(eventSchema.parse(JSON.parse(String(e.data))));
  });
  socket.accept();
  return { events, closed, socket };
}

function expectContiguous(events: Event[], from: number) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => from + i));
}

describe('live stream', () => {
  it('streams every event live to several watchers, then closes with 1000', async () => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: './count.sh 5 0.2',
    });
    const first = await watch(job.id);
    const second = await watch(job.id);
    expect(await first.closed).toBe(1000);
    expect(await second.closed).toBe(1000);

    expectContiguous(first.events, 1);
    expect(second.events).toEqual(first.events);
    expect(
      first.events
        .filter((e) => e.type === 'stdout')
        .map((e) => e.data)
        .join(''),
    ).toBe('step 1\nstep 2\nstep 3\nstep 4\nstep 5\n');
    expect(first.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    // The stream and the events endpoint read the same log.
    expect(first.events).toEqual(await allEvents(apiKey, job.id));
  });

  it('resumes after a seq while the job runs, with no gap and no duplicate', async () => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: './count.sh 6 0.2',
    });
    const full = await watch(job.id);
    // Wait until a few events exist, then join late from the middle of the log.
    await expect.poll(() => full.events.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    const late = await watch(job.id, 3);
    await full.closed;
    await late.closed;
    expectContiguous(late.events, 4);
    expect(late.events).toEqual(full.events.filter((e) => e.seq > 3));
  });

  it('replays a finished job after a seq and closes', async () => {
    const job = await createJob(apiKey, {
      repo: { url: env.FIXTURE_REPO_URL },
      command: 'echo done',
    });
    await waitForEnd(apiKey, job.id);
    const all = await allEvents(apiKey, job.id);
    const replay = await watch(job.id, 2);
    expect(await replay.closed).toBe(1000);
    expect(replay.events).toEqual(all.slice(2));
  });

  it('needs a WebSocket upgrade and a job of the caller', async () => {
    const job = await createJob(apiKey, { repo: { url: env.FIXTURE_REPO_URL }, command: 'true' });
    const plain = await api(`/v1/jobs/${job.id}/stream`, apiKey);
    expect(plain.status).toBe(426);
    const other = await newTenant();
    const res = await exports.default.fetch(
      new Request(`https://omni.test/v1/jobs/${job.id}/stream`, {
        headers: { upgrade: 'websocket', authorization: `Bearer ${other.apiKey}` },
      }),
    );
    expect(res.status).toBe(404);
    await waitForEnd(apiKey, job.id);
  });
});
