/**
 * A Server-Sent Events client for the workerd tests: parses a text/event-stream body as
 * EventSource does (HTML Living Standard §9.2.6), and follows a job's event stream across
 * reconnections with Last-Event-ID, as EventSource would, until the stream's `end` or a 204.
 */
import { exports } from 'cloudflare:workers';
import { SseParser, type SseEvent } from '../../scripts/lib/sse-parser.ts';

export { SseParser, type SseEvent };

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
