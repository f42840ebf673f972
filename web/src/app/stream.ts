/**
 * A job's event stream over a WebSocket, resumed without a gap or a duplicate. Each connection
 * gets a fresh stream token (POST /v1/jobs/{id}/stream-token; the key itself is never in a URL)
 * and asks for the events after the last seq it delivered; an event at or below that seq (a
 * replay overlapping what was delivered) is skipped. A socket that drops before the job ended is
 * reopened with backoff (0.5 s, doubling, at most 15 s, jittered; reset once events flow).
 */
import { OmniApiError, unwrap, type components } from '../../../client/index.ts';
import type { Session } from './session.ts';

export type JobEvent = components['schemas']['JobEvent'];

const FINAL = new Set(['succeeded', 'failed', 'timed_out', 'canceled']);
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

export interface StreamHandlers {
  onEvent(event: JobEvent): void;
  onState(state: StreamState, detail?: string): void;
}

const EVENT_TYPES = new Set(['status', 'stdout', 'stderr', 'exit', 'truncated', 'agent']);

/** True for a message shaped like a job event: its seq, type and time are all the stream uses. */
function isJobEvent(value: unknown): value is JobEvent {
  if (typeof value !== 'object' || value === null) return false;
  const { seq, type, ts } = value as Record<string, unknown>;
  return typeof seq === 'number' && typeof ts === 'string' && EVENT_TYPES.has(String(type));
}

/** True for the status event that ends a job. */
export function isFinalEvent(event: JobEvent): boolean {
  return event.type === 'status' && FINAL.has(String(event.status));
}

export class JobStream {
  /** The seq of the last event delivered. */
  lastSeq = 0;
  /** Connections opened so far (the first one included). */
  connections = 0;
  private socket: WebSocket | null = null;
  private ended = false;
  private stopped = false;
  private delay = FIRST_DELAY_MS;
  private timer: ReturnType<typeof setTimeout> | undefined;

  private readonly session: Session;
  private readonly jobId: string;
  private readonly handlers: StreamHandlers;

  constructor(session: Session, jobId: string, handlers: StreamHandlers) {
    this.session = session;
    this.jobId = jobId;
    this.handlers = handlers;
  }

  start(): void {
    void this.connect();
  }

  /** Closes the stream for good (the page is left). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000);
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.ended) return;
    this.handlers.onState(this.connections === 0 ? 'connecting' : 'reconnecting');
    let path: string;
    try {
      const token = await unwrap(
        this.session.client.POST('/v1/jobs/{id}/stream-token', {
          params: { path: { id: this.jobId } },
        }),
      );
      path = token.url;
    } catch (error) {
      // No such job, or the key is no longer valid: retrying cannot help.
      if (error instanceof OmniApiError && [401, 403, 404].includes(error.status)) {
        this.handlers.onState('failed', error.detail);
        return;
      }
      this.retry();
      return;
    }
    const url = new URL(path, this.session.apiUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('after', String(this.lastSeq));
    const socket = new WebSocket(url);
    this.socket = socket;
    this.connections++;
    socket.addEventListener('open', () => this.handlers.onState('live'));
    socket.addEventListener('message', (message) => this.receive(message));
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.ended || this.stopped) return;
      this.retry();
    });
  }

  private receive(message: MessageEvent): void {
    let value: unknown;
    try {
      value = JSON.parse(String(message.data));
    } catch {
      return;
    }
    if (!isJobEvent(value) || value.seq <= this.lastSeq) return;
    const event = value;
    this.lastSeq = event.seq;
    this.delay = FIRST_DELAY_MS;
    if (isFinalEvent(event)) {
      this.ended = true;
      this.handlers.onState('ended');
    }
    this.handlers.onEvent(event);
  }

  private retry(): void {
    if (this.stopped || this.ended) return;
    this.handlers.onState('reconnecting');
    const wait = this.delay * (0.75 + Math.random() * 0.5);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.timer = setTimeout(() => void this.connect(), wait);
  }
}
