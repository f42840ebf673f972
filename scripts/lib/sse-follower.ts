/**
 * A Server-Sent Events client of a job for Node (the SSE tests against `wrangler dev` and
 * `npm run bench:sse`): GET /v1/jobs/{id}/events with `Accept: text/event-stream`, reconnecting
 * with Last-Event-ID as EventSource does until the stream's `end` event or a 204, and checking
 * that every event arrives once, in order (consecutive seqs).
 */
import { z } from 'zod';
import { SseParser, type SseEvent } from './sse-parser.ts';

const eventSchema = z.looseObject({
  seq: z.number(),
  type: z.string(),
  data: z.unknown().optional(),
});

/** What a follower saw over all its connections. */
export interface FollowResult {
  events: number;
  stdoutBytes: number;
  /** Events whose seq was not the previous one plus one (lost or repeated events). */
  seqErrors: number;
  connections: number;
  /** Connections that broke (a network error) instead of ending. */
  dropped: number;
  /** How the last connection ended: an `end` event, a 204, or `revoked`. */
  ended: 'end' | 'no-content' | 'revoked';
  heartbeats: number;
}

/** Options of follow(). */
export interface FollowOptions {
  /** Where to start: the seq after which events are wanted (sent as Last-Event-ID). */
  after?: number;
  /** Called with each job event as it arrives. */
  onEvent?: (event: z.infer<typeof eventSchema>, raw: SseEvent) => void;
  /** Bounds the whole follow. */
  signal?: AbortSignal;
}

/** Follows the events of job `id` until the stream ends. */
export async function follow(
  baseUrl: string,
  apiKey: string,
  id: string,
  options: FollowOptions = {},
): Promise<FollowResult> {
  const result: FollowResult = {
    events: 0,
    stdoutBytes: 0,
    seqErrors: 0,
    connections: 0,
    dropped: 0,
    ended: 'end',
    heartbeats: 0,
  };
  let last = options.after ?? 0;
  for (;;) {
    result.connections += 1;
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      authorization: `Bearer ${apiKey}`,
    };
    if (last > 0) headers['last-event-id'] = String(last);
    const res = await fetch(`${baseUrl}/v1/jobs/${id}/events`, {
      headers,
      signal: options.signal,
    });
    if (res.status === 204) {
      result.ended = 'no-content';
      return result;
    }
    if (res.status !== 200 || !res.body) {
      throw new Error(`GET /v1/jobs/${id}/events answered ${res.status}: ${await res.text()}`);
    }
    const parser = new SseParser();
    const decoder = new TextDecoder();
    let ended: FollowResult['ended'] | null = null;
    try {
      for await (const chunk of res.body) {
        for (const raw of parser.push(decoder.decode(chunk, { stream: true }))) {
          if (raw.event === 'end' || raw.event === 'revoked') {
            ended = raw.event;
            continue;
          }
          const event = eventSchema.parse(JSON.parse(raw.data));
          if (event.seq !== last + 1) result.seqErrors += 1;
          last = event.seq;
          result.events += 1;
          if (event.type === 'stdout' && typeof event.data === 'string')
            result.stdoutBytes += Buffer.byteLength(event.data);
          options.onEvent?.(event, raw);
        }
      }
    } catch (error) {
      // A connection that broke is reconnected like one that ended, as EventSource does.
      if (options.signal?.aborted) throw error;
      result.dropped += 1;
    }
    result.heartbeats += parser.comments.filter((c) => c === 'heartbeat').length;
    if (ended) {
      result.ended = ended;
      return result;
    }
    // The connection reached its lifetime (or dropped): reconnect after `retry:`, as EventSource.
    await new Promise((resolve) => setTimeout(resolve, parser.retry ?? 1000));
  }
}
