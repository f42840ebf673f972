/**
 * Agent jobs end to end: the real Claude Code CLI (the project's pinned devDependency, lent to
 * local-daytona's sandboxes) runs in the job's checkout against the loopback stand-in of the
 * Anthropic API (test/anthropic-stand-in.ts), which scripts one Bash tool call and a final text.
 * Checked: the typed events next to the raw output, the final status and text, the token usage
 * against what the stand-in sent, the key never in the log; a bad key ends the job at once; a
 * job without its key, or with both or neither of `command` and `agent`, is refused at creation.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  FINAL_TEXT_PREFIX,
  GOOD_KEY_PREFIX,
  TOOL_COMMAND,
  TURN_USAGE,
} from '../anthropic-script.ts';
import { allEvents, api, createJob, newTenant, waitForEnd } from './helpers.ts';
import { send } from './identity-helpers.ts';

const README_FIRST_LINE = '# Sample repository';

const standInStatsSchema = z.object({
  requests: z.number(),
  rejected: z.number(),
  usage: z.record(
    z.string(),
    z.object({
      input: z.number(),
      output: z.number(),
      cacheRead: z.number(),
      cacheWrite: z.number(),
    }),
  ),
});

/** What the stand-in saw of `key`. */
async function standInStats(key: string) {
  const res = await fetch(`${env.ANTHROPIC_BASE_URL}/_usage/${encodeURIComponent(key)}`);
  expect(res.status).toBe(200);
  return standInStatsSchema.parse(await res.json());
}

async function putSecret(owner: string, name: string, value: string): Promise<void> {
  const res = await send('PUT', `/v1/secrets/${name}`, owner, { value });
  expect(res.status, await res.text()).toBe(201);
}

const agentEventSchema = z.looseObject({ kind: z.string() });

/** The `agent` field of each agent event of a job's log, in order. */
function agentEvents(events: Array<Record<string, unknown>>) {
  return events.filter((e) => e['type'] === 'agent').map((e) => agentEventSchema.parse(e['agent']));
}

describe('agent jobs', () => {
  let owner: string;
  beforeAll(async () => {
    ({ apiKey: owner } = await newTenant('owner'));
  });

  it('runs the real CLI through a tool call to success, with typed events, final text and usage', async () => {
    const { apiKey: tenantOwner } = await newTenant('owner');
    const key = `${GOOD_KEY_PREFIX}${crypto.randomUUID()}`;
    await putSecret(tenantOwner, 'ANTHROPIC_API_KEY', key);
    const prompt = "Read the README. $(touch pwned) `id` 'quoted'";
    const job = await createJob(tenantOwner, {
      repo: { url: env.FIXTURE_REPO_URL },
      agent: { prompt, model: 'claude-sonnet-4-5', max_turns: 5 },
    });
    expect(job.kind).toBe('agent');
    expect(job.agent).toMatchObject({ prompt, model: 'claude-sonnet-4-5', max_turns: 5 });
    expect(job.command).toMatch(/^claude -p /);
    expect(job.command).not.toContain('README');

    const ended = await waitForEnd(tenantOwner, job.id);
    expect(ended.error, JSON.stringify(await allEvents(tenantOwner, job.id))).toBeNull();
    expect(ended.status).toBe('succeeded');
    expect(ended.exit_code).toBe(0);
    expect(ended.agent?.result).toBe(FINAL_TEXT_PREFIX + README_FIRST_LINE);
    expect(ended.agent?.outcome).toMatchObject({ subtype: 'success', is_error: false });
    expect(ended.agent?.session_id).toMatch(/^[0-9a-f-]{36}$/);

    const events = await allEvents(tenantOwner, job.id);
    const typed = agentEvents(events);
    expect(typed.map((e) => e.kind)).toEqual([
      'session_start',
      'text',
      'tool_call',
      'tool_result',
      'text',
      'result',
    ]);
    expect(typed[0]).toMatchObject({ model: 'claude-sonnet-4-5' });
    expect(typed[2]).toMatchObject({ name: 'Bash' });
    expect(JSON.parse(String(typed[2]?.['input']))).toMatchObject({ command: TOOL_COMMAND });
    // The tool really ran in the checkout: its result is the README.
    expect(typed[3]).toMatchObject({ is_error: false });
    expect(String(typed[3]?.['content'])).toContain(README_FIRST_LINE);
    // The raw output is kept next to the typed events, and the key appears nowhere.
    expect(events.some((e) => e['type'] === 'stdout')).toBe(true);
    expect(JSON.stringify(events)).not.toContain(key);
    expect(JSON.stringify(ended)).not.toContain(key);
    // The prompt reached the CLI as it was: nothing in it was run by a shell.
    expect(JSON.stringify(events)).not.toContain('pwned');

    // Usage: what the CLI reported is what the stand-in sent, per model.
    const seen = await standInStats(key);
    const sent = seen.usage['claude-sonnet-4-5'];
    expect(sent).toEqual({
      input: TURN_USAGE.toolCall.input + TURN_USAGE.finalText.input,
      output: TURN_USAGE.toolCall.output + TURN_USAGE.finalText.output,
      cacheRead: TURN_USAGE.toolCall.cacheRead + TURN_USAGE.finalText.cacheRead,
      cacheWrite: TURN_USAGE.toolCall.cacheWrite + TURN_USAGE.finalText.cacheWrite,
    });
    expect(Object.keys(ended.agent?.usage ?? {})).toEqual(Object.keys(seen.usage));
    expect(ended.agent?.usage['claude-sonnet-4-5']).toMatchObject({
      input_tokens: sent?.input,
      output_tokens: sent?.output,
      cache_read_tokens: sent?.cacheRead,
      cache_write_tokens: sent?.cacheWrite,
    });
    expect(ended.agent?.usage['claude-sonnet-4-5']?.reported_cost_usd).toBeGreaterThan(0);

    // The ledger prices those tokens with the configured table (vitest.config.ts: claude-sonnet
    // at $3 / $15 / $3.75 / $0.30 per million input / output / cache-write / cache-read tokens).
    const expected = sent
      ? sent.input * 3 + sent.output * 15 + sent.cacheWrite * 3.75 + sent.cacheRead * 0.3
      : NaN;
    await expect
      .poll(async () =>
        env.DB.prepare(
          "SELECT cost_micro_usd AS cost, price_table AS prices FROM usage_ledger WHERE job_id = ? AND item = 'llm' AND model = 'claude-sonnet-4-5'",
        )
          .bind(job.id)
          .first(),
      )
      .toEqual({ cost: Math.round(expected), prices: 'test-prices' });
    const priced = z
      .object({ cost: z.object({ llm_usd: z.number(), input_tokens: z.number() }) })
      .parse(await (await api(`/v1/jobs/${job.id}`, tenantOwner)).json());
    expect(priced.cost.input_tokens).toBe(
      Object.values(seen.usage).reduce((sum, u) => sum + u.input, 0),
    );
    expect(priced.cost.llm_usd).toBeGreaterThanOrEqual(Math.round(expected) / 1e6);
  });

  it('ends a job whose key is refused at the first retry, as agent_api_error', async () => {
    const { apiKey: tenantOwner } = await newTenant('owner');
    const key = `sk-ant-stand-in-bad-${crypto.randomUUID()}`;
    await putSecret(tenantOwner, 'ANTHROPIC_API_KEY', key);
    const job = await createJob(tenantOwner, {
      repo: { url: env.FIXTURE_REPO_URL },
      agent: { prompt: 'Read the README.' },
    });
    const ended = await waitForEnd(tenantOwner, job.id);
    expect(ended.status).toBe('failed');
    expect(ended.error?.code).toBe('agent_api_error');
    expect(ended.error?.message).toContain('401');
    expect(ended.error?.message).toContain('ANTHROPIC_API_KEY');
    // It did not sit out the CLI's retries: it ended on the first one.
    const retries = agentEvents(await allEvents(tenantOwner, job.id)).filter(
      (e) => e.kind === 'api_retry',
    );
    expect(retries.length).toBeLessThanOrEqual(1);
    const seen = await standInStats(key);
    expect(seen.rejected).toBeGreaterThanOrEqual(1);
  });

  it('uses the secret the job env names for ANTHROPIC_API_KEY instead of the default one', async () => {
    const { apiKey: tenantOwner } = await newTenant('owner');
    const key = `${GOOD_KEY_PREFIX}${crypto.randomUUID()}`;
    await putSecret(tenantOwner, 'TEAM_CLAUDE_KEY', key);
    const job = await createJob(tenantOwner, {
      repo: { url: env.FIXTURE_REPO_URL },
      agent: { prompt: 'Read the README.', model: 'claude-sonnet-4-5' },
      env: { ANTHROPIC_API_KEY: { secret: 'TEAM_CLAUDE_KEY' } },
    });
    const ended = await waitForEnd(tenantOwner, job.id);
    expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');
    expect((await standInStats(key)).requests).toBeGreaterThanOrEqual(2);
  });

  it('takes a prompt of the largest size, which reaches the CLI whole', async () => {
    const { apiKey: tenantOwner } = await newTenant('owner');
    await putSecret(tenantOwner, 'ANTHROPIC_API_KEY', `${GOOD_KEY_PREFIX}${crypto.randomUUID()}`);
    // 100 KB of UTF-8, multi-byte characters included: under Linux's 128 KiB for one argument.
    // Its end asks for a command of its own, so the answer shows that the end arrived.
    const head = 'Read the README. é ';
    const tail = ' RUN[echo the-end-arrived]';
    const size = (text: string) => new TextEncoder().encode(text).length;
    const prompt = head + 'x'.repeat(100 * 1024 - size(head) - size(tail)) + tail;
    expect(size(prompt)).toBe(100 * 1024);
    const job = await createJob(tenantOwner, {
      repo: { url: env.FIXTURE_REPO_URL },
      agent: { prompt },
    });
    const ended = await waitForEnd(tenantOwner, job.id);
    expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');
    expect(ended.agent?.prompt).toBe(prompt);
    expect(ended.agent?.result).toBe(FINAL_TEXT_PREFIX + 'the-end-arrived');
  });

  it('runs only the allowed tools: another tool call is denied and counted', async () => {
    const { apiKey: tenantOwner } = await newTenant('owner');
    await putSecret(tenantOwner, 'ANTHROPIC_API_KEY', `${GOOD_KEY_PREFIX}${crypto.randomUUID()}`);
    const run = async (allowed: string[]) => {
      const job = await createJob(tenantOwner, {
        repo: { url: env.FIXTURE_REPO_URL },
        agent: { prompt: 'Make a file. RUN[touch created.txt]', allowed_tools: allowed },
      });
      expect(job.command).toContain("'--permission-mode' 'dontAsk' '--allowedTools'");
      const ended = await waitForEnd(tenantOwner, job.id);
      expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');
      const result = agentEvents(await allEvents(tenantOwner, job.id)).find(
        (e) => e.kind === 'tool_result',
      );
      return { ended, result };
    };
    const denied = await run(['Read']);
    expect(denied.result).toMatchObject({ is_error: true });
    expect(denied.ended.agent?.outcome?.permission_denials).toBe(1);
    const allowed = await run(['Read', 'Bash(touch *)']);
    expect(allowed.result).toMatchObject({ is_error: false });
    expect(allowed.ended.agent?.outcome?.permission_denials).toBe(0);
  });

  it('refuses an agent job when the tenant has no ANTHROPIC_API_KEY secret, naming it', async () => {
    const res = await api('/v1/jobs', owner, {
      method: 'POST',
      body: JSON.stringify({ repo: { url: env.FIXTURE_REPO_URL }, agent: { prompt: 'hi' } }),
    });
    expect(res.status).toBe(400);
    const problem = z
      .object({
        code: z.string(),
        detail: z.string(),
        errors: z.array(z.object({ path: z.string() })),
      })
      .parse(await res.json());
    expect(problem.code).toBe('invalid_request');
    expect(problem.detail).toContain('PUT /v1/secrets/ANTHROPIC_API_KEY');
    expect(problem.errors.map((e) => e.path)).toEqual(['env.ANTHROPIC_API_KEY']);
  });

  it('wants exactly one of command and agent, and a bounded agent', async () => {
    const repo = { url: env.FIXTURE_REPO_URL };
    const bodies = [
      { repo },
      { repo, command: 'true', agent: { prompt: 'hi' } },
      { repo, agent: { prompt: '' } },
      { repo, agent: { prompt: 'x'.repeat(100 * 1024 + 1) } },
      { repo, agent: { prompt: 'hi', max_turns: 0 } },
      { repo, agent: { prompt: 'hi', max_turns: 201 } },
      { repo, agent: { prompt: 'hi', max_budget_usd: 0 } },
      { repo, agent: { prompt: 'hi', max_budget_usd: 1000 } },
      { repo, agent: { prompt: 'hi', allowed_tools: [] } },
      { repo, agent: { prompt: 'hi', allowed_tools: ['Bash; rm -rf /'] } },
      { repo, agent: { prompt: 'hi', model: '--dangerously-skip-permissions' } },
      { repo, agent: { prompt: 'hi', extra: true } },
    ];
    for (const body of bodies) {
      const res = await api('/v1/jobs', owner, { method: 'POST', body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body).slice(0, 200)).toBe(400);
    }
  });
});
