/**
 * One connection to a command's live log (Daytona's `…/logs?follow=true` WebSocket), opened by
 * the Job DO itself rather than through `process.getSessionCommandLogs`: the SDK's follower gives
 * no way to close its socket (an abandoned follower would stay connected until the command
 * ends) and does not say whether the server closed cleanly or the connection dropped, which is
 * what tells a finished log from one that must be re-read. The wire format (the SDK's headers,
 * the stream markers) is the SDK's, see ../shared/reference/daytona/SDK-CONTRACT.md.
 */
import { LogDemux, type Piece } from './log-demux.ts';

/** How a log connection ended: the server's normal close (1000), or anything else. */
export type LogEnd = 'clean' | 'dropped';

/** An open log connection. */
interface LogConnection {
  /** Resolves once the connection has ended; never rejects. */
  readonly ended: Promise<LogEnd>;
  /** Closes the connection (idempotent); `ended` then resolves with 'dropped'. */
  close(): void;
}

/** Where a command's log is and how to authenticate to it. */
export interface LogTarget {
  /** http(s) URL of the log WebSocket. */
  url: string;
  headers: Record<string, string>;
}

/** Thrown when the log WebSocket cannot be opened; `status` is the HTTP answer, if any. */
export class LogOpenError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'LogOpenError';
    this.status = status;
  }
}

/**
 * Opens the log of a command and calls `onPiece` with each run of stdout or stderr bytes, in
 * order, as frames arrive.
 * @throws LogOpenError if the server does not accept the WebSocket.
 */
export async function openCommandLog(
  target: LogTarget,
  onPiece: (piece: Piece) => void,
  signal: AbortSignal,
): Promise<LogConnection> {
  const response = await fetch(target.url, {
    headers: { ...target.headers, Upgrade: 'websocket' },
    signal,
  });
  const ws = response.webSocket;
  if (!ws) {
    await response.body?.cancel();
    throw new LogOpenError(
      `The command log could not be opened (HTTP ${response.status}).`,
      response.status,
    );
  }
  // Binary frames as ArrayBuffer (the default here is Blob, which would need an await per frame).
  ws.binaryType = 'arraybuffer';
  ws.accept();
  const demux = new LogDemux();
  const encoder = new TextEncoder();
  let finish: (end: LogEnd) => void = () => undefined;
  const ended = new Promise<LogEnd>((resolve) => (finish = resolve));
  let done = false;
  const end = (how: LogEnd) => {
    if (done) return;
    done = true;
    finish(how);
  };
  ws.addEventListener('message', (event) => {
    if (done) return;
    const frame =
      typeof event.data === 'string'
        ? encoder.encode(event.data)
        : event.data instanceof ArrayBuffer
          ? new Uint8Array(event.data)
          : new Uint8Array(0);
    for (const piece of demux.push(frame)) onPiece(piece);
  });
  ws.addEventListener('close', (event) => {
    if (done) return;
    for (const piece of demux.flush()) onPiece(piece);
    end(event.code === 1000 ? 'clean' : 'dropped');
  });
  ws.addEventListener('error', () => end('dropped'));
  // Closing ends the connection for us at once: a server that never answers the close frame
  // must not keep anyone waiting, and frames that still arrive are ignored.
  const close = () => {
    end('dropped');
    try {
      ws.close(1000, 'done');
    } catch {
      // Already closed.
    }
  };
  signal.addEventListener('abort', close, { once: true });
  return { ended, close };
}
