/**
 * The agent part of creating a job: the AgentSpec the request asks for, the agent CLI's shell
 * line (the job's `command`), and the check that the secrets the agent needs exist, so that a
 * job without its API key fails at once, with the name of the secret to set, instead of in its
 * sandbox minutes later.
 */
import { adapterFor } from '../../durable-objects/job/agents/index.ts';
import type { AgentSpec, EnvValue } from '../../durable-objects/job/agents/types.ts';
import { existingSecretNames } from '../db/secrets.ts';
import { ApiError } from '../errors.ts';
import type { CreateJobBody } from '../schemas/jobs.ts';

type AgentBody = NonNullable<CreateJobBody['agent']>;

/** The agent of a request, as the Job DO keeps it. */
export function agentSpecOf(body: AgentBody): AgentSpec {
  return {
    cli: 'claude-code',
    prompt: body.prompt,
    model: body.model ?? null,
    maxTurns: body.max_turns ?? null,
    allowedTools: body.allowed_tools ?? null,
    maxBudgetUsd: body.max_budget_usd ?? null,
  };
}

/** The shell line that runs `agent` (the job's `command`); the prompt is not part of it. */
export function agentCommand(agent: AgentSpec): string {
  return adapterFor(agent.cli).command(agent);
}

/**
 * The secret references the agent adds to the job's `env` (its API key, unless `jobEnv` names
 * that variable itself): they are checked at creation like the job's own.
 */
export function agentSecretRefs(
  agent: AgentSpec,
  jobEnv: Record<string, EnvValue>,
): Record<string, { secret: string }> {
  const env = adapterFor(agent.cli).env(agent, { anthropicBaseUrl: null }, jobEnv);
  const refs: Record<string, { secret: string }> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string' && jobEnv[name] === undefined) refs[name] = value;
  }
  return refs;
}

/**
 * Refuses (400, naming what to set) an agent job whose implicit secret references name secrets
 * the tenant does not have.
 */
export async function requireAgentSecrets(
  d1: D1Database,
  tenantId: string,
  refs: Record<string, { secret: string }>,
): Promise<void> {
  const names = [...new Set(Object.values(refs).map((ref) => ref.secret))];
  const existing = await existingSecretNames(d1, tenantId, names);
  const missing = Object.entries(refs).filter(([, ref]) => !existing.has(ref.secret));
  const first = missing[0];
  if (first === undefined) return;
  const [variable, ref] = first;
  throw new ApiError(
    'invalid_request',
    `The agent needs ${variable}, from the secret ${ref.secret}, which this tenant does not have: set it with PUT /v1/secrets/${ref.secret}, or map ${variable} to another secret in the job's env.`,
    missing.map(([name, value]) => ({
      path: `env.${name}`,
      message: `set the secret ${value.secret} (PUT /v1/secrets/${value.secret}) or name another secret for ${name} in env`,
    })),
  );
}
