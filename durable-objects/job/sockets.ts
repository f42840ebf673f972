/**
 * Fan-out of a job's events to WebSocket watchers. The sockets use the hibernation API, so idle
 * watchers cost nothing while the job runs; what is sent is paced by a send budget
 * (send-budget.ts), so that many watchers, or a few replaying a long log, cannot fill the
 * object's memory with output that clients have not read yet.
 *
 * Each watcher has a position: the seq of the last event it was sent. A watcher is either live
 * (it was sent every stored event, and is sent new ones as they are broadcast) or catching up
 * (replaying the log after `?after=`, or fallen behind a live burst): the pump sends it pages
 * from the log, a share of each send window, and makes it live in the same synchronous step in
 * which it sends the last stored event, so no event can be appended in between. Each watcher
 * thus gets every event exactly once, in order. A catching-up watcher's position is kept in its
 * socket's attachment, so replay goes on from there after the object was evicted or hibernated:
 * the Watchers of a woken object resume it.
 */
import { z } from 'zod';
import type { Viewer } from '../../worker/db/standing.ts';
import { errorFields, log } from '../../worker/lib/log.ts';
import { fitInBudget } from './decisions.ts';
import { REPLAY_PAGE_EVENTS, REPLAY_WINDOW_BYTES, SendWindow, utf8Length } from './send-budget.ts';
import type { JobEvent, JobStorage } from './storage.ts';

/** A watcher's position: the seq of the last event it was sent, and whether it is live. */
const positionSchema = z.object({ sent: z.number().int().nonnegative(), live: z.boolean() });
type Position = z.infer<typeof positionSchema>;

/**
 * What a socket's attachment holds (at most 2 KiB; this is a few hundred bytes at most): its
 * position, and who opened it, so that it can be closed once that caller's key or membership is
 * revoked (checkStanding).
 */
const attachmentSchema = positionSchema.extend({
  viewer: z.object({ actor: z.string(), grant: z.enum(['key', 'member', 'claim']) }).optional(),
});

/** Close code and reason for a watcher whose credentials were revoked (1008: policy). */
export const REVOKED_CLOSE = { code: 1008, reason: 'credentials revoked' } as const;

/** One event ready to send. */
interface Message {
  seq: number;
  text: string;
  bytes: number;
}

/** The Watchers of each object, so that record.ts can broadcast through its DurableObjectState. */
const registry = new WeakMap<DurableObjectState, Watchers>();

/** The watchers of one job. Create one per object instance, in its constructor. */
export class Watchers {
  private readonly ctx: DurableObjectState;
  private readonly store: JobStorage;
  private readonly ended: () => boolean;
  private readonly positions = new WeakMap<WebSocket, Position>();
  private readonly viewers = new WeakMap<WebSocket, Viewer>();
  private readonly window = new SendWindow();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Where the next pump starts among the catching-up watchers, so that each gets its turn. */
  private turn = 0;

  /** `ended` tells whether the job has ended: no event will follow the stored ones. */
  constructor(ctx: DurableObjectState, store: JobStorage, ended: () => boolean) {
    this.ctx = ctx;
    this.store = store;
    this.ended = ended;
    registry.set(ctx, this);
    // A woken object: a live watcher was sent every event stored before (append and broadcast
    // happen in one synchronous step), a catching-up one resumes from its attachment.
    const sockets = ctx.getWebSockets();
    if (sockets.length === 0) return;
    const last = store.lastSeq();
    let catchingUp = false;
    for (const ws of sockets) {
      const parsed = attachmentSchema.safeParse(ws.deserializeAttachment());
      // A socket without a position was accepted before replay was paced: it got it all then.
      const at =
        parsed.success && !parsed.data.live
          ? { sent: parsed.data.sent, live: false }
          : { sent: last, live: true };
      this.positions.set(ws, at);
      if (parsed.success && parsed.data.viewer) this.viewers.set(ws, parsed.data.viewer);
      catchingUp ||= !at.live;
    }
    if (catchingUp) this.schedule(0);
  }

  /** Sockets open now (the runtime also lists sockets whose close has begun). */
  count(): number {
    return this.ctx.getWebSockets().length;
  }

  /**
   * Accepts a watcher, opened by `viewer`, that wants the events after `after`, and starts its
   * replay.
   */
  accept(after: number, viewer: Viewer): WebSocket {
    const pair = new WebSocketPair();
    const client = pair[0];
    const server = pair[1];
    this.ctx.acceptWebSocket(server);
    const at = { sent: after, live: false };
    this.positions.set(server, at);
    this.viewers.set(server, viewer);
    this.save(server, at);
    this.pump();
    return client;
  }

  /**
   * Closes the watchers whose opener no longer stands (`standing` answers for a set of viewers
   * which of their actors do) with 1008, and says how many watchers remain open.
   */
  async checkStanding(
    standing: (viewers: Viewer[]) => Promise<Set<string>>,
  ): Promise<{ open: number; closed: number }> {
    const watched = this.open().flatMap((ws) => {
      const viewer = this.viewers.get(ws);
      return viewer ? [{ ws, viewer }] : [];
    });
    if (watched.length === 0) return { open: this.open().length, closed: 0 };
    const stands = await standing(watched.map((w) => w.viewer));
    let closed = 0;
    for (const { ws, viewer } of watched) {
      if (stands.has(viewer.actor)) continue;
      closeQuietly(ws, REVOKED_CLOSE.code, REVOKED_CLOSE.reason);
      closed += 1;
    }
    return { open: this.open().length, closed };
  }

  /** Saves a socket's position, with who opened it, in its attachment. */
  private save(ws: WebSocket, at: Position): void {
    const viewer = this.viewers.get(ws);
    ws.serializeAttachment(viewer ? { ...at, viewer } : at);
  }

  /** Sends a just-stored event to the live watchers; one over the window falls behind instead. */
  broadcast(event: JobEvent): void {
    const message = JSON.stringify(event);
    const bytes = utf8Length(message);
    const now = Date.now();
    let behind = false;
    for (const ws of this.open()) {
      const at = this.positionOf(ws);
      if (!at.live || at.sent >= event.seq) continue;
      if (at.sent !== event.seq - 1 || this.window.room(now) < bytes) {
        this.fallBehind(ws, at);
        behind = true;
        continue;
      }
      if (!send(ws, message)) continue;
      at.sent = event.seq;
      this.window.spend(bytes, now);
    }
    if (behind) this.schedule();
  }

  /** The job has ended: watchers that have everything are closed, the others once they do. */
  end(): void {
    const last = this.store.lastSeq();
    for (const ws of this.open()) {
      const at = this.positionOf(ws);
      if (at.sent >= last) closeQuietly(ws, 1000, 'job finished');
      else if (at.live) this.fallBehind(ws, at);
    }
    this.schedule();
  }

  /**
   * Sends catching-up watchers pages from the log until the replay share of the window is
   * spent, a fair share each per round (at least one event, so everyone moves), and schedules
   * itself for the next window while any watcher is still behind.
   */
  private pump(): void {
    // Nobody left to send to: storage is not touched (an erased job has none to read).
    const open = this.open();
    if (open.length === 0) return;
    const now = Date.now();
    const last = this.store.lastSeq();
    const ended = this.ended();
    const behind = open.filter((ws) => {
      const at = this.positionOf(ws);
      if (at.live) return false;
      // One that has everything needs no budget: it goes live (or is closed) now.
      if (at.sent >= last) this.caughtUp(ws, at, ended);
      return at.sent < last;
    });
    if (behind.length === 0) return;
    const start = this.turn % behind.length;
    let queue = [...behind.slice(start), ...behind.slice(0, start)];
    let room = this.window.room(now, REPLAY_WINDOW_BYTES);
    while (room > 0 && queue.length > 0) {
      const share = Math.max(1, Math.floor(room / queue.length));
      const next: WebSocket[] = [];
      for (const ws of queue) {
        if (room <= 0) {
          next.push(ws);
          continue;
        }
        this.turn += 1;
        const at = this.positionOf(ws);
        if (!this.sendPage(ws, at, Math.min(share, room), now)) continue;
        room = this.window.room(now, REPLAY_WINDOW_BYTES);
        if (at.sent >= last) {
          this.caughtUp(ws, at, ended);
        } else {
          this.save(ws, at);
          next.push(ws);
        }
      }
      queue = next;
    }
    if (queue.length > 0) this.schedule();
  }

  /** `ws` was sent the last stored event: it is live from now on, or closed if the job ended. */
  private caughtUp(ws: WebSocket, at: Position, ended: boolean): void {
    if (ended) {
      closeQuietly(ws, 1000, 'job finished');
      return;
    }
    at.live = true;
    this.save(ws, at);
  }

  /** Sends `ws` the next page of the log, at most `budget` bytes; false if its socket broke. */
  private sendPage(ws: WebSocket, at: Position, budget: number, now: number): boolean {
    const page = fitInBudget(this.messagesAfter(at.sent), budget, (m) => m.bytes);
    for (const message of page) {
      if (!send(ws, message.text)) return false;
      at.sent = message.seq;
      this.window.spend(message.bytes, now);
    }
    return true;
  }

  private *messagesAfter(seq: number): Generator<Message, void, undefined> {
    for (const event of this.store.eventsAfter(seq, REPLAY_PAGE_EVENTS)) {
      const text = JSON.stringify(event);
      yield { seq: event.seq, text, bytes: utf8Length(text) };
    }
  }

  private fallBehind(ws: WebSocket, at: Position): void {
    at.live = false;
    this.save(ws, at);
  }

  /** Runs the pump at the next window (or after `delay` ms), unless it is already scheduled. */
  private schedule(delay = this.window.untilNext(Date.now())): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.pump();
      } catch (error) {
        // Positions are saved page by page: the next run goes on from the last page sent.
        log('error', 'replay to watchers failed; will retry', errorFields(error));
        this.schedule();
      }
    }, delay);
  }

  private open(): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  private positionOf(ws: WebSocket): Position {
    let at = this.positions.get(ws);
    if (!at) {
      // Not seen by this instance (the runtime gives each socket one object per instance, so
      // this is a socket accepted by another code path): treat it as one that has everything.
      at = { sent: this.store.lastSeq(), live: true };
      this.positions.set(ws, at);
    }
    return at;
  }
}

/** Sends `event`, just stored, to the watchers of the object of `ctx`. */
export function broadcast(ctx: DurableObjectState, event: JobEvent): void {
  // An object without Watchers has accepted no watcher: there is no one to tell.
  registry.get(ctx)?.broadcast(event);
}

/** The job has ended: each watcher is closed with 1000 once it has been sent every event. */
export function closeAll(ctx: DurableObjectState): void {
  registry.get(ctx)?.end();
}

/** Sends one message; a socket that cannot take it is closed. */
function send(ws: WebSocket, message: string): boolean {
  try {
    ws.send(message);
    return true;
  } catch {
    closeQuietly(ws, 1011, 'send failed');
    return false;
  }
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
