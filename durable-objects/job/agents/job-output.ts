/**
 * An agent job's stdout as its Job DO reads it: each stored chunk goes through the job's adapter,
 * which yields typed events (stored next to the raw output) and updates the agent fields of the
 * job's state. A command job, and stderr, are left alone.
 */
import type { JobState } from '../state.ts';
import { adapterFor } from './index.ts';
import { endOutput, readOutput, type AgentFields } from './run.ts';
import type { AgentEvent, AgentSettings, AgentVerdict, EnvValue } from './types.ts';

/** The state after `text` (stdout, as stored) and the agent events it held. */
export function readAgentStdout(
  state: JobState,
  text: string,
): { state: JobState; events: AgentEvent[] } {
  const fields = agentFields(state);
  if (fields === null || state.agent === null) return { state, events: [] };
  const read = readOutput(adapterFor(state.agent.cli), fields, text);
  return { state: { ...state, ...read.fields }, events: read.events };
}

/** The state once stdout ended, and the events of a last line that had no newline. */
export function endAgentStdout(state: JobState): { state: JobState; events: AgentEvent[] } {
  const fields = agentFields(state);
  if (fields === null || state.agent === null) return { state, events: [] };
  const read = endOutput(adapterFor(state.agent.cli), fields);
  return { state: { ...state, ...read.fields }, events: read.events };
}

/**
 * The environment the job's command starts with: the job's `env`, and for an agent job the
 * adapter's variables over it (the prompt, the API key's secret unless `env` names one, the
 * endpoint and fixed CLI settings: these names win).
 */
export function commandEnv(state: JobState, settings: AgentSettings): Record<string, EnvValue> {
  if (state.agent === null) return state.env;
  const agentEnv = adapterFor(state.agent.cli).env(state.agent, settings, state.env);
  return { ...state.env, ...agentEnv };
}

/** How an agent job ends once its CLI exited with `exitCode`; null for a command job. */
export function agentVerdict(state: JobState, exitCode: number): AgentVerdict | null {
  if (state.agent === null || state.agentRun === null) return null;
  return adapterFor(state.agent.cli).verdict(state.agentRun.outcome, exitCode, state.agentResult);
}

/** Set when the agent's output showed that the run cannot succeed: the job should end now. */
export function agentStop(state: JobState): AgentVerdict | null {
  const stop = state.agentRun?.stop ?? null;
  return stop === null ? null : { status: 'failed', ...stop };
}

function agentFields(state: JobState): AgentFields | null {
  if (state.agentRun === null) return null;
  return { agentRun: state.agentRun, agentUsage: state.agentUsage, agentResult: state.agentResult };
}
