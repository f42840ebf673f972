/**
 * Follows a job's events over its WebSocket (`GET /v1/jobs/{id}/stream?token=…&after=…`) until
 * its final status arrives. Each connection uses a fresh stream token (they last a minute), so
 * the API key never travels in a URL. A dropped connection is opened again with `after` set to
 * the last seq received, with backoff: the server replays from there, so nothing is lost, and
 * events at or below that seq are skipped, so nothing repeats.
 */
import { z } from 'zod';

/** One event of the job log, as the stream sends it (docs/jobs.md, README). */
const eventSchema = z.looseObject({
  seq: z.number().int(),
  type: z.string(),
  ts: z.string(),
  status: z.string().optional(),
  error: z.looseObject({ code: z.string(), message: z.string() }).nullish(),
  data: z.string().optional(),
  exit_code: z.number().int().nullish(),
  limit_bytes: z.number().optional(),
  cost: z.looseObject({ total_usd: z.number() }).optional(),
  agent: z.looseObject({ kind: z.string() }).optional(),
});

export type JobEvent = z.infer<typeof eventSchema>;

export const FINAL_STATUSES = new Set(['succeeded', 'failed', 'timed_out', 'canceled']);

/** True for the event no other event follows: the job's final status. */
export function isFinal(event: JobEvent): boolean {
  return event.type === 'status' && FINAL_STATUSES.has(event.status ?? '');
}

/** Parses one stream message; null for what is not an event (the `pong` of a `ping`). */
export function parseEvent(text: string): JobEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = eventSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export interface FollowOptions {
  jobId: string;
  /** The seq to start after (0: the whole log). */
  after?: number;
  /** The WebSocket URL of the next connection, with a fresh stream token and `after`. */
  connectUrl(after: number): Promise<string>;
  onEvent(event: JobEvent): void;
  /** Told when a connection dropped and another one will be opened after `delayMs`. */
  onReconnect?(info: { after: number; delayMs: number; reason: string }): void;
  /**
   * Whether a failure of `connectUrl` is worth another try (the network, a 5xx, a 429); the
   * others are thrown. Default: none is.
   */
  retryable?(error: unknown): boolean;
  /** Aborting closes the connection and resolves with what was received so far. */
  signal?: AbortSignal;
}

export interface FollowResult {
  /** The final status event, or null when following was aborted first. */
  final: JobEvent | null;
  last: number;
}

/** How long to wait before the next connection after `failures` failed ones: 0.25 s to 5 s. */
export function backoffMs(failures: number): number {
  const base = Math.min(5000, 250 * 2 ** Math.max(0, failures - 1));
  // Up to a quarter of jitter, so that many clients dropped at once do not return at once.
  return Math.round(base * (0.75 + Math.random() * 0.25));
}

/** A connection quiet for this long (no event, no pong) counts as dropped. */
const SILENCE_MS = 30_000;
const PING_MS = 10_000;
/** With nothing heard from the stream for this long (no event, no pong), following gives up. */
const GIVE_UP_MS = 5 * 60_000;

/** Follows the job until its final event (or the signal aborts); throws what `connectUrl` throws. */
export async function followJob(options: FollowOptions): Promise<FollowResult> {
  let last = options.after ?? 0;
  let failures = 0;
  let aliveAt = Date.now();
  while (!options.signal?.aborted) {
    let outcome: ConnectionOutcome;
    try {
      const url = await options.connectUrl(last);
      outcome = await connectOnce(
        url,
        (event) => {
          // A replay after a reconnect starts after `last`; this guard also covers a server
          // that sent an event twice.
          if (event.seq <= last) return;
          last = event.seq;
          failures = 0;
          options.onEvent(event);
        },
        options.signal,
      );
    } catch (error) {
      // No stream token: the API is unreachable or overloaded (try again), or it refused.
      if (!options.retryable?.(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      outcome = { final: null, reason, heardAt: null };
    }
    if (outcome.heardAt !== null) aliveAt = Math.max(aliveAt, outcome.heardAt);
    if (outcome.final) return { final: outcome.final, last };
    if (options.signal?.aborted) break;
    if (Date.now() - aliveAt > GIVE_UP_MS) {
      throw new Error(
        `Nothing came from the stream of ${options.jobId} for ${GIVE_UP_MS / 60_000} minutes (last: ${outcome.reason}); follow it again with omni logs ${options.jobId} --follow.`,
      );
    }
    failures += 1;
    const delayMs = backoffMs(failures);
    options.onReconnect?.({ after: last, delayMs, reason: outcome.reason });
    await sleep(delayMs, options.signal);
  }
  return { final: null, last };
}

interface ConnectionOutcome {
  final: JobEvent | null;
  reason: string;
  /** When the connection last proved alive (opened, or a message came); null: it never opened. */
  heardAt: number | null;
}

/** One WebSocket connection: resolves when it closes, fails, falls silent or sends the end. */
function connectOnce(
  url: string,
  onEvent: (event: JobEvent) => void,
  signal: AbortSignal | undefined,
): Promise<ConnectionOutcome> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    const openedAt = Date.now();
    let heardAt: number | null = null;
    let settled = false;
    const finish = (outcome: Omit<ConnectionOutcome, 'heardAt'>) => {
      if (settled) return;
      settled = true;
      clearInterval(ping);
      signal?.removeEventListener('abort', onAbort);
      // Closing is not waited for: under `wrangler dev` the TCP connection lingers for seconds
      // after the close handshake (scripts/lib/watch.ts), and nothing more can arrive that counts.
      try {
        socket.close();
      } catch {
        // Already closed.
      }
      resolve({ ...outcome, heardAt });
    };
    const ping = setInterval(() => {
      if (Date.now() - (heardAt ?? openedAt) > SILENCE_MS) {
        finish({ final: null, reason: `no answer for ${SILENCE_MS / 1000} s` });
      } else if (socket.readyState === WebSocket.OPEN) {
        socket.send('ping');
      }
    }, PING_MS);
    const onAbort = () => finish({ final: null, reason: 'aborted' });
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.addEventListener('open', () => {
      heardAt = Date.now();
    });
    socket.addEventListener('message', (message) => {
      heardAt = Date.now();
      const event = parseEvent(String(message.data));
      if (!event || settled) return;
      onEvent(event);
      if (isFinal(event)) finish({ final: event, reason: 'ended' });
    });
    socket.addEventListener('close', (close) => {
      finish({
        final: null,
        reason: `closed with code ${close.code}${close.reason ? ` (${close.reason})` : ''}`,
      });
    });
    // An error is followed by a close event, which settles; a refused handshake is one too.
    socket.addEventListener('error', () => undefined);
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
