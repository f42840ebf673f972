/**
 * What every agent adapter shares: the agent a job asks for (AgentSpec), the typed events parsed
 * from the CLI's output as they are stored in the job's log, token usage per model, and the
 * interface an adapter implements. Claude Code (claude-code.ts) is the only adapter now; another
 * CLI is a new file implementing AgentAdapter, without changes to the Job DO.
 */
import { z } from 'zod';
import type { EnvValue } from '../../../worker/domain/env.ts';
import type { JobErrorCode } from '../../../worker/domain/jobs.ts';

/** The agent CLIs Omni can run. */
export const agentClis = ['claude-code'] as const;
export type AgentCli = (typeof agentClis)[number];

export const agentSpecSchema = z.object({
  cli: z.enum(agentClis).default('claude-code'),
  prompt: z.string(),
  model: z.string().nullable(),
  maxTurns: z.number().int().positive().nullable(),
  allowedTools: z.array(z.string()).nullable(),
  maxBudgetUsd: z.number().positive().nullable(),
});

/** The agent a job runs, as the request gave it (`agent` of POST /v1/jobs, in camel case). */
export type AgentSpec = z.infer<typeof agentSpecSchema>;

const tokenCount = z.number().int().nonnegative();
export const tokenCountsSchema = z.object({
  inputTokens: tokenCount,
  outputTokens: tokenCount,
  cacheReadTokens: tokenCount,
  cacheWriteTokens: tokenCount,
});
export type TokenCounts = z.infer<typeof tokenCountsSchema>;

export const modelUsageSchema = tokenCountsSchema.extend({
  /** What the CLI itself said this cost, at its own list prices (0 until its result line). */
  reportedCostMicroUsd: z.number().int().nonnegative(),
});
export type ModelUsage = z.infer<typeof modelUsageSchema>;

/** Tokens per model name, as the CLI names the model. */
export const agentUsageSchema = z.record(z.string(), modelUsageSchema);
export type AgentUsage = z.infer<typeof agentUsageSchema>;

/** How the agent's run ended, from its result line. */
export const agentOutcomeSchema = z.object({
  subtype: z.string(),
  isError: z.boolean(),
  terminalReason: z.string().nullable(),
  apiErrorStatus: z.number().int().nullable(),
  numTurns: z.number().int().nullable(),
  durationMs: z.number().nullable(),
  totalCostUsd: z.number().nullable(),
  permissionDenials: z.number().int().nonnegative(),
});
export type AgentOutcome = z.infer<typeof agentOutcomeSchema>;

const nullableString = z.string().nullable();

/** The kinds of typed agent event, one per member of agentEventSchema. */
export const agentEventKinds = [
  'session_start',
  'text',
  'tool_call',
  'tool_result',
  'api_retry',
  'result',
  'other',
] as const;

/** One typed agent event as the job's log stores it (the `agent` field of an `agent` event). */
export const agentEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('session_start'),
    session_id: nullableString,
    model: nullableString,
    tools: z.array(z.string()),
    permission_mode: nullableString,
    version: nullableString,
  }),
  z.strictObject({
    kind: z.literal('text'),
    message_id: nullableString,
    text: z.string(),
    truncated: z.boolean(),
  }),
  z.strictObject({
    kind: z.literal('tool_call'),
    message_id: nullableString,
    tool_use_id: nullableString,
    name: z.string(),
    /** The tool's input as JSON text, cut to a prefix when too long (then `truncated`). */
    input: z.string(),
    truncated: z.boolean(),
  }),
  z.strictObject({
    kind: z.literal('tool_result'),
    tool_use_id: nullableString,
    content: z.string(),
    is_error: z.boolean(),
    truncated: z.boolean(),
  }),
  z.strictObject({
    kind: z.literal('api_retry'),
    attempt: z.number().nullable(),
    max_retries: z.number().nullable(),
    retry_delay_ms: z.number().nullable(),
    error_status: z.number().nullable(),
    error: nullableString,
  }),
  z.strictObject({
    kind: z.literal('result'),
    subtype: z.string(),
    is_error: z.boolean(),
    result: nullableString,
    truncated: z.boolean(),
    num_turns: z.number().nullable(),
    duration_ms: z.number().nullable(),
    total_cost_usd: z.number().nullable(),
    terminal_reason: nullableString,
    api_error_status: z.number().nullable(),
    permission_denials: z.number(),
  }),
  /** A line of a type (or shape) the adapter does not know: kept, with its JSON text. */
  z.strictObject({
    kind: z.literal('other'),
    type: z.string(),
    subtype: nullableString,
    raw: z.string(),
    truncated: z.boolean(),
  }),
]);
export type AgentEvent = z.infer<typeof agentEventSchema>;

/** Tokens one API message used so far (the CLI repeats a message's usage on each of its lines). */
export interface UsageObservation {
  messageId: string;
  model: string;
  counts: TokenCounts;
}

/** What the CLI's final line says. */
export interface FinalReport {
  outcome: AgentOutcome;
  /** The agent's final text, if it gave one. */
  text: string | null;
  /** Tokens and reported cost per model over every API call of the run, if the CLI gave them. */
  usage: AgentUsage | null;
}

/** What one line of the CLI's stdout means. */
export interface ParsedLine {
  events: AgentEvent[];
  usage: UsageObservation | null;
  final: FinalReport | null;
}

/** How a job ends, as far as the agent decides it. */
export interface AgentVerdict {
  status: 'succeeded' | 'failed';
  errorCode: JobErrorCode | null;
  errorMessage: string | null;
}

/** Settings of the service that shape every agent's run (from the Worker's configuration). */
export interface AgentSettings {
  /** Where the CLI sends its API calls; null for the vendor's default endpoint. */
  anthropicBaseUrl: string | null;
}

/** A literal value, or a reference to one of the tenant's secrets (a job's `env`). */
export type { EnvValue } from '../../../worker/domain/env.ts';

/** How to start the agent: the shell line, and what its environment must hold. */
export interface AgentInvocation {
  command: string;
  env: Record<string, EnvValue>;
}

/** One agent CLI: how to start it, read its output, judge its end. */
export interface AgentAdapter {
  readonly cli: AgentCli;
  /** The shell line that runs the agent (the same for a spec whatever the settings). */
  command(spec: AgentSpec): string;
  /**
   * The agent's environment: the prompt and fixed settings, and the secret references it needs
   * unless `jobEnv` already names them. Merged over the job's own env (these names win).
   */
  env(
    spec: AgentSpec,
    settings: AgentSettings,
    jobEnv: Record<string, EnvValue>,
  ): AgentInvocation['env'];
  /** The meaning of one complete stdout line, or null if it is not the CLI's (raw output only). */
  parseLine(line: string): ParsedLine | null;
  /** An event after which the run cannot succeed and should end now (e.g. a rejected key). */
  fatal(event: AgentEvent): AgentVerdict | null;
  /** How the job ends once the CLI exited: from its result line (and final text), or without one. */
  verdict(outcome: AgentOutcome | null, exitCode: number, text: string | null): AgentVerdict;
}
