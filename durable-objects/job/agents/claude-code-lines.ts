/**
 * The lines Claude Code prints with `--output-format stream-json --verbose`, one JSON object per
 * line (see test/fixtures/claude-code/): zod schemas of the fields Omni reads, and their mapping
 * onto typed agent events. Schemas are loose: fields the CLI adds later are ignored; a line of a
 * known type whose fields do not match is kept as an `other` event, never dropped.
 */
import { z } from 'zod';
import { clip, MAX_EVENT_TEXT_CHARS, MAX_TOOL_CHARS } from './bounds.ts';
import type { AgentEvent, AgentUsage, FinalReport, ParsedLine, UsageObservation } from './types.ts';

const optionalString = z.string().nullish();
const optionalNumber = z.number().nullish();

const lineSchema = z.object({ type: z.string(), subtype: z.unknown().optional() });

const initSchema = z.object({
  session_id: optionalString,
  model: optionalString,
  tools: z.array(z.string()).nullish(),
  permissionMode: optionalString,
  claude_code_version: optionalString,
});

const apiRetrySchema = z.object({
  attempt: optionalNumber,
  max_retries: optionalNumber,
  retry_delay_ms: optionalNumber,
  error_status: optionalNumber,
  error: optionalString,
});

const blockSchema = z.object({ type: z.string() });
const textBlockSchema = z.object({ type: z.literal('text'), text: z.string() });
const toolUseBlockSchema = z.object({
  type: z.literal('tool_use'),
  id: optionalString,
  name: z.string(),
  input: z.unknown(),
});
const toolResultBlockSchema = z.object({
  type: z.literal('tool_result'),
  tool_use_id: optionalString,
  content: z.union([z.string(), z.array(blockSchema.loose())]).nullish(),
  is_error: z.boolean().nullish(),
});

const tokens = z.number().int().nonnegative();
const usageSchema = z.object({
  input_tokens: tokens.default(0),
  output_tokens: tokens.default(0),
  cache_read_input_tokens: tokens.nullish(),
  cache_creation_input_tokens: tokens.nullish(),
});

const assistantSchema = z.object({
  message: z.object({
    id: optionalString,
    model: optionalString,
    content: z.array(blockSchema.loose()),
    usage: usageSchema.nullish(),
  }),
});

const userSchema = z.object({
  message: z.object({ content: z.union([z.string(), z.array(blockSchema.loose())]) }),
});

const modelUsageSchema = z.object({
  inputTokens: tokens.default(0),
  outputTokens: tokens.default(0),
  cacheReadInputTokens: tokens.default(0),
  cacheCreationInputTokens: tokens.default(0),
  costUSD: z.number().nonnegative().default(0),
});

const resultSchema = z.object({
  subtype: z.string(),
  is_error: z.boolean(),
  result: optionalString,
  num_turns: optionalNumber,
  duration_ms: optionalNumber,
  total_cost_usd: optionalNumber,
  terminal_reason: optionalString,
  api_error_status: optionalNumber,
  permission_denials: z.array(z.unknown()).nullish(),
  modelUsage: z.record(z.string(), modelUsageSchema).nullish(),
});

/** The model name the CLI uses for messages it made up itself (an API error shown as text). */
const SYNTHETIC_MODEL = '<synthetic>';

/** The meaning of one stdout line of Claude Code, or null if it is not one of its JSON lines. */
export function parseClaudeLine(line: string): ParsedLine | null {
  if (line.trim() === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return null;
  }
  const head = lineSchema.safeParse(json);
  if (!head.success) return null;
  const type = head.data.type;
  const subtype = typeof head.data.subtype === 'string' ? head.data.subtype : undefined;
  const parsed = known(type, subtype, json);
  return parsed ?? { events: [other(type, subtype, line)], usage: null, final: null };
}

/** A line of a type this adapter reads, or null if the type is unknown or its fields do not fit. */
function known(type: string, subtype: string | undefined, json: unknown): ParsedLine | null {
  const only = (event: AgentEvent): ParsedLine => ({ events: [event], usage: null, final: null });
  if (type === 'system' && subtype === 'init') {
    const init = initSchema.safeParse(json);
    if (!init.success) return null;
    const d = init.data;
    return only({
      kind: 'session_start',
      session_id: d.session_id ?? null,
      model: d.model ?? null,
      tools: d.tools ?? [],
      permission_mode: d.permissionMode ?? null,
      version: d.claude_code_version ?? null,
    });
  }
  if (type === 'system' && subtype === 'api_retry') {
    const retry = apiRetrySchema.safeParse(json);
    if (!retry.success) return null;
    const d = retry.data;
    return only({
      kind: 'api_retry',
      attempt: d.attempt ?? null,
      max_retries: d.max_retries ?? null,
      retry_delay_ms: d.retry_delay_ms ?? null,
      error_status: d.error_status ?? null,
      error: d.error ?? null,
    });
  }
  if (type === 'assistant') return assistant(json);
  if (type === 'user') return user(json);
  if (type === 'result') return result(json);
  return null;
}

function assistant(json: unknown): ParsedLine | null {
  const parsed = assistantSchema.safeParse(json);
  if (!parsed.success) return null;
  const message = parsed.data.message;
  const messageId = message.id ?? null;
  const events = message.content.map((block): AgentEvent => {
    const text = textBlockSchema.safeParse(block);
    if (text.success) {
      const cut = clip(text.data.text, MAX_EVENT_TEXT_CHARS);
      return { kind: 'text', message_id: messageId, text: cut.text, truncated: cut.truncated };
    }
    const tool = toolUseBlockSchema.safeParse(block);
    if (tool.success) {
      const input = boundedJson(tool.data.input);
      return {
        kind: 'tool_call',
        message_id: messageId,
        tool_use_id: tool.data.id ?? null,
        name: tool.data.name,
        ...input,
      };
    }
    return other('assistant', block.type, JSON.stringify(block));
  });
  const usage = message.usage;
  const model = message.model;
  const observation: UsageObservation | null =
    usage && model && messageId && model !== SYNTHETIC_MODEL
      ? {
          messageId,
          model,
          counts: {
            inputTokens: usage.input_tokens,
            outputTokens: usage.output_tokens,
            cacheReadTokens: usage.cache_read_input_tokens ?? 0,
            cacheWriteTokens: usage.cache_creation_input_tokens ?? 0,
          },
        }
      : null;
  return { events, usage: observation, final: null };
}

function user(json: unknown): ParsedLine | null {
  const parsed = userSchema.safeParse(json);
  if (!parsed.success) return null;
  const content = parsed.data.message.content;
  const blocks = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  const events = blocks.map((block): AgentEvent => {
    const tool = toolResultBlockSchema.safeParse(block);
    if (!tool.success) return other('user', block.type, JSON.stringify(block));
    const cut = clip(resultText(tool.data.content), MAX_TOOL_CHARS);
    return {
      kind: 'tool_result',
      tool_use_id: tool.data.tool_use_id ?? null,
      content: cut.text,
      is_error: tool.data.is_error ?? false,
      truncated: cut.truncated,
    };
  });
  return { events, usage: null, final: null };
}

function result(json: unknown): ParsedLine | null {
  const parsed = resultSchema.safeParse(json);
  if (!parsed.success) return null;
  const d = parsed.data;
  const text = d.result ?? null;
  const cut = text === null ? null : clip(text, MAX_EVENT_TEXT_CHARS);
  const denials = d.permission_denials?.length ?? 0;
  const final: FinalReport = {
    outcome: {
      subtype: d.subtype,
      isError: d.is_error,
      terminalReason: d.terminal_reason ?? null,
      apiErrorStatus: d.api_error_status ?? null,
      numTurns: d.num_turns ?? null,
      durationMs: d.duration_ms ?? null,
      totalCostUsd: d.total_cost_usd ?? null,
      permissionDenials: denials,
    },
    text,
    usage: d.modelUsage ? usageOf(d.modelUsage) : null,
  };
  const event: AgentEvent = {
    kind: 'result',
    subtype: d.subtype,
    is_error: d.is_error,
    result: cut?.text ?? null,
    truncated: cut?.truncated ?? false,
    num_turns: d.num_turns ?? null,
    duration_ms: d.duration_ms ?? null,
    total_cost_usd: d.total_cost_usd ?? null,
    terminal_reason: d.terminal_reason ?? null,
    api_error_status: d.api_error_status ?? null,
    permission_denials: denials,
  };
  return { events: [event], usage: null, final };
}

/** `modelUsage` of a result line: every API call of the run, per model (what was billed). */
function usageOf(modelUsage: Record<string, z.infer<typeof modelUsageSchema>>): AgentUsage {
  const usage: AgentUsage = {};
  for (const [model, m] of Object.entries(modelUsage)) {
    usage[model] = {
      inputTokens: m.inputTokens,
      outputTokens: m.outputTokens,
      cacheReadTokens: m.cacheReadInputTokens,
      cacheWriteTokens: m.cacheCreationInputTokens,
      reportedCostMicroUsd: Math.round(m.costUSD * 1_000_000),
    };
  }
  return usage;
}

/** A tool result's content as text: its text blocks joined, other blocks named by their type. */
function resultText(content: z.infer<typeof toolResultBlockSchema>['content']): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((block) => {
      const text = textBlockSchema.safeParse(block);
      return text.success ? text.data.text : `[${block.type}]`;
    })
    .join('\n');
}

/** A tool's input as JSON text, bounded. */
function boundedJson(input: unknown): { input: string; truncated: boolean } {
  const cut = clip(JSON.stringify(input ?? null), MAX_TOOL_CHARS);
  return { input: cut.text, truncated: cut.truncated };
}

/** A line (or content block) kept as it is, its JSON text bounded. */
function other(type: string, subtype: string | undefined, raw: string): AgentEvent {
  const cut = clip(raw, MAX_TOOL_CHARS);
  return { kind: 'other', type, subtype: subtype ?? null, raw: cut.text, truncated: cut.truncated };
}
