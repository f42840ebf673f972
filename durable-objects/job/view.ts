/**
 * A job as the Job DO answers it: its D1 row, plus what only the DO keeps (an agent job's spec,
 * final text, outcome and usage). Lists, read from D1, have the row alone.
 */
import type { JobRow } from '../../worker/db/schema.ts';
import type { JobEnv } from '../../worker/domain/env.ts';
import type { AgentOutcome, AgentSpec, AgentUsage } from './agents/types.ts';
import { toRow, type JobState } from './state.ts';

/** What an agent job shows of its agent. */
export interface AgentDetails {
  spec: AgentSpec;
  sessionId: string | null;
  /** The agent's final text (bounded), once its CLI reported it. */
  result: string | null;
  outcome: AgentOutcome | null;
  usage: AgentUsage;
}

/** `env` is the job's environment as given (literals and secret names; never a secret's value). */
export type JobView = JobRow & { agent: AgentDetails | null; env: JobEnv };

export function toView(state: JobState): JobView {
  const agent: AgentDetails | null =
    state.agent === null
      ? null
      : {
          spec: state.agent,
          sessionId: state.agentRun?.sessionId ?? null,
          result: state.agentResult,
          outcome: state.agentRun?.outcome ?? null,
          usage: state.agentUsage,
        };
  return { ...toRow(state), agent, env: state.env };
}
