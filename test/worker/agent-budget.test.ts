/**
 * A running agent job is stopped by tokens, not only by sandbox time: the real Claude Code CLI
 * (as in agent-job.test.ts) is scripted by the Anthropic stand-in to report two million input
 * tokens on its tool-call turn, then waits in a long tool call. The job's project has a $1 budget;
 * at the suite's test prices those tokens cost $6 (claude-sonnet, $3 per million input tokens),
 * while a sandbox second costs $0.004, so the budget is crossed by tokens long before sandbox
 * time could cross it, and the job ends `budget_exceeded` while its tool still runs.
 */
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { GOOD_KEY_PREFIX } from '../anthropic-script.ts';
import { createJob, newTenant, waitForEnd } from './helpers.ts';
import { send } from './identity-helpers.ts';

it('stops a running agent job whose tokens cross its project budget', async () => {
  const { apiKey: owner } = await newTenant('owner');
  const secret = await send('PUT', '/v1/secrets/ANTHROPIC_API_KEY', owner, {
    value: `${GOOD_KEY_PREFIX}${crypto.randomUUID()}`,
  });
  expect(secret.status).toBe(201);
  const created = await send('POST', '/v1/projects', owner, {
    name: 'token budget',
    monthly_budget_usd: 1,
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const project = z.object({ id: z.string() }).parse(await created.json());

  const job = await createJob(owner, {
    repo: { url: env.FIXTURE_REPO_URL },
    project: project.id,
    agent: { prompt: 'HEAVY[2000000] RUN[sleep 300]', model: 'claude-sonnet-4-5', max_turns: 3 },
  });
  const ended = await waitForEnd(owner, job.id);
  expect(ended.status).toBe('failed');
  expect(ended.error?.code).toBe('budget_exceeded');
  // Stopped by what the tokens cost, long before the 300 s tool call ended or sandbox time
  // could have reached the budget.
  expect(ended.cost.llm_usd).toBeGreaterThanOrEqual(6);
  expect(ended.cost.sandbox_usd).toBeLessThan(1);
  expect(ended.cost.input_tokens).toBeGreaterThanOrEqual(2_000_000);
});
