/**
 * A job's events as Server-Sent Events (HTML Living Standard §9.2), written from a watcher
 * socket of its Job DO: the same watcher GET /v1/jobs/{id}/stream gets (replay after a seq, then
 * live, paced by the object's send budget, closed when the job has ended or the opener's
 * credentials were revoked). Each socket message, one JSON event, becomes one SSE event:
 * `id:` its seq, `event:` its type, `data:` the JSON as the socket carried it (JSON text has no
 * line breaks, so it is always one `data:` line).
 *
 * A connection lasts at most `lifetimeMs`, so that no Worker request is held forever; it then
 * closes without an `end` event and the client reconnects with `Last-Event-ID` after `retry:`.
 * A comment is written every `heartbeatMs`, so that proxies do not drop a quiet stream. A client
 * that stops reading is dropped once `maxQueuedBytes` wait for it: what it missed is replayed
 * from the log when it reconnects, so nothing is lost and the Worker's memory stays bounded.
 */
import { z } from 'zod';
import { REVOKED_CLOSE } from '../../durable-objects/job/sockets.ts';
import { errorFields, log } from './log.ts';

/** How long a connection, its heartbeat and the client's reconnection delay last. */
export interface EventStreamTiming {
  lifetimeMs: number;
  heartbeatMs: number;
  retryMs: number;
  /** Unread bytes past which a client that does not read is dropped. */
  maxQueuedBytes: number;
}

/** What a socket message must have to become an SSE event. */
const eventHead = z.looseObject({ seq: z.number().int().positive(), type: z.string().min(1) });

/**
 * The end of an event as the Job DO writes it (`{ ...body, seq, type, ts }`, storage.ts): read
 * from the last bytes, so that an event of 16 KiB of output is not parsed just for its seq.
 */
const EVENT_TAIL = /"seq":(\d{1,15}),"type":"([a-z_]{1,32})","ts":"[^"\\]*"\}$/;

/** The SSE frame of one socket message, or null if the message is not an event. */
export function frameOf(message: string): string | null {
  const tail = EVENT_TAIL.exec(message.slice(-128));
  if (tail && Number(tail[1]) > 0) return `id: ${tail[1]}\nevent: ${tail[2]}\ndata: ${message}\n\n`;
  // Some other shape: parse it whole.
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return null;
  }
  const head = eventHead.safeParse(parsed);
  if (!head.success || /[\r\n]/.test(head.data.type)) return null;
  return `id: ${head.data.seq}\nevent: ${head.data.type}\ndata: ${message}\n\n`;
}

/**
 * The SSE body that follows `socket` (accepted here) until the job's last event (then an `end`
 * event), a revocation (then a `revoked` event), a dropped socket, the connection's lifetime,
 * or the client going away; the socket is closed whichever comes first.
 */
export function eventStream(socket: WebSocket, timing: EventStreamTiming): ReadableStream {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let finished = false;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let lifetime: ReturnType<typeof setTimeout> | undefined;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;

  const closeSocket = () => {
    try {
      socket.close(1000, 'event stream closed');
    } catch {
      // Already closed.
    }
  };
  /** Ends the body (after `last`, if given) and the socket. */
  const finish = (last?: string) => {
    if (finished) return;
    finished = true;
    clearInterval(heartbeat);
    clearTimeout(lifetime);
    closeSocket();
    try {
      if (last !== undefined) controller?.enqueue(encoder.encode(last));
      controller?.close();
    } catch {
      // The client has gone: nothing to end.
    }
  };
  const push = (text: string) => {
    if (finished || !controller) return;
    controller.enqueue(encoder.encode(text));
    // More than maxQueuedBytes unread: the client does not keep up. It reconnects and resumes.
    if ((controller.desiredSize ?? 0) < 0) finish();
  };

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        push(`retry: ${timing.retryMs}\n: events of the job follow\n\n`);
        socket.addEventListener('message', (event) => {
          const text = typeof event.data === 'string' ? event.data : decoder.decode(event.data);
          const frame = frameOf(text);
          if (frame === null) {
            log('warn', 'a watcher message is not an event; skipped', { bytes: text.length });
            return;
          }
          push(frame);
        });
        socket.addEventListener('close', (event) => {
          if (event.code === 1000) finish('event: end\ndata: {}\n\n');
          else if (event.code === REVOKED_CLOSE.code)
            finish(`event: revoked\ndata: ${JSON.stringify({ reason: REVOKED_CLOSE.reason })}\n\n`);
          else finish();
        });
        socket.addEventListener('error', (event) => {
          log('warn', 'the watcher socket of an event stream failed', errorFields(event.error));
          finish();
        });
        heartbeat = setInterval(() => push(': heartbeat\n\n'), timing.heartbeatMs);
        lifetime = setTimeout(() => finish(), timing.lifetimeMs);
        socket.accept();
      },
      cancel() {
        // The client went away.
        finish();
      },
    },
    { highWaterMark: timing.maxQueuedBytes, size: (chunk) => chunk.byteLength },
  );
}
