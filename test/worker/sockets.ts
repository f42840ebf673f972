/**
 * WebSocket clients of the job stream, opened through the Worker like a client would. Every wait
 * has a deadline and fails on a socket error or on a close it did not wait for, so a stream test
 * that goes wrong fails with the reason instead of hanging until the test timeout.
 */
import { exports } from 'cloudflare:workers';

/** What a socket has received and not yet handed out, and how it ended. */
interface Inbox {
  messages: string[];
  closed: { code: number; reason: string } | null;
  error: Error | null;
  /** Re-checks the pending wait, if there is one. */
  wake: (() => void) | null;
}

const inboxes = new WeakMap<WebSocket, Inbox>();

/** GET `path` with a WebSocket upgrade (and `apiKey` as a Bearer token, if given). */
export function requestStream(path: string, apiKey: string | null): Promise<Response> {
  const headers = new Headers({ upgrade: 'websocket' });
  if (apiKey) headers.set('authorization', `Bearer ${apiKey}`);
  return exports.default.fetch(new Request(`https://omni.test${path}`, { headers }));
}

/**
 * Opens the stream at `path` and returns the accepted client socket; fails unless the answer is
 * a 101 with a WebSocket. Messages are kept from the first one on, for nextMessage() and
 * collectUntilClose().
 */
export async function openStream(path: string, apiKey: string | null): Promise<WebSocket> {
  const res = await requestStream(path, apiKey);
  const ws = res.webSocket;
  if (res.status !== 101 || !ws) {
    throw new Error(`GET ${path} answered ${res.status} without a WebSocket: ${await res.text()}`);
  }
  const inbox: Inbox = { messages: [], closed: null, error: null, wake: null };
  ws.addEventListener('message', (e) => {
    inbox.messages.push(typeof e.data === 'string' ? e.data : new TextDecoder().decode(e.data));
    inbox.wake?.();
  });
  ws.addEventListener('close', (e) => {
    inbox.closed = { code: e.code, reason: e.reason };
    inbox.wake?.();
  });
  ws.addEventListener('error', (e) => {
    // After the close frame no message can be lost. workerd reports "Network connection lost"
    // there when evictDurableObject() tears the object down (seen with vitest-plugin 1.5).
    if (inbox.closed) return;
    inbox.error = new Error(`WebSocket error on ${path}: ${e.message}`);
    inbox.wake?.();
  });
  ws.accept();
  inboxes.set(ws, inbox);
  return ws;
}

/**
 * Waits until `take` returns something other than undefined. Rejects after `ms`, on an error
 * event, and if the socket closes first.
 */
function waitFor<T>(
  ws: WebSocket,
  ms: number,
  what: string,
  take: (inbox: Inbox) => T | undefined,
): Promise<T> {
  const inbox = inboxes.get(ws);
  if (!inbox) return Promise.reject(new Error('not a socket from openStream()'));
  if (inbox.wake) return Promise.reject(new Error('already waiting on this socket'));
  return new Promise<T>((resolve, reject) => {
    const done = (settle: () => void) => {
      clearTimeout(timer);
      inbox.wake = null;
      settle();
    };
    const timer = setTimeout(
      () => done(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`))),
      ms,
    );
    const check = () => {
      const { error, closed } = inbox;
      if (error) return done(() => reject(error));
      const value = take(inbox);
      if (value !== undefined) return done(() => resolve(value));
      if (closed) {
        const reason = `closed with ${closed.code} (${closed.reason || 'no reason'})`;
        done(() => reject(new Error(`the socket ${reason} while waiting for ${what}`)));
      }
    };
    inbox.wake = check;
    check();
  });
}

/** The next message, within `ms`; a close before it is a failure. */
export function nextMessage(ws: WebSocket, ms: number): Promise<string> {
  return waitFor(ws, ms, 'a message', (inbox) => inbox.messages.shift());
}

/** Every message not yet taken, up to the server's close within `ms`, and the close code. */
export function collectUntilClose(
  ws: WebSocket,
  ms: number,
): Promise<{ messages: string[]; code: number }> {
  return waitFor(ws, ms, 'the close', (inbox) =>
    inbox.closed ? { messages: inbox.messages.splice(0), code: inbox.closed.code } : undefined,
  );
}
