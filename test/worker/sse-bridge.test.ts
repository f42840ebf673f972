/** worker/lib/sse.ts: a watcher socket written out as Server-Sent Events; and how a request asks for them. */
import { describe, expect, it } from 'vitest';
import { eventStream, frameOf, type EventStreamTiming } from '../../worker/lib/sse.ts';
import { resumeAfter, wantsEventStream } from '../../worker/services/job-watch.ts';
import { SseParser } from './sse-client.ts';

const timing: EventStreamTiming = {
  lifetimeMs: 60_000,
  heartbeatMs: 60_000,
  retryMs: 1000,
  maxQueuedBytes: 1024 * 1024,
};

/** A socket pair: events sent on `job` reach the stream built on the other end. */
function bridge(options: Partial<EventStreamTiming> = {}) {
  const pair = new WebSocketPair();
  const [client, job] = [pair[0], pair[1]];
  job.accept();
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    job.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason })),
  );
  const body = eventStream(client, { ...timing, ...options });
  return { job, body, closed };
}

/** Reads `body` until it ends, or until `until` holds for what was parsed so far. */
async function read(body: ReadableStream<Uint8Array>, until?: (parser: SseParser) => boolean) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const events = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    events.push(...parser.push(value));
    if (until?.(parser)) {
      reader.releaseLock();
      break;
    }
  }
  return { events, parser };
}

const event = (seq: number, type = 'stdout') =>
  JSON.stringify({ data: `line ${seq}\n`, seq, type, ts: new Date(0).toISOString() });

describe('frameOf', () => {
  it('writes id, event and the JSON as one data line', () => {
    expect(frameOf(event(7))).toBe(`id: 7\nevent: stdout\ndata: ${event(7)}\n\n`);
  });

  it('reads seq and type from the end of the JSON, or from the whole of another shape', () => {
    const agent = JSON.stringify({
      agent: { kind: 'text', text: '"seq":9' },
      seq: 3,
      type: 'agent',
      ts: 'x',
    });
    expect(frameOf(agent)).toBe(`id: 3\nevent: agent\ndata: ${agent}\n\n`);
    const reordered = JSON.stringify({ type: 'status', seq: 2, status: 'running' });
    expect(frameOf(reordered)).toBe(`id: 2\nevent: status\ndata: ${reordered}\n\n`);
  });

  it('skips what is not an event', () => {
    expect(frameOf('pong')).toBeNull();
    expect(frameOf('{"seq":0,"type":"status"}')).toBeNull();
    expect(frameOf('{"seq":1,"type":"a\\nb"}')).toBeNull();
  });
});

describe('eventStream', () => {
  it('sends retry first, each event, then `end` when the socket closes with 1000', async () => {
    const { job, body, closed } = bridge();
    job.send(event(1));
    job.send('not json');
    job.send(event(2, 'stderr'));
    job.close(1000, 'job finished');
    const { events, parser } = await read(body);
    expect(parser.retry).toBe(1000);
    expect(events).toEqual([
      { id: '1', event: 'stdout', data: event(1) },
      { id: '2', event: 'stderr', data: event(2, 'stderr') },
      { id: '2', event: 'end', data: '{}' },
    ]);
    expect((await closed).code).toBe(1000);
  });

  it('says `revoked` when the Job DO closes for revoked credentials (1008)', async () => {
    const { job, body } = bridge();
    job.send(event(1));
    job.close(1008, 'credentials revoked');
    const { events } = await read(body);
    expect(events.map((e) => e.event)).toEqual(['stdout', 'revoked']);
  });

  it('ends without `end` when the socket drops, so that the client reconnects', async () => {
    const { job, body } = bridge();
    job.send(event(1));
    job.close(1011, 'socket error');
    const { events } = await read(body);
    expect(events.map((e) => e.event)).toEqual(['stdout']);
  });

  it('writes heartbeat comments while nothing happens', async () => {
    const { job, body } = bridge({ heartbeatMs: 20 });
    const { parser } = await read(
      body,
      (p) => p.comments.filter((c) => c === 'heartbeat').length >= 2,
    );
    expect(parser.comments.filter((c) => c === 'heartbeat').length).toBeGreaterThanOrEqual(2);
    job.close(1000, 'done');
  });

  it('closes the socket and the stream at the end of its lifetime', async () => {
    const { job, body, closed } = bridge({ lifetimeMs: 50 });
    job.send(event(1));
    const { events } = await read(body);
    expect(events.map((e) => e.event)).toEqual(['stdout']);
    expect(await closed).toEqual({ code: 1000, reason: 'event stream closed' });
  });

  it('drops a client that does not read once more than maxQueuedBytes wait', async () => {
    const { job, body, closed } = bridge({ maxQueuedBytes: 1000 });
    // Nobody reads yet: the third event pushes the queue over 1000 bytes.
    const big = (seq: number) =>
      JSON.stringify({ data: 'x'.repeat(400), seq, type: 'stdout', ts: '' });
    for (const seq of [1, 2, 3, 4, 5]) job.send(big(seq));
    expect(await closed).toEqual({ code: 1000, reason: 'event stream closed' });
    const { events } = await read(body);
    // What was queued is still delivered; the rest is for the reconnection.
    expect(events.map((e) => e.id)).toEqual(['1', '2', '3']);
  });
});

describe('negotiation', () => {
  it('asks for an event stream when Accept lists text/event-stream with a q above 0', () => {
    expect(wantsEventStream('text/event-stream')).toBe(true);
    expect(wantsEventStream('application/json, Text/Event-Stream;q=0.5')).toBe(true);
    expect(wantsEventStream('text/event-stream;q=0')).toBe(false);
    expect(wantsEventStream('application/json')).toBe(false);
    expect(wantsEventStream('*/*')).toBe(false);
    expect(wantsEventStream(undefined)).toBe(false);
  });

  it('resumes after Last-Event-ID when sent, else after `after`; refuses one that is not a seq', () => {
    expect(resumeAfter(undefined, 7)).toBe(7);
    expect(resumeAfter('', 7)).toBe(7);
    expect(resumeAfter('12', 0)).toBe(12);
    expect(resumeAfter(' 3 ', 9)).toBe(3);
    expect(() => resumeAfter('-1', 0)).toThrow(/Last-Event-ID/);
    expect(() => resumeAfter('1e3', 0)).toThrow(/Last-Event-ID/);
  });
});
