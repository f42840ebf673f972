/**
 * The Claude Code adapter on the CLI's real output (test/node/fixtures/claude-code/): typed
 * events, usage, final text and verdict; line buffering across chunks, malformed lines, and the
 * shell line that starts the CLI.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MAX_TOOL_CHARS } from '../../durable-objects/job/agents/bounds.ts';
import { claudeCode, PROMPT_VAR } from '../../durable-objects/job/agents/claude-code.ts';
import {
  emptyAgentRun,
  endOutput,
  readOutput,
  type AgentFields,
} from '../../durable-objects/job/agents/run.ts';
import {
  agentEventKinds,
  agentEventSchema,
  type AgentEvent,
  type AgentSpec,
} from '../../durable-objects/job/agents/types.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures', 'claude-code');
const fixture = (name: string) => readFile(path.join(fixtures, name), 'utf8');

const start: AgentFields = { agentRun: emptyAgentRun, agentUsage: {}, agentResult: null };

/** Feeds `chunks` through the adapter as the Job DO does, then ends the output. */
function read(chunks: string[]): { fields: AgentFields; events: AgentEvent[] } {
  let fields = start;
  const events: AgentEvent[] = [];
  for (const chunk of chunks) {
    const step = readOutput(claudeCode, fields, chunk);
    fields = step.fields;
    events.push(...step.events);
  }
  const end = endOutput(claudeCode, fields);
  return { fields: end.fields, events: [...events, ...end.events] };
}

function verdictOf(fields: AgentFields, exitCode: number) {
  return claudeCode.verdict(fields.agentRun.outcome, exitCode, fields.agentResult);
}

/** `text` cut into pieces of `size` characters. */
function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

describe('Claude Code transcripts', () => {
  it('reads a successful run with a tool call: events, final text, usage, verdict', async () => {
    const { fields, events } = read([await fixture('claude-stream-success-tooluse.jsonl')]);
    expect(events.map((e) => e.kind)).toEqual([
      'session_start',
      'text',
      'tool_call',
      'tool_result',
      'text',
      'result',
    ]);
    expect(events[0]).toMatchObject({
      kind: 'session_start',
      session_id: '7d949282-870c-4719-8369-a8f80737e78d',
      model: 'claude-sonnet-5-5',
      version: '2.1.330',
    });
    expect(events[0]?.kind === 'session_start' && events[0].tools).toContain('Bash');
    expect(events[2]).toMatchObject({
      kind: 'tool_call',
      name: 'Bash',
      tool_use_id: 'toolu_01MockBash',
      message_id: 'msg_mock_1',
      truncated: false,
    });
    expect(events[2]?.kind === 'tool_call' && JSON.parse(events[2].input)).toEqual({
      command: 'ls',
      description: 'List files',
    });
    expect(events[3]).toEqual({
      kind: 'tool_result',
      tool_use_id: 'toolu_01MockBash',
      content: 'README.md',
      is_error: false,
      truncated: false,
    });
    expect(events[5]).toMatchObject({ kind: 'result', subtype: 'success', is_error: false });
    expect(fields.agentResult).toBe('The directory contains README.md.');
    expect(fields.agentRun.sessionId).toBe('7d949282-870c-4719-8369-a8f80737e78d');
    // The result line's modelUsage (what was billed) replaces the running estimate.
    expect(fields.agentUsage).toEqual({
      'claude-sonnet-5-5': {
        inputTokens: 24,
        outputTokens: 54,
        cacheReadTokens: 4000,
        cacheWriteTokens: 4150,
        reportedCostMicroUsd: 11363,
      },
    });
    expect(verdictOf(fields, 0)).toEqual({
      status: 'succeeded',
      errorCode: null,
      errorMessage: null,
    });
  });

  it('estimates usage from the latest line of each message, never summing one message', async () => {
    const lines = (await fixture('claude-stream-success-tooluse.jsonl')).split('\n');
    // Everything before the result line: two lines of msg_mock_1, one of msg_mock_2.
    const { fields } = read([lines.slice(0, 5).join('\n') + '\n']);
    expect(fields.agentRun.outcome).toBeNull();
    expect(fields.agentUsage).toEqual({
      'claude-sonnet-5-5': {
        inputTokens: 24,
        outputTokens: 2,
        cacheReadTokens: 4000,
        cacheWriteTokens: 4150,
        reportedCostMicroUsd: 0,
      },
    });
  });

  it('ends a run that used up its turns as agent_max_turns, from the result line', async () => {
    const { fields, events } = read([await fixture('claude-stream-error-max-turns.jsonl')]);
    expect(events.at(-1)).toMatchObject({
      kind: 'result',
      subtype: 'error_max_turns',
      is_error: true,
      terminal_reason: 'max_turns',
    });
    // The CLI exits with 1 here; the result line decides.
    expect(verdictOf(fields, 1)).toMatchObject({ status: 'failed', errorCode: 'agent_max_turns' });
  });

  it('keeps a permission denial (an unknown system line) and still succeeds', async () => {
    const { fields, events } = read([await fixture('claude-stream-permission-denied.jsonl')]);
    expect(events.map((e) => e.kind)).toEqual([
      'session_start',
      'text',
      'tool_call',
      'other',
      'tool_result',
      'text',
      'result',
    ]);
    expect(events[3]).toMatchObject({
      kind: 'other',
      type: 'system',
      subtype: 'permission_denied',
    });
    expect(events[3]?.kind === 'other' && JSON.parse(events[3].raw)).toMatchObject({
      tool_name: 'Bash',
    });
    expect(events[4]).toMatchObject({ kind: 'tool_result', is_error: true });
    expect(fields.agentRun.outcome?.permissionDenials).toBe(1);
    expect(verdictOf(fields, 0).status).toBe('succeeded');
  });

  it('fails a rejected key without retries as agent_api_error, even though the subtype says success', async () => {
    const { fields, events } = read([await fixture('claude-stream-401-noretry.jsonl')]);
    expect(events.map((e) => e.kind)).toEqual(['session_start', 'text', 'result']);
    expect(fields.agentUsage).toEqual({});
    const verdict = verdictOf(fields, 1);
    expect(verdict).toMatchObject({ status: 'failed', errorCode: 'agent_api_error' });
    expect(verdict.errorMessage).toContain('401');
    expect(verdict.errorMessage).toContain('Invalid API key');
  });

  it('asks to stop at the first retry after a 401', async () => {
    const lines = (await fixture('claude-stream-401-with-retries.jsonl')).split('\n');
    const { fields, events } = read([lines.slice(0, 2).join('\n') + '\n']);
    expect(events.map((e) => e.kind)).toEqual(['session_start', 'api_retry']);
    expect(events[1]).toMatchObject({ attempt: 1, max_retries: 10, error_status: 401 });
    expect(fields.agentRun.stop).toMatchObject({ errorCode: 'agent_api_error' });
    expect(fields.agentRun.stop?.errorMessage).toContain('ANTHROPIC_API_KEY');
    // Read to the end, it also ends as agent_api_error.
    const whole = read([lines.join('\n')]);
    expect(whole.events.filter((e) => e.kind === 'api_retry')).toHaveLength(10);
    expect(verdictOf(whole.fields, 1).errorCode).toBe('agent_api_error');
  });

  it('does not stop on a retry of a transient error', () => {
    const retry = JSON.stringify({
      type: 'system',
      subtype: 'api_retry',
      attempt: 1,
      max_retries: 3,
      retry_delay_ms: 500,
      error_status: 529,
      error: 'overloaded',
    });
    expect(read([retry + '\n']).fields.agentRun.stop).toBeNull();
  });

  it('names the budget and other CLI errors by their own codes', () => {
    const end = (subtype: string, extra: object = {}) =>
      read([JSON.stringify({ type: 'result', subtype, is_error: true, ...extra }) + '\n']).fields;
    expect(verdictOf(end('error_max_budget_usd'), 1).errorCode).toBe('agent_max_budget');
    const during = verdictOf(end('error_during_execution', { terminal_reason: 'crashed' }), 1);
    expect(during).toMatchObject({ status: 'failed', errorCode: 'agent_error' });
    expect(during.errorMessage).toContain('error_during_execution (crashed)');
    expect(verdictOf(end('error_from_a_later_cli'), 1).errorCode).toBe('agent_error');
    // An error flagged on a success subtype is no success either.
    expect(verdictOf(end('success'), 0).status).toBe('failed');
  });

  it('fails a run that exited without a result line as agent_no_result', async () => {
    const lines = (await fixture('claude-stream-success-tooluse.jsonl')).split('\n');
    const { fields } = read([lines.slice(0, 3).join('\n') + '\n']);
    expect(verdictOf(fields, 137)).toMatchObject({
      status: 'failed',
      errorCode: 'agent_no_result',
    });
  });
});

describe('the event vocabulary', () => {
  it('lists every kind of agent event the log can hold (the API documents that list)', () => {
    const kinds = agentEventSchema.options.map((option) => option.shape.kind.value);
    expect([...kinds].sort()).toEqual([...agentEventKinds].sort());
  });
});

describe('reading lines across chunks', () => {
  it('gives the same events whatever the chunking, lines split anywhere', async () => {
    const text = await fixture('claude-stream-success-tooluse.jsonl');
    const whole = read([text]);
    for (const size of [1, 7, 64, 1000, 4096]) {
      expect(read(pieces(text, size)), `chunks of ${size}`).toEqual(whole);
    }
  });

  it('reads CRLF lines and a last line without a newline', async () => {
    const text = (await fixture('claude-stream-success-tooluse.jsonl')).trimEnd();
    const crlf = text.split('\n').join('\r\n');
    const { fields, events } = read(pieces(crlf, 333));
    expect(events.at(-1)?.kind).toBe('result');
    expect(verdictOf(fields, 0).status).toBe('succeeded');
  });

  it('keeps malformed and foreign lines as raw output only; unknown types as `other`', () => {
    const lines = [
      'not json at all',
      '{"type":"assistant","message":',
      '[1,2,3]',
      '"a string"',
      '{"no_type":true}',
      '',
      '{"type":"stream_event","event":{"type":"ping"}}',
      '{"type":"result","subtype":7}',
    ];
    const { fields, events } = read([lines.join('\n') + '\n']);
    expect(events).toEqual([
      {
        kind: 'other',
        type: 'stream_event',
        subtype: null,
        raw: lines[6],
        truncated: false,
      },
      { kind: 'other', type: 'result', subtype: null, raw: lines[7], truncated: false },
    ]);
    // A result line that does not parse is no result.
    expect(fields.agentRun.outcome).toBeNull();
  });

  it('skips a line too long to parse, and reads the next one', () => {
    const long = '{"type":"user","pad":"' + 'x'.repeat(300 * 1024) + '"}';
    const next = JSON.stringify({ type: 'system', subtype: 'init', session_id: 's1' });
    const { fields, events } = read([...pieces(long, 50_000), '\n', next + '\n']);
    expect(events.map((e) => e.kind)).toEqual(['session_start']);
    expect(fields.agentRun.sessionId).toBe('s1');
    expect(fields.agentRun.lines).toEqual({ pending: '', skipping: false });
  });

  it('bounds tool results and tool inputs, saying they were cut', () => {
    const user = {
      type: 'user',
      message: {
        content: [{ type: 'tool_result', tool_use_id: 't1', content: 'y'.repeat(10_000) }],
      },
    };
    const assistant = {
      type: 'assistant',
      message: {
        id: 'm1',
        model: 'claude-x',
        content: [
          { type: 'tool_use', id: 't2', name: 'Write', input: { content: 'z'.repeat(9000) } },
        ],
      },
    };
    const { events } = read([JSON.stringify(user) + '\n' + JSON.stringify(assistant) + '\n']);
    expect(events[0]).toMatchObject({ kind: 'tool_result', truncated: true });
    expect(events[0]?.kind === 'tool_result' && events[0].content.length).toBe(MAX_TOOL_CHARS);
    expect(events[1]).toMatchObject({ kind: 'tool_call', name: 'Write', truncated: true });
    expect(events[1]?.kind === 'tool_call' && events[1].input.length).toBe(MAX_TOOL_CHARS);
  });
});

describe('the shell line', () => {
  const spec: AgentSpec = {
    cli: 'claude-code',
    prompt: 'unused',
    model: "son'net",
    maxTurns: 5,
    allowedTools: ['Read', 'Bash(git *)'],
    maxBudgetUsd: 0.5,
  };

  it('passes the prompt and every option through without shell interpolation', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'omni-claude-line-'));
    try {
      // A stand-in `claude` that prints each argument it got, one per line, NUL-terminated.
      const fake = path.join(dir, 'claude');
      await writeFile(fake, '#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\n');
      await chmod(fake, 0o755);
      const prompt = '-p --help $(touch pwned) `touch pwned` $HOME \'quoted\' "double"\nline two';
      const { stdout } = await promisify(execFile)('bash', ['-c', claudeCode.command(spec)], {
        cwd: dir,
        env: { PATH: `${dir}:/usr/bin:/bin`, [PROMPT_VAR]: prompt },
      });
      expect(stdout.split('\0').slice(0, -1)).toEqual([
        '-p',
        '--output-format',
        'stream-json',
        '--verbose',
        '--permission-mode',
        'dontAsk',
        '--allowedTools',
        'Read',
        'Bash(git *)',
        '--model',
        "son'net",
        '--max-turns',
        '5',
        '--max-budget-usd',
        '0.5',
        '--',
        prompt,
      ]);
      await expect(readFile(path.join(dir, 'pwned'))).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bypasses permissions when no tools are listed, and keeps the prompt out of the line', () => {
    const line = claudeCode.command({ ...spec, allowedTools: null, prompt: 'SECRET PLAN' });
    expect(line).toContain("'--permission-mode' 'bypassPermissions'");
    expect(line).not.toContain('SECRET PLAN');
    expect(line.endsWith(`-- "$${PROMPT_VAR}"`)).toBe(true);
  });

  it('asks for the API key secret unless the job env names the variable', () => {
    const settings = { anthropicBaseUrl: 'http://127.0.0.1:9/' };
    const env = claudeCode.env(spec, settings, {});
    expect(env).toMatchObject({
      [PROMPT_VAR]: 'unused',
      ANTHROPIC_API_KEY: { secret: 'ANTHROPIC_API_KEY' },
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/',
      CLAUDE_CODE_MAX_RETRIES: '3',
    });
    const own = claudeCode.env(
      spec,
      { anthropicBaseUrl: null },
      {
        ANTHROPIC_API_KEY: { secret: 'TEAM_KEY' },
      },
    );
    expect(own['ANTHROPIC_API_KEY']).toEqual({ secret: 'TEAM_KEY' });
    expect(own).not.toHaveProperty('ANTHROPIC_BASE_URL');
  });
});
