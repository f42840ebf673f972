/**
 * Size bounds of what an agent job keeps from its CLI's output: typed events stay small next to
 * the raw output (which holds everything, up to the job's output cap).
 */

/** Assistant text in one `text` event, and the result text in the `result` event. */
export const MAX_EVENT_TEXT_CHARS = 16 * 1024;
/** A tool call's input (its JSON text), a tool result's content, an unknown line's JSON. */
export const MAX_TOOL_CHARS = 4 * 1024;
/** The agent's final text on the job. */
export const MAX_RESULT_CHARS = 64 * 1024;

/**
 * `text` cut to at most `max` UTF-16 code units, never between the two halves of a surrogate
 * pair, and whether it was cut.
 */
export function clip(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return { text: text.slice(0, end), truncated: true };
}
