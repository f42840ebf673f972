/**
 * Watching a job: a watcher socket opened on its Job DO, handed to a WebSocket client as is
 * (GET /v1/jobs/{id}/stream) or written out as Server-Sent Events (GET /v1/jobs/{id}/events with
 * `Accept: text/event-stream`). Either way the Job DO replays, paces, follows live, closes at the
 * job's end and on revocation, and counts the watcher against JOB_MAX_WATCHERS.
 */
import { z } from 'zod';
import { ConfigError } from '../config.ts';
import { ApiError } from '../errors.ts';
import { eventStream, type EventStreamTiming } from '../lib/sse.ts';
import { viewerOf } from '../lib/stream-token.ts';
import type { Caller } from '../types.ts';

/** The Job DO stub of a job. */
type JobStub = ReturnType<Env['JOB']['getByName']>;

/**
 * Opens a watcher of the events after `after` on `job`, as `caller`; `headers` carry the
 * WebSocket upgrade. Answers the Job DO's 101 (its `webSocket` is the client end), or null if
 * the object holds no job of the caller's tenant.
 * @throws ApiError 429 beyond JOB_MAX_WATCHERS, ConfigError if that setting is invalid.
 */
export async function openWatcher(
  job: JobStub,
  caller: Caller,
  after: number,
  headers: HeadersInit,
): Promise<Response | null> {
  const url = new URL('https://job.internal/stream');
  url.searchParams.set('after', String(after));
  url.searchParams.set('tenant', caller.tenantId);
  // The socket remembers who opened it, so that the Job DO can close it once that key or
  // membership is revoked (durable-objects/job/sockets.ts).
  const viewer = viewerOf(caller);
  url.searchParams.set('actor', viewer.actor);
  url.searchParams.set('grant', viewer.grant);
  const response = await job.fetch(url, { headers });
  if (response.status === 404) return null;
  if (response.status === 429)
    throw new ApiError('too_many_requests', 'This job has too many watchers; try again later.');
  // The Job DO reads JOB_MAX_WATCHERS; a bad value is a setting to fix (503), as anywhere else.
  if (response.status === 503) throw new ConfigError(await response.text());
  return response;
}

const timingSchema = z.object({
  EVENT_STREAM_MAX_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
});

/**
 * How long one event stream connection lasts (`EVENT_STREAM_MAX_SECONDS`, default 300), with a
 * heartbeat every 15 s, a reconnection delay of 1 s, and 1 MiB unread at most.
 * @throws ConfigError if the setting is invalid.
 */
export function eventStreamTiming(env: object): EventStreamTiming {
  const parsed = timingSchema.safeParse(env);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? '';
    throw new ConfigError(`The setting EVENT_STREAM_MAX_SECONDS is invalid: ${message}`);
  }
  return {
    lifetimeMs: parsed.data.EVENT_STREAM_MAX_SECONDS * 1000,
    heartbeatMs: 15_000,
    retryMs: 1_000,
    maxQueuedBytes: 1024 * 1024,
  };
}

/** Whether an Accept header asks for Server-Sent Events (as EventSource sends it). */
export function wantsEventStream(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((range) => {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const refused = params.some((p) => /^q=0(\.0*)?$/.test(p));
    return type === 'text/event-stream' && !refused;
  });
}

/**
 * Where an event stream starts: after `Last-Event-ID` when the client sends one (a reconnection:
 * it names the last event received, and wins over the `after` of the URL it reconnects to),
 * otherwise after `after`.
 * @throws ApiError 400 if Last-Event-ID is not a seq.
 */
export function resumeAfter(lastEventId: string | undefined, after: number): number {
  if (lastEventId === undefined || lastEventId.trim() === '') return after;
  if (!/^\d{1,15}$/.test(lastEventId.trim())) {
    throw new ApiError('invalid_request', 'Last-Event-ID must be the id (seq) of an event.', [
      { path: 'Last-Event-ID', message: 'is not a seq' },
    ]);
  }
  return Number(lastEventId.trim());
}

/**
 * The Server-Sent Events answer of a job, from `after` on: 204 when the job has ended and every
 * event after `after` was sent (EventSource then stops reconnecting), null if there is no such
 * job of the caller's tenant.
 */
export async function openEventStream(
  env: Env,
  job: JobStub,
  caller: Caller,
  after: number,
): Promise<Response | null> {
  const timing = eventStreamTiming(env);
  // One event is enough to tell "nothing more will come" from "follow".
  const page = await job.listEvents(caller.tenantId, after, 1);
  if (!page) return null;
  if (page.next_after === null && page.data.length === 0)
    return new Response(null, { status: 204 });
  const upgrade = await openWatcher(job, caller, after, { Upgrade: 'websocket' });
  if (!upgrade) return null;
  const socket = upgrade.webSocket;
  if (!socket) throw new Error(`The Job DO answered ${upgrade.status} without a socket.`);
  return new Response(eventStream(socket, timing), {
    headers: {
      'Content-Type': 'text/event-stream; charset=utf-8',
      // Proxies that buffer answers (nginx) pass this one through as it is written.
      'X-Accel-Buffering': 'no',
    },
  });
}
