/**
 * Live fan-out of a job's events to WebSocket watchers, using the hibernation API so that idle
 * watchers cost nothing while the job runs.
 */
import type { JobEvent, JobStorage } from './storage.ts';

/** Watchers allowed on one job at once. */
export const MAX_WATCHERS = 100;
/** Events read from storage per page while replaying. */
const REPLAY_PAGE = 500;

/** Sends `event` to every watcher. A watcher whose socket is broken is closed. */
export function broadcast(ctx: DurableObjectState, event: JobEvent): void {
  const message = JSON.stringify(event);
  for (const ws of ctx.getWebSockets()) {
    try {
      ws.send(message);
    } catch {
      closeQuietly(ws, 1011, 'send failed');
    }
  }
}

/**
 * Accepts a new watcher and replays every stored event after `after`. Nothing awaits between the
 * replay and the return, so no event can be appended in between: the watcher sees each event
 * exactly once, from the replay or from a later broadcast.
 */
export function acceptWatcher(
  ctx: DurableObjectState,
  storage: JobStorage,
  after: number,
  finished: boolean,
): WebSocket {
  const pair = new WebSocketPair();
  const client = pair[0];
  const server = pair[1];
  ctx.acceptWebSocket(server);
  let cursor = after;
  for (;;) {
    const page = storage.eventsAfter(cursor, REPLAY_PAGE);
    for (const event of page) server.send(JSON.stringify(event));
    const last = page.at(-1);
    if (!last || page.length < REPLAY_PAGE) break;
    cursor = last.seq;
  }
  if (finished) server.close(1000, 'job finished');
  return client;
}

/** Closes every watcher: the job has ended and no event will follow. */
export function closeAll(ctx: DurableObjectState): void {
  for (const ws of ctx.getWebSockets()) closeQuietly(ws, 1000, 'job finished');
}

/** Closes a socket that may already be closing; the close codes a peer may send are mapped. */
export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  // 1005 and 1006 describe a missing close frame; they must never be sent.
  const sendable = code === 1005 || code === 1006 ? 1000 : code;
  try {
    ws.close(sendable, reason);
  } catch {
    // Already closed: nothing to do.
  }
}
