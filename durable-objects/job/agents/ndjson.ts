/**
 * Newline-delimited JSON out of a stream of output chunks: a line may arrive split over several
 * chunks (or log frames), so its start waits in a buffer that is kept in the job's state (an
 * evicted Job DO resumes where the stored output ends, mid-line or not). A line longer than
 * MAX_LINE_CHARS is skipped up to its newline: it stays in the raw output, it only yields no
 * typed event, and the buffer (rewritten with the state on every chunk) stays small.
 */
import { z } from 'zod';

/** The longest line parsed, in UTF-16 code units. */
export const MAX_LINE_CHARS = 256 * 1024;

export const lineBufferSchema = z.object({
  /** The start of a line whose newline has not arrived yet. */
  pending: z.string(),
  /** True while the rest of a too-long line is being skipped. */
  skipping: z.boolean(),
});
export type LineBuffer = z.infer<typeof lineBufferSchema>;

export const emptyLineBuffer: LineBuffer = { pending: '', skipping: false };

/** The complete lines `text` ends (CR LF or LF), and the buffer that carries the rest. */
export function takeLines(
  buffer: LineBuffer,
  text: string,
  maxLineChars = MAX_LINE_CHARS,
): { lines: string[]; buffer: LineBuffer } {
  const parts = text.split('\n');
  const last = parts.pop() ?? '';
  const lines: string[] = [];
  let { pending, skipping } = buffer;
  for (const part of parts) {
    if (!skipping && pending.length + part.length <= maxLineChars) {
      lines.push(stripCr(pending + part));
    }
    pending = '';
    skipping = false;
  }
  if (skipping || pending.length + last.length > maxLineChars) {
    return { lines, buffer: { pending: '', skipping: true } };
  }
  return { lines, buffer: { pending: pending + last, skipping: false } };
}

/** The last line, when the output ended without a newline after it (null if there is none). */
export function lastLine(buffer: LineBuffer): string | null {
  if (buffer.skipping || buffer.pending.trim() === '') return null;
  return stripCr(buffer.pending);
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
