/**
 * The agent adapters by CLI name, and what the rest of the job code asks of an agent job: its
 * shell line, its environment, its reading of stdout and its verdict. Claude Code is the only
 * adapter now (claude-code.ts).
 */
import { claudeCode } from './claude-code.ts';
import type { AgentAdapter, AgentCli } from './types.ts';

const adapters: Record<AgentCli, AgentAdapter> = { 'claude-code': claudeCode };

/** The adapter of `cli`. */
export function adapterFor(cli: AgentCli): AgentAdapter {
  return adapters[cli];
}
