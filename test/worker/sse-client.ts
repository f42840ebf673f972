/**
 * A Server-Sent Events client for the workerd tests: parses a text/event-stream body as
 * EventSource does (HTML Living Standard §9.2.6), and follows a job's event stream across
 * reconnections with Last-Event-ID, as EventSource would, until the stream's `end` or a 204.
 */
import { exports } from 'cloudflare:workers';

/** One dispatched event; `id` is the last event id set so far (as `lastEventId` would be). */
export interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/** What one connection carried. */
export interface SseConnection {
  events: SseEvent[];
  comments: string[];
  retry: number | null;
}

/** How a test sends a request to the Worker. */
export type Fetcher = (request: Request) => Promise<Response>;

export const workerFetch: Fetcher = (request) => exports.default.fetch(request);

/** GET `path` asking for an event stream, with Last-Event-ID if `lastEventId` is given. */
export function requestEvents(
  path: string,
  apiKey: string,
  lastEventId?: string,
  fetcher: Fetcher = workerFetch,
): Promise<Response> {
  const headers = new Headers({ accept: 'text/event-stream', authorization: `Bearer ${apiKey}` });
  if (lastEventId !== undefined) headers.set('last-event-id', lastEventId);
  return fetcher(new Request(`https://omni.test${path}`, { headers }));
}

/** A parser fed with chunks of text; `push` returns the events each chunk completes. */
export class SseParser {
  private buffer = '';
  private lastId = '';
  private type = '';
  private data: string[] = [];
  readonly comments: string[] = [];
  retry: number | null = null;

  push(text: string): SseEvent[] {
    this.buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      if (end < 0) break;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + (this.buffer.startsWith('\r\n', end) ? 2 : 1));
      const event = this.line(line);
      if (event) out.push(event);
    }
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      const event =
        this.data.length > 0
          ? { id: this.lastId, event: this.type || 'message', data: this.data.join('\n') }
          : null;
      this.type = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') this.lastId = value;
    else if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

/**
 * Reads an event stream until it closes, or until `stop` says so (then the client goes away).
 * Rejects after `ms` without the stream ending.
 */
export async function readEvents(
  res: Response,
  ms: number,
  stop: (event: SseEvent, all: SseEvent[]) => boolean = () => false,
): Promise<SseConnection> {
  if (!res.body) throw new Error(`no body (HTTP ${res.status})`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const events: SseEvent[] = [];
  const deadline = setTimeout(() => {
    reader.cancel(new Error('timed out')).catch(() => undefined);
  }, ms);
  let timedOut = true;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        timedOut = false;
        break;
      }
      for (const event of parser.push(value)) {
        events.push(event);
        if (stop(event, events)) {
          timedOut = false;
          await reader.cancel();
          return { events, comments: parser.comments, retry: parser.retry };
        }
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  if (timedOut) throw new Error(`the event stream did not end within ${ms} ms`);
  return { events, comments: parser.comments, retry: parser.retry };
}

/** Every event of a job's stream, across as many connections as it takes, and how many. */
export async function followToEnd(
  path: string,
  apiKey: string,
  ms: number,
  fetcher: Fetcher = workerFetch,
): Promise<{ events: SseEvent[]; connections: number; ended: 'end' | 'no-content' }> {
  const events: SseEvent[] = [];
  let lastId: string | undefined;
  for (let connections = 1; ; connections += 1) {
    const res = await requestEvents(path, apiKey, lastId, fetcher);
    if (res.status === 204) return { events, connections, ended: 'no-content' };
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    const got = await readEvents(res, ms);
    events.push(...got.events);
    if (got.events.at(-1)?.event === 'end') return { events, connections, ended: 'end' };
    const last = got.events.filter((e) => e.id !== '').at(-1);
    if (last) lastId = last.id;
  }
}
