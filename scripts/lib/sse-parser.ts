/**
 * A parser of text/event-stream bodies as EventSource reads them (HTML Living Standard
 * §9.2.6): lines, `field: value`, comments, and an event dispatched at each blank line. Pure, so
 * that the workerd tests, the Node tests and `npm run bench:sse` share it.
 */

/** One dispatched event; `id` is the last event id set so far (as `lastEventId` would be). */
export interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/** A parser fed with chunks of text; `push` returns the events each chunk completes. */
export class SseParser {
  private buffer = '';
  private lastId = '';
  private type = '';
  private data: string[] = [];
  readonly comments: string[] = [];
  retry: number | null = null;

  push(text: string): SseEvent[] {
    this.buffer += text;
    const out: SseEvent[] = [];
    const ends = /\r\n|\r|\n/g;
    let start = 0;
    for (let m = ends.exec(this.buffer); m !== null; m = ends.exec(this.buffer)) {
      // A CR that ends the chunk may be the first half of a CRLF: wait for the next chunk.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const event = this.line(this.buffer.slice(start, m.index));
      start = ends.lastIndex;
      if (event) out.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      const event =
        this.data.length > 0
          ? { id: this.lastId, event: this.type || 'message', data: this.data.join('\n') }
          : null;
      this.type = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') this.lastId = value;
    else if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}
