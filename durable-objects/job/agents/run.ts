/**
 * An agent job's reading of its CLI's stdout, kept in the job's state between chunks: the line
 * buffer, the session, token usage, the final text and the outcome. Pure: readOutput() takes the
 * fields and a chunk of text and returns the new fields and the typed events to store.
 *
 * Usage is a running estimate while the agent works: the CLI prints each content block of a
 * message as its own line, repeating the message's usage so far, so only the latest usage per
 * message id counts (never a sum over its lines). The result line's per-model totals (every API
 * call of the run) replace the estimate at the end.
 */
import { z } from 'zod';
import { jobErrorCodes } from '../../../worker/domain/jobs.ts';
import { clip, MAX_RESULT_CHARS } from './bounds.ts';
import { emptyLineBuffer, lastLine, lineBufferSchema, takeLines } from './ndjson.ts';
import {
  agentOutcomeSchema,
  agentUsageSchema,
  tokenCountsSchema,
  type AgentAdapter,
  type AgentEvent,
  type AgentUsage,
  type ParsedLine,
  type TokenCounts,
} from './types.ts';

/** Messages whose usage may still change; older ones are folded into `settled`. */
const OPEN_MESSAGES = 16;

export const agentRunSchema = z.object({
  lines: lineBufferSchema,
  sessionId: z.string().nullable(),
  /** The latest usage of the most recent messages, oldest first. */
  messages: z.array(z.object({ id: z.string(), model: z.string(), counts: tokenCountsSchema })),
  /** Usage of the messages folded out of `messages`. */
  settled: agentUsageSchema,
  /** Set once the result line was read: the estimate is final then. */
  outcome: agentOutcomeSchema.nullable(),
  /** Set when the run can no longer succeed and the job should end now. */
  stop: z.object({ errorCode: z.enum(jobErrorCodes), errorMessage: z.string() }).nullable(),
});
export type AgentRun = z.infer<typeof agentRunSchema>;

/** The agent fields of a job's state. */
export interface AgentFields {
  agentRun: AgentRun;
  agentUsage: AgentUsage;
  agentResult: string | null;
}

export const emptyAgentRun: AgentRun = {
  lines: emptyLineBuffer,
  sessionId: null,
  messages: [],
  settled: {},
  outcome: null,
  stop: null,
};

/** Reads a chunk of the CLI's stdout: the fields after it, and the typed events it held. */
export function readOutput(
  adapter: AgentAdapter,
  fields: AgentFields,
  text: string,
): { fields: AgentFields; events: AgentEvent[] } {
  const { lines, buffer } = takeLines(fields.agentRun.lines, text);
  let next: AgentFields = { ...fields, agentRun: { ...fields.agentRun, lines: buffer } };
  const events: AgentEvent[] = [];
  for (const line of lines) {
    const parsed = adapter.parseLine(line);
    if (parsed === null) continue;
    next = apply(adapter, next, parsed);
    events.push(...parsed.events);
  }
  return { fields: next, events };
}

/** Reads what is left in the line buffer once the output ended (a last line without newline). */
export function endOutput(
  adapter: AgentAdapter,
  fields: AgentFields,
): { fields: AgentFields; events: AgentEvent[] } {
  const line = lastLine(fields.agentRun.lines);
  const cleared: AgentFields = {
    ...fields,
    agentRun: { ...fields.agentRun, lines: emptyLineBuffer },
  };
  const parsed = line === null ? null : adapter.parseLine(line);
  if (parsed === null) return { fields: cleared, events: [] };
  return { fields: apply(adapter, cleared, parsed), events: parsed.events };
}

function apply(adapter: AgentAdapter, fields: AgentFields, parsed: ParsedLine): AgentFields {
  let run = fields.agentRun;
  let { agentUsage, agentResult } = fields;
  for (const event of parsed.events) {
    if (event.kind === 'session_start' && event.session_id !== null) {
      run = { ...run, sessionId: event.session_id };
    }
    const stop = run.stop ?? adapter.fatal(event);
    if (stop !== null && stop.errorCode !== null && stop.errorMessage !== null) {
      run = { ...run, stop: { errorCode: stop.errorCode, errorMessage: stop.errorMessage } };
    }
  }
  if (parsed.usage !== null && run.outcome === null) {
    const observed = parsed.usage;
    const open = run.messages.filter((m) => m.id !== observed.messageId);
    open.push({ id: observed.messageId, model: observed.model, counts: observed.counts });
    let settled = run.settled;
    while (open.length > OPEN_MESSAGES) {
      const oldest = open.shift();
      if (oldest) settled = addCounts(settled, oldest.model, oldest.counts);
    }
    run = { ...run, messages: open, settled };
    agentUsage = open.reduce((sum, m) => addCounts(sum, m.model, m.counts), settled);
  }
  if (parsed.final !== null) {
    const final = parsed.final;
    run = { ...run, outcome: final.outcome };
    if (final.usage !== null) agentUsage = final.usage;
    agentResult = final.text === null ? null : clip(final.text, MAX_RESULT_CHARS).text;
  }
  return { agentRun: run, agentUsage, agentResult };
}

function addCounts(usage: AgentUsage, model: string, counts: TokenCounts): AgentUsage {
  const before = usage[model] ?? {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reportedCostMicroUsd: 0,
  };
  return {
    ...usage,
    [model]: {
      inputTokens: before.inputTokens + counts.inputTokens,
      outputTokens: before.outputTokens + counts.outputTokens,
      cacheReadTokens: before.cacheReadTokens + counts.cacheReadTokens,
      cacheWriteTokens: before.cacheWriteTokens + counts.cacheWriteTokens,
      reportedCostMicroUsd: before.reportedCostMicroUsd,
    },
  };
}
