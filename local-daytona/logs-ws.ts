/**
 * Log-follow websocket for session commands:
 * `ws://…/toolbox/{id}/process/session/{sid}/command/{cid}/logs?follow=true`.
 *
 * Everything logged so far is replayed from the command's log file, then live output follows;
 * frames carry the raw marked bytes (\x01\x01\x01 stdout / \x02\x02\x02 stderr), which the SDK
 * demultiplexes. The socket closes with 1000 once the command has ended and all output was sent.
 * Without `follow=true` only the replay is sent.
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

function sendFrames(ws: WebSocket, data: Buffer): Promise<void> {
  const sends: Promise<void>[] = [];
  for (let at = 0; at < data.length; at += MAX_FRAME) {
    if (ws.readyState !== ws.OPEN) break;
    const frame = data.subarray(at, at + MAX_FRAME);
    sends.push(new Promise((resolve) => ws.send(frame, { binary: true }, () => resolve())));
  }
  return Promise.all(sends).then(() => undefined);
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
): void {
  let replaying = true;
  let ended = cmd.done;
  let live: Buffer[] = [];
  let closed = false;

  const onData = (chunk: Buffer): void => {
    if (replaying) live.push(chunk);
    else void sendFrames(ws, chunk);
  };
  const finish = (code: number): void => {
    if (ws.readyState === ws.OPEN) ws.close(code);
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
    if (upTo > 0) {
      const stream = createReadStream(cmd.logPath, { start: 0, end: upTo - 1 });
      for await (const chunk of stream) {
        if (ws.readyState !== ws.OPEN) {
          stream.destroy();
          return;
        }
        await sendFrames(ws, Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      }
    }
    // Queue the buffered live chunks without yielding, so a chunk arriving meanwhile cannot
    // overtake them (ws.send preserves call order).
    for (const chunk of live) void sendFrames(ws, chunk);
    live = [];
    replaying = false;
    if (!follow || ended) finish(1000);
  };
  replay().catch(() => finish(1011));
}
