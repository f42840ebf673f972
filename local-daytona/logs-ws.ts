/**
 * Log-follow websocket for session commands:
 * `ws://…/toolbox/{id}/process/session/{sid}/command/{cid}/logs?follow=true`.
 *
 * Everything logged so far is replayed from the command's log file, then live output follows;
 * frames carry the raw marked bytes (\x01\x01\x01 stdout / \x02\x02\x02 stderr), which the SDK
 * demultiplexes. The socket closes with 1000 once the command has ended and all output was sent.
 * Without `follow=true` only the replay is sent. Fault rules can cut a stream short or keep it
 * open past the end ({@link LogStreamFaults}).
 */
import type { IncomingMessage } from 'node:http';
import { createReadStream } from 'node:fs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SessionCommand } from './session-command.ts';

/**
 * Largest frame sent. The SDK's demuxer spreads each frame into a JS array push, which overflows
 * the stack for frames of a few hundred KiB, so big chunks are split.
 */
const MAX_FRAME = 16 * 1024;

/** How often an open log socket is pinged. */
const PING_INTERVAL_MS = 20_000;

/** The subprotocol prefix serverless SDK runtimes offer; the daemon echoes it back. */
const SDK_PROTOCOL_PREFIX = 'X-Daytona-SDK-Version~';

/** A websocket server (noServer mode) that echoes the SDK's version subprotocol. */
export function createLogSocketServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    handleProtocols: (protocols: Set<string>, _req: IncomingMessage) => {
      for (const p of protocols) if (p.startsWith(SDK_PROTOCOL_PREFIX)) return p;
      const [first] = protocols;
      return first ?? false;
    },
  });
}

/** Misbehaviour injected into one log stream by a fault rule (cut-logs, hold-logs). */
export interface LogStreamFaults {
  /** Once this many frames were sent, `cut` ends the stream (0: before the first frame). */
  readonly cut?: { readonly afterFrames: number; run(): void };
  /**
   * Instead of closing normally at the end, hands over the close; the stream stays open until
   * it is called. Returns a function to call if the socket closes first.
   */
  readonly hold?: (close: () => void) => () => void;
}

/**
 * Streams a command's log over an accepted websocket. `onDone` runs exactly once when the
 * socket is finished with (closed by either side).
 */
export function streamCommandLogs(
  ws: WebSocket,
  cmd: SessionCommand,
  follow: boolean,
  onDone: () => void,
  faults: LogStreamFaults = {},
): void {
  let replaying = true;
  let ended = cmd.done;
  let live: Buffer[] = [];
  let closed = false;
  let frames = 0;
  let cut = false;
  let unhold = (): void => undefined;
  const open = (): boolean => !cut && ws.readyState === ws.OPEN;

  const cutNow = (): void => {
    cut = true;
    faults.cut?.run();
  };
  /** Queues `data` in frames, stopping at the cut: the frame that reaches it triggers it. */
  const sendFrames = (data: Buffer): Promise<void> => {
    const sends: Promise<void>[] = [];
    for (let at = 0; at < data.length && open(); at += MAX_FRAME) {
      const frame = data.subarray(at, at + MAX_FRAME);
      const last = faults.cut !== undefined && ++frames >= faults.cut.afterFrames;
      if (last) cut = true; // Nothing after this frame may be queued.
      sends.push(
        new Promise((resolve) =>
          ws.send(frame, { binary: true }, () => {
            if (last) cutNow();
            resolve();
          }),
        ),
      );
    }
    return Promise.all(sends).then(() => undefined);
  };
  const onData = (chunk: Buffer): void => {
    if (replaying) live.push(chunk);
    else void sendFrames(chunk);
  };
  const finish = (code: number): void => {
    if (!open()) return;
    if (code === 1000 && faults.hold) unhold = faults.hold(() => ws.close(1000));
    else ws.close(code);
  };
  const onEnd = (): void => {
    ended = true;
    if (!replaying) finish(1000);
  };
  // Keepalive pings, as the daemon sends, so idle stretches of a long command look alive.
  const pinger = setInterval(() => {
    if (ws.readyState === ws.OPEN) ws.ping();
  }, PING_INTERVAL_MS);
  pinger.unref();
  const cleanup = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(pinger);
    cmd.off('data', onData);
    cmd.off('end', onEnd);
    unhold();
    onDone();
  };
  ws.on('close', cleanup);
  ws.on('error', cleanup);

  // Subscribing and noting the logged length happen in the same tick, and log writes are
  // synchronous, so the file holds exactly the bytes before `upTo` and the feed those after.
  if (follow && !ended) {
    cmd.on('data', onData);
    cmd.once('end', onEnd);
  }
  const upTo = cmd.length;

  const replay = async (): Promise<void> => {
    if (faults.cut?.afterFrames === 0) return cutNow();
    if (upTo > 0) {
      const stream = createReadStream(cmd.logPath, { start: 0, end: upTo - 1 });
      for await (const chunk of stream) {
        if (!open()) {
          stream.destroy();
          return;
        }
        await sendFrames(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      }
    }
    // Queue the buffered live chunks without yielding, so a chunk arriving meanwhile cannot
    // overtake them (ws.send preserves call order).
    for (const chunk of live) void sendFrames(chunk);
    live = [];
    replaying = false;
    if (!follow || ended) finish(1000);
  };
  replay().catch(() => finish(1011));
}
