/**
 * A stream watcher for the benchmarks: opens GET /v1/jobs/{id}/stream with the `ws` package,
 * checks that the events arrive exactly once and in order (consecutive seqs), and hands each
 * complete stdout line to `onLine` with the time it arrived.
 */
import WebSocket from 'ws';
import { z } from 'zod';

const eventSchema = z.looseObject({
  seq: z.number(),
  type: z.string(),
  data: z.string().optional(),
  status: z.string().optional(),
});

/** What one watcher saw. */
export interface WatcherResult {
  /** Messages (events) received. */
  messages: number;
  /** Bytes of stdout received. */
  stdoutBytes: number;
  /** Events whose seq was not the previous one plus one (lost or repeated events). */
  seqErrors: number;
  /** The close code. */
  code: number;
}

/** A connected watcher: `done` resolves once the server has closed the stream. */
export interface Watcher {
  done: Promise<WatcherResult>;
}

/**
 * Connects; resolves once the socket is open. `onLine`, if given, gets every complete stdout
 * line and the time it arrived (ms since the epoch, with fractions); `deadlineMs` bounds the
 * whole stream.
 */
export function openWatcher(
  baseUrl: string,
  apiKey: string,
  jobId: string,
  deadlineMs: number,
  onLine?: (line: string, at: number) => void,
): Promise<Watcher> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/v1/jobs/${jobId}/stream?after=0`;
  const socket = new WebSocket(url, {
    headers: { authorization: `Bearer ${apiKey}` },
    // Like a browser, ws asks for permessage-deflate unless BENCH_DEFLATE=0.
    perMessageDeflate: process.env.BENCH_DEFLATE !== '0',
  });
  const result: WatcherResult = { messages: 0, stdoutBytes: 0, seqErrors: 0, code: 0 };
  let lastSeq = 0;
  let partial: string[] = [];
  const done = new Promise<WatcherResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`the stream of ${jobId} did not end within ${deadlineMs} ms`));
    }, deadlineMs);
    socket.on('message', (raw) => {
      const at = performance.timeOrigin + performance.now();
      const event = eventSchema.parse(JSON.parse(String(raw)));
      result.messages += 1;
      if (event.seq !== lastSeq + 1) result.seqErrors += 1;
      lastSeq = event.seq;
      if (event.type === 'stdout' && event.data !== undefined) {
        result.stdoutBytes += Buffer.byteLength(event.data);
        if (onLine) {
          // A line may span events: keep the pieces of an unfinished one, join them once.
          const lines = event.data.split('\n');
          if (lines.length === 1) partial.push(event.data);
          else {
            onLine(partial.join('') + (lines[0] ?? ''), at);
            for (const line of lines.slice(1, -1)) onLine(line, at);
            partial = [lines.at(-1) ?? ''];
          }
        }
      }
      if (
        event.type === 'status' &&
        ['succeeded', 'failed', 'timed_out', 'canceled'].includes(event.status ?? '')
      ) {
        // Under `wrangler dev` the TCP connection lingers after the close handshake (see
        // scripts/lib/watch.ts): once the server's close frame is in, drop the connection.
        const poll = setInterval(() => {
          if (socket.readyState === WebSocket.CLOSING) socket.terminate();
        }, 10);
        socket.once('close', () => clearInterval(poll));
      }
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      result.code = code;
      resolve(result);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  // Awaited by the caller once every watcher is open; until then a failure must not go unhandled.
  done.catch(() => {});
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ done }));
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`stream refused with HTTP ${res.statusCode}`)),
    );
    socket.once('error', reject);
  });
}

/** Opens `count` watchers, `batch` at a time, so that connecting is bounded too. */
export async function openWatchers(
  count: number,
  batch: number,
  open: () => Promise<Watcher>,
): Promise<Watcher[]> {
  const watchers: Watcher[] = [];
  while (watchers.length < count) {
    const n = Math.min(batch, count - watchers.length);
    watchers.push(...(await Promise.all(Array.from({ length: n }, open))));
  }
  return watchers;
}
