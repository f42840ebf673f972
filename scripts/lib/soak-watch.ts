/**
 * The soak's WebSocket watchers of a job's stream (GET /v1/jobs/{id}/stream): one that stays to
 * the end, reconnecting from the last event it got whenever the connection is lost (the runtime
 * is crashed on purpose), and droppers that vanish without a close frame at random moments.
 */
import WebSocket from 'ws';
import { eventSchema, isFinal, type JobEvent } from './soak-api.ts';

/** What a staying watcher saw. */
export interface WatchResult {
  events: JobEvent[];
  /** Close codes of its connections, in order (1006: lost without a close frame). */
  closes: number[];
  /** Upgrades that were refused, by HTTP status (a runtime that is down shows as 0). */
  refused: number[];
  /** Whether it ended as it should: the final status, then a 1000 close. */
  ended: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function streamUrl(baseUrl: string, jobId: string, after: number): string {
  return `${baseUrl.replace(/^http/, 'ws')}/v1/jobs/${jobId}/stream?after=${after}`;
}

/** One connection: resolves with its close code once it is over. */
function connectOnce(
  url: string,
  apiKey: string,
  onEvent: (event: JobEvent) => void,
  refused: number[],
): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${apiKey}` } });
    let poll: ReturnType<typeof setInterval> | undefined;
    let settled = false;
    const done = (code: number) => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      resolve(code);
    };
    socket.on('message', (data) => {
      let json: unknown;
      try {
        json = JSON.parse(String(data));
      } catch {
        json = null;
      }
      const parsed = eventSchema.safeParse(json);
      // Something that is not an event still counts: it makes the comparison with the log fail.
      const event = parsed.success ? parsed.data : { seq: -1, type: 'unparseable', ts: '' };
      onEvent(event);
      if (event.type === 'status' && isFinal(event.status ?? '') && !poll) {
        // Under `wrangler dev` the TCP connection lingers for seconds after the close handshake
        // (as scripts/lib/watch.ts explains): once the close frame is in, drop the connection.
        poll = setInterval(() => {
          if (socket.readyState === WebSocket.CLOSING) socket.terminate();
        }, 10);
      }
    });
    socket.on('close', (code) => done(code));
    socket.on('unexpected-response', (_req, res) => {
      refused.push(res.statusCode ?? 0);
      socket.terminate();
      done(-1);
    });
    socket.on('error', () => {
      // A refused connection (runtime down) errors before any upgrade: 'close' follows.
      if (socket.readyState === WebSocket.CONNECTING) refused.push(0);
    });
  });
}

/**
 * Watches job `jobId` from `after` until the server closes with 1000 after the final status,
 * reconnecting from the last event received otherwise, until `deadline`.
 */
export async function watchToEnd(
  baseUrl: string,
  apiKey: string,
  jobId: string,
  after: number,
  deadline: number,
): Promise<WatchResult> {
  const result: WatchResult = { events: [], closes: [], refused: [], ended: false };
  let last = after;
  const onEvent = (event: JobEvent) => {
    result.events.push(event);
    last = Math.max(last, event.seq);
  };
  while (Date.now() < deadline) {
    const code = await connectOnce(
      streamUrl(baseUrl, jobId, last),
      apiKey,
      onEvent,
      result.refused,
    );
    if (code !== -1) result.closes.push(code);
    const final = result.events.at(-1);
    if (code === 1000) {
      result.ended = final?.type === 'status' && isFinal(final.status ?? '');
      return result;
    }
    await sleep(500);
  }
  return result;
}

/** Connects to the stream and drops the connection abruptly (no close frame) after `forMs`. */
export async function dropAfter(
  baseUrl: string,
  apiKey: string,
  jobId: string,
  after: number,
  forMs: number,
): Promise<void> {
  const socket = new WebSocket(streamUrl(baseUrl, jobId, after), {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  socket.on('error', () => undefined);
  // forMs 0: gone while the upgrade is still being answered.
  if (forMs > 0) await sleep(forMs);
  socket.terminate();
}
