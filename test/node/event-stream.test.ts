/**
 * Server-Sent Events of a job through a real `wrangler dev` (real HTTP streaming, not a test
 * harness): a line printed while the job still runs arrives before the job goes on, a client
 * that drops and comes back with Last-Event-ID gets the rest without a gap or a duplicate, the
 * stream ends with `end`, and a reconnection after that is answered 204. The job waits on a file
 * the test creates (a gate), so "while it runs" needs no timing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startDevStack, type DevStack } from '../../scripts/lib/dev-stack.ts';
import { createSampleRepo, type SampleRepo } from '../../scripts/lib/sample-repo.ts';
import { SseParser, type SseEvent } from '../../scripts/lib/sse-parser.ts';

let dir: string;
let repo: SampleRepo;
let stack: DevStack;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'omni-sse-'));
  repo = await createSampleRepo(dir);
  stack = await startDevStack({ port: 0, persistTo: join(dir, 'wrangler') });
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

const eventSchema = z.looseObject({
  seq: z.number(),
  type: z.string(),
  data: z.unknown().optional(),
});
const pageSchema = z.object({ data: z.array(eventSchema), next_after: z.number().nullable() });

function call(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${stack.apiKey}`);
  return fetch(`${stack.url}${path}`, { ...init, headers });
}

/** An open event stream: its events as they are parsed, read one at a time. */
async function openEvents(path: string, lastEventId?: string, signal?: AbortSignal) {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  const res = await call(path, { headers, signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  if (!res.body) throw new Error('no body');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const queue: SseEvent[] = [];
  return {
    /** The next event, or null once the stream has closed. */
    async next(): Promise<SseEvent | null> {
      while (queue.length === 0) {
        const { done, value } = await reader.read();
        if (done) return null;
        queue.push(...parser.push(value));
      }
      return queue.shift() ?? null;
    },
    close: () => reader.cancel(),
  };
}

async function allEvents(id: string): Promise<Array<z.infer<typeof eventSchema>>> {
  const events: Array<z.infer<typeof eventSchema>> = [];
  let after = 0;
  for (;;) {
    const page = pageSchema.parse(
      await (await call(`/v1/jobs/${id}/events?after=${after}`)).json(),
    );
    events.push(...page.data);
    if (page.next_after === null || page.data.length === 0) return events;
    after = page.next_after;
  }
}

describe('Server-Sent Events through wrangler dev', () => {
  it('streams live, resumes after Last-Event-ID without a gap, ends, then answers 204', async () => {
    const gate = join(dir, 'gate');
    const created = await call('/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        repo: { url: repo.url },
        command: `echo before; while [ ! -e '${gate}' ]; do sleep 0.05; done; echo after`,
      }),
    });
    expect(created.status).toBe(201);
    const { id } = z.object({ id: z.string() }).parse(await created.json());
    const path = `/v1/jobs/${id}/events`;

    // Read until "before": the job now waits on the gate, so this arrived while it runs.
    const first = await openEvents(path);
    const seen: SseEvent[] = [];
    for (;;) {
      const event = await first.next();
      if (!event) throw new Error('the stream closed before the job printed');
      seen.push(event);
      if (event.event === 'stdout' && event.data.includes('before')) break;
    }
    const job = z.object({ status: z.string() }).parse(await (await call(`/v1/jobs/${id}`)).json());
    expect(job.status).toBe('running');
    // The client goes away, and comes back from the last event it got.
    await first.close();
    const lastId = seen.at(-1)?.id ?? '';
    const second = await openEvents(path, lastId);
    await writeFile(gate, '');
    for (;;) {
      const event = await second.next();
      if (!event) break;
      seen.push(event);
    }
    expect(seen.at(-1)?.event).toBe('end');
    const events = seen
      .filter((e) => e.event !== 'end')
      .map((e) => eventSchema.parse(JSON.parse(e.data)));
    expect(seen.filter((e) => e.event !== 'end').map((e) => e.id)).toEqual(
      events.map((e) => String(e.seq)),
    );
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.flatMap((e) => (e.type === 'stdout' ? [e.data] : [])).join('')).toBe(
      'before\nafter\n',
    );
    expect(events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    expect(events).toEqual(await allEvents(id));

    const again = await call(path, {
      headers: { accept: 'text/event-stream', 'last-event-id': String(events.at(-1)?.seq) },
    });
    expect(again.status).toBe(204);
  });
});
