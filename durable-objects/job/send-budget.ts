/**
 * How much the Job DO may send to its watchers, and when. workerd does not tell how much of a
 * socket's output is still queued (there is no `WebSocket.bufferedAmount` on the server end of a
 * WebSocketPair, see docs/jobs.md), and whatever is sent but not yet read by the client stays in
 * the object's memory. So the object bounds what it sends instead: all watchers together get at
 * most SEND_WINDOW_BYTES per SEND_WINDOW_MS, live events first, replay from the log with what is
 * left. A watcher that cannot be sent a live event within the window falls behind and catches up
 * from the log, so nothing is dropped, only delayed. Pure: the clock is passed in.
 */

/** Length of one send window. */
export const SEND_WINDOW_MS = 100;
/** Bytes (UTF-8, as on the wire) all watchers of a job may be sent in one window: 20 MiB/s. */
export const SEND_WINDOW_BYTES = 2 * 1024 * 1024;
/** Of a window, what replay may use; the rest stays free for live events. */
export const REPLAY_WINDOW_BYTES = 1.5 * 1024 * 1024;
/** Events read from the log per replay page (pages are also cut by the window's bytes). */
export const REPLAY_PAGE_EVENTS = 500;

/** A budget of bytes that renews every `ms` milliseconds. */
export class SendWindow {
  private readonly bytes: number;
  private readonly ms: number;
  private start = -Infinity;
  private used = 0;

  constructor(bytes = SEND_WINDOW_BYTES, ms = SEND_WINDOW_MS) {
    this.bytes = bytes;
    this.ms = ms;
  }

  /** Bytes still free at `now` for a sender limited to `cap` of the window. */
  room(now: number, cap = this.bytes): number {
    this.roll(now);
    return Math.max(0, Math.min(cap, this.bytes) - this.used);
  }

  /** Counts `bytes` as sent at `now`. */
  spend(bytes: number, now: number): void {
    this.roll(now);
    this.used += bytes;
  }

  /** Milliseconds from `now` until the next window opens (at least 1). */
  untilNext(now: number): number {
    this.roll(now);
    return Math.max(1, this.start + this.ms - now);
  }

  private roll(now: number): void {
    if (now >= this.start + this.ms) {
      this.start = now;
      this.used = 0;
    }
  }
}

/** The UTF-8 length of `text`, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A surrogate pair is one 4-byte character; a lone surrogate is sent as U+FFFD (3 bytes).
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
