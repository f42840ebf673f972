/** Output bytes: split into streams, counted and cut without ever splitting a character. */
import { describe, expect, it } from 'vitest';
import { LogDemux } from '../../durable-objects/job/log-demux.ts';
import { completePrefix, splitOnCharacters } from '../../durable-objects/job/utf8.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('UTF-8 boundaries', () => {
  it('holds back a character whose last bytes have not arrived', () => {
    const euro = bytes('a€'); // 61 e2 82 ac
    expect(completePrefix(euro)).toBe(4);
    expect(completePrefix(euro.subarray(0, 3))).toBe(1);
    expect(completePrefix(euro.subarray(0, 2))).toBe(1);
    expect(completePrefix(bytes('😀'), 3)).toBe(0);
    expect(completePrefix(bytes('😀'))).toBe(4);
    // Malformed bytes never wait forever.
    expect(completePrefix(new Uint8Array([0x61, 0xff]))).toBe(2);
  });

  it('splits into pieces of at most N bytes on character boundaries', () => {
    const input = bytes('€€€a');
    const pieces = splitOnCharacters(input, 4);
    expect(pieces.map(text)).toEqual(['€', '€', '€a']);
    expect(pieces.every((p) => p.length <= 4)).toBe(true);
  });
});

describe('log demultiplexing', () => {
  const OUT = [1, 1, 1];
  const ERR = [2, 2, 2];
  const frame = (...parts: Array<number[] | string>) =>
    new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...bytes(p)] : p)));

  it('routes bytes by marker, also when a marker is split across frames', () => {
    const demux = new LogDemux();
    const got: Array<[string, string]> = [];
    const feed = (f: Uint8Array) => {
      for (const piece of demux.push(f)) got.push([piece.stream, text(piece.bytes)]);
    };
    feed(frame('dropped', OUT, 'out1\n', [2]));
    feed(frame([2, 2], 'err1\n', [1, 1]));
    feed(frame([1], 'out2\n'));
    expect(got).toEqual([
      ['stdout', 'out1\n'],
      ['stderr', 'err1\n'],
      ['stdout', 'out2\n'],
    ]);
  });

  it('keeps single marker bytes that are not a marker as output', () => {
    const demux = new LogDemux();
    const pieces = demux.push(frame(OUT, 'a', [1], 'b', [1, 1], 'c'));
    expect(pieces.map((p) => text(p.bytes)).join('')).toBe('a\u0001b\u0001\u0001c');
    expect(demux.push(frame(ERR)).length).toBe(0);
  });
});
