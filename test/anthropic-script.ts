/**
 * The conversation test/anthropic-stand-in.ts scripts, shared with the tests that check it (in
 * workerd, which cannot load the stand-in's Node modules): the keys it accepts, the tool call it
 * asks for, the final text, and the tokens each answer reports.
 */

/** API keys that start with this are accepted. */
export const GOOD_KEY_PREFIX = 'sk-ant-stand-in-good-';

/** The tokens each answer reports: the first turn (the tool call) and the second (the text). */
export const TURN_USAGE = {
  toolCall: { input: 120, output: 24, cacheRead: 0, cacheWrite: 1000 },
  finalText: { input: 140, output: 16, cacheRead: 1000, cacheWrite: 60 },
  /** A request that is not the conversation (a side call the CLI makes, e.g. for a title). */
  other: { input: 30, output: 5, cacheRead: 0, cacheWrite: 0 },
} as const;

/** The Bash command the model asks to run, unless the prompt asks for another (RUN_PATTERN). */
export const TOOL_COMMAND = 'cat README.md';
/** `RUN[touch x]` in the prompt makes the model ask for `touch x` instead. */
export const RUN_PATTERN = /RUN\[([^\]]+)\]/;
/**
 * `HEAVY[2000000]` in the prompt makes the tool-call turn report that many input tokens, so that
 * a budget is crossed by tokens while the tool (say `RUN[sleep 120]`) still runs.
 */
export const HEAVY_PATTERN = /HEAVY\[(\d+)\]/;
/** The final text starts with this, then the first line the tool printed. */
export const FINAL_TEXT_PREFIX = 'The README begins with: ';
