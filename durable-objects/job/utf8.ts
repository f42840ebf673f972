/**
 * UTF-8 at byte level, so that output is counted, capped and split in bytes without ever cutting
 * a character in two: a sequence split across log frames waits for its last byte, and events and
 * the output cap end on character boundaries.
 */

/** How many bytes a sequence starting with `lead` has, or 0 if `lead` cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

const isContinuation = (byte: number) => (byte & 0xc0) === 0x80;

/**
 * The longest prefix of `bytes` (at most `max` long) that does not end inside a character. A
 * malformed sequence counts as complete (it decodes to U+FFFD), so nothing is held back forever.
 */
export function completePrefix(bytes: Uint8Array, max = bytes.length): number {
  const end = Math.min(max, bytes.length);
  // A character is at most 4 bytes: only the last 3 bytes before `end` can start an unfinished one.
  for (let i = end - 1; i >= Math.max(0, end - 3); i--) {
    const byte = bytes[i] ?? 0;
    if (isContinuation(byte)) continue;
    const length = sequenceLength(byte);
    return length > 1 && i + length > end ? i : end;
  }
  return end;
}

/** Splits `bytes` into pieces of at most `max` bytes, each ending on a character boundary. */
export function splitOnCharacters(bytes: Uint8Array, max: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  while (start < bytes.length) {
    const rest = bytes.subarray(start);
    // A piece shorter than one character cannot happen for max >= 4; guard anyway.
    const length = completePrefix(rest, max) || Math.min(max, rest.length);
    pieces.push(rest.subarray(0, length));
    start += length;
  }
  return pieces;
}

const decoder = new TextDecoder('utf-8');

/** Decodes complete UTF-8 (malformed bytes become U+FFFD). */
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Joins byte arrays. */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}
