/**
 * Splits the bytes of Daytona's command-log WebSocket into stdout and stderr. The daemon marks
 * each stream's bytes with a 3-byte marker (`\x01\x01\x01` stdout, `\x02\x02\x02` stderr) that
 * switches the current stream until the next marker; markers may be split across frames, and
 * bytes before the first marker belong to no stream (see ../shared/reference/daytona/
 * SDK-CONTRACT.md, "Log streaming").
 */

import { concatBytes } from './utf8.ts';

export type OutputStream = 'stdout' | 'stderr';

const STDOUT = 0x01;
const STDERR = 0x02;
const MARKER_LENGTH = 3;

/** A run of bytes of one stream. */
export interface Piece {
  stream: OutputStream;
  bytes: Uint8Array;
}

/** Demultiplexes one log connection; feed it every frame in order. */
export class LogDemux {
  private current: OutputStream | null = null;
  /** Trailing bytes of the last frame that may be the start of a marker. */
  private held = new Uint8Array(0);

  /** The pieces of stream output in `frame` (together with what earlier frames left open). */
  push(frame: Uint8Array): Piece[] {
    const data = this.held.length === 0 ? frame : concatBytes(this.held, frame);
    this.held = new Uint8Array(0);
    const pieces: Piece[] = [];
    let start = 0;
    let i = 0;
    while (i < data.length) {
      const byte = data[i];
      if (byte !== STDOUT && byte !== STDERR) {
        i++;
        continue;
      }
      const run = markerRun(data, i, byte);
      if (run === MARKER_LENGTH) {
        this.emit(pieces, data.subarray(start, i));
        this.current = byte === STDOUT ? 'stdout' : 'stderr';
        i += MARKER_LENGTH;
        start = i;
      } else if (i + run === data.length) {
        // The frame ends in what may be the first bytes of a marker: decide with the next frame.
        this.emit(pieces, data.subarray(start, i));
        this.held = data.slice(i);
        return pieces;
      } else {
        i += run;
      }
    }
    this.emit(pieces, data.subarray(start));
    return pieces;
  }

  /** Whatever is still held back once the connection has closed (a marker never completed). */
  flush(): Piece[] {
    const pieces: Piece[] = [];
    this.emit(pieces, this.held);
    this.held = new Uint8Array(0);
    return pieces;
  }

  private emit(pieces: Piece[], bytes: Uint8Array): void {
    if (bytes.length === 0 || this.current === null) return;
    const last = pieces.at(-1);
    if (last && last.stream === this.current) last.bytes = concatBytes(last.bytes, bytes);
    else pieces.push({ stream: this.current, bytes: bytes.slice() });
  }
}

/** How many bytes equal to `byte` follow from `at`, up to a marker's length. */
function markerRun(data: Uint8Array, at: number, byte: number): number {
  let n = 0;
  while (n < MARKER_LENGTH && data[at + n] === byte) n++;
  return n;
}
