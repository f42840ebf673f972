/**
 * Masking of secret values in a job's output, the way CI systems do it: every occurrence of a
 * secret value the job's command received is replaced by `***` before the output is stored or
 * sent to a watcher. Output arrives in pieces, so a value may be split across two of them: the
 * end of a piece that could be the start of a value is held back (at most the longest value's
 * length − 1 bytes) until the next piece shows whether it is, or the command ends. Nothing here
 * keeps state: what is held back stays with the caller (the log follower keeps it with its other
 * unstored bytes), so an eviction loses nothing and repeats nothing.
 *
 * Values shorter than MIN_MASKED_BYTES are not masked: a value of one to three characters would
 * turn ordinary output into `***` everywhere, and it is no secret worth the name (docs/secrets.md).
 */

/** Values shorter than this (in UTF-8 bytes) are not masked. */
export const MIN_MASKED_BYTES = 4;

/** What a secret value in the output is replaced with. */
export const MASK = '***';

const MASK_BYTES = new TextEncoder().encode(MASK);

/** One value to mask and its KMP failure table (longest proper prefix that is also a suffix). */
interface Pattern {
  bytes: Uint8Array;
  failure: Int32Array;
}

/** What masking a piece of output gave. */
export interface Masked {
  /** The output to store, with every secret value replaced by `***`. */
  output: Uint8Array;
  /** How many bytes of the input `output` stands for; the rest must be offered again later. */
  consumed: number;
}

function failureTable(bytes: Uint8Array): Int32Array {
  const failure = new Int32Array(bytes.length);
  let k = 0;
  for (let i = 1; i < bytes.length; i++) {
    while (k > 0 && bytes[i] !== bytes[k]) k = failure[k - 1] ?? 0;
    if (bytes[i] === bytes[k]) k++;
    failure[i] = k;
  }
  return failure;
}

/**
 * Scans `input` for `pattern`: the end positions of its occurrences, and how many bytes at the
 * end of the input are a proper prefix of it (what may continue in the next piece).
 */
function scan(pattern: Pattern, input: Uint8Array): { ends: number[]; open: number } {
  const { bytes, failure } = pattern;
  const ends: number[] = [];
  let k = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i];
    while (k > 0 && byte !== bytes[k]) k = failure[k - 1] ?? 0;
    if (byte === bytes[k]) k++;
    if (k === bytes.length) {
      ends.push(i + 1);
      k = failure[k - 1] ?? 0;
    }
  }
  return { ends, open: k };
}

/** Replaces a job's secret values in its output (see the file comment). */
export class OutputMasker {
  /** A masker with nothing to mask: output passes unchanged. */
  static readonly none = new OutputMasker([]);

  private readonly patterns: Pattern[];

  /** Masks every value of `values` of at least MIN_MASKED_BYTES. */
  constructor(values: readonly string[]) {
    const encoder = new TextEncoder();
    const unique = new Set(values);
    this.patterns = [...unique]
      .map((value) => encoder.encode(value))
      .filter((bytes) => bytes.length >= MIN_MASKED_BYTES)
      .map((bytes) => ({ bytes, failure: failureTable(bytes) }));
  }

  /** True when some value is masked. */
  get active(): boolean {
    return this.patterns.length > 0;
  }

  /**
   * Masks `input`, the next output of one stream after everything consumed before. Unless
   * `final` (the command has ended), a tail that may be the start of a value is not consumed:
   * offer it again, followed by the next output. Occurrences that overlap are masked as one.
   */
  mask(input: Uint8Array, final: boolean): Masked {
    if (!this.active) return { output: input, consumed: input.length };
    const spans: Array<[number, number]> = [];
    let open = 0;
    for (const pattern of this.patterns) {
      const found = scan(pattern, input);
      for (const end of found.ends) spans.push([end - pattern.bytes.length, end]);
      open = Math.max(open, found.open);
    }
    let cut = final ? input.length : input.length - open;
    spans.sort((a, b) => a[0] - b[0]);
    // Merged spans; one that starts before the cut is masked whole, so the cut moves past it
    // (and past every span that overlaps it in turn).
    const merged: Array<[number, number]> = [];
    for (const [start, end] of spans) {
      if (start >= cut) break;
      const last = merged.at(-1);
      if (last && start <= last[1]) last[1] = Math.max(last[1], end);
      else merged.push([start, end]);
      cut = Math.max(cut, end);
    }
    if (merged.length === 0) return { output: input.slice(0, cut), consumed: cut };
    const pieces: Uint8Array[] = [];
    let at = 0;
    for (const [start, end] of merged) {
      pieces.push(input.subarray(at, start), MASK_BYTES);
      at = end;
    }
    pieces.push(input.subarray(at, cut));
    const output = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
    let offset = 0;
    for (const piece of pieces) {
      output.set(piece, offset);
      offset += piece.length;
    }
    return { output, consumed: cut };
  }
}
