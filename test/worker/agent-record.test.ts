/**
 * An agent job's stdout as its Job DO stores it (durable-objects/job/record.ts): typed events
 * from lines split across output chunks, after secret masking, and its result read even past the
 * output cap, where nothing else is stored then.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { MAX_OUTPUT_BYTES } from '../../durable-objects/job/decisions.ts';
import { JobRecord } from '../../durable-objects/job/record.ts';
import { initialState } from '../../durable-objects/job/state.ts';
import { JobStorage, type JobEvent } from '../../durable-objects/job/storage.ts';
import { jobSpec } from './job-spec.ts';

const encode = (text: string) => new TextEncoder().encode(text);

const line = (value: object) => JSON.stringify(value) + '\n';
const init = line({ type: 'system', subtype: 'init', session_id: 'sess-1', model: 'm', tools: [] });
const toolResult = (content: string) =>
  line({
    type: 'user',
    message: { content: [{ type: 'tool_result', tool_use_id: 't1', content, is_error: false }] },
  });
const text = (words: string) =>
  line({
    type: 'assistant',
    message: { id: 'msg_1', model: 'claude-x', content: [{ type: 'text', text: words }] },
  });
const result = line({
  type: 'result',
  subtype: 'success',
  is_error: false,
  result: 'All done.',
  num_turns: 1,
  modelUsage: {
    'claude-x': {
      inputTokens: 5,
      outputTokens: 7,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
      costUSD: 0.01,
    },
  },
});

/** A running agent job's record on the storage of a fresh Job DO, and its events afterwards. */
async function withAgentRecord(
  fn: (record: JobRecord, reload: () => JobRecord) => void,
): Promise<{ events: JobEvent[]; record: JobRecord }> {
  const id = `job_${crypto.randomUUID().replaceAll('-', '')}`;
  let out: { events: JobEvent[]; record: JobRecord } | null = null;
  await runInDurableObject(env.JOB.getByName(id), (_instance, state) => {
    const store = new JobStorage(state.storage);
    store.ensureSchema();
    const record = new JobRecord(state, env, store);
    const agent = {
      cli: 'claude-code' as const,
      prompt: 'p',
      model: null,
      maxTurns: null,
      allowedTools: null,
      maxBudgetUsd: null,
    };
    const spec = jobSpec('ten_agent_record', { id, kind: 'agent', agent });
    record.save({ ...initialState(spec), status: 'running' });
    let current = record;
    // A new record over the same storage: what a Job DO instance after an eviction reads.
    const reload = () => (current = new JobRecord(state, env, new JobStorage(state.storage)));
    fn(record, reload);
    out = { events: [...store.eventsAfter(0, 1000)], record: current };
  });
  if (out === null) throw new Error('the Job DO did not run');
  return out;
}

const agentKinds = (events: JobEvent[]) =>
  events.flatMap((e) => (e.type === 'agent' && e.agent ? [e.agent.kind] : []));

describe('agent output in the Job DO', () => {
  it('reads a line split across two chunks once, next to the raw output', async () => {
    const whole = init + text('hello');
    const cut = whole.length - 20;
    const { events, record } = await withAgentRecord((r) => {
      r.storeOutput('stdout', encode(whole.slice(0, cut)));
      r.storeOutput('stdout', encode(whole.slice(cut)));
    });
    expect(agentKinds(events)).toEqual(['session_start', 'text']);
    expect(
      events
        .filter((e) => e.type === 'stdout')
        .map((e) => e.data)
        .join(''),
    ).toBe(whole);
    expect(record.require().agentRun?.sessionId).toBe('sess-1');
    expect(record.require().agentRun?.lines).toEqual({ pending: '', skipping: false });
  });

  it('keeps the start of a line across an eviction, from storage', async () => {
    const whole = init + text('hello');
    const cut = init.length + 10;
    const { events, record } = await withAgentRecord((r, reload) => {
      r.storeOutput('stdout', encode(whole.slice(0, cut)));
      reload().storeOutput('stdout', encode(whole.slice(cut)));
    });
    expect(agentKinds(events)).toEqual(['session_start', 'text']);
    expect(record.require().agentRun?.sessionId).toBe('sess-1');
  });

  it('parses what was masked: a secret in a tool result is *** in its typed event too', async () => {
    const secret = 'sk-ant-very-secret-value';
    const { events } = await withAgentRecord((r) => {
      r.maskSecrets([secret]);
      r.storeOutput('stdout', encode(toolResult(`key=${secret}`)), true);
    });
    expect(JSON.stringify(events)).not.toContain(secret);
    const typed = events.find((e) => e.type === 'agent')?.agent;
    expect(typed).toMatchObject({ kind: 'tool_result', content: 'key=***' });
  });

  it('still reads the result past the output cap, storing nothing else', async () => {
    const { events, record } = await withAgentRecord((r) => {
      r.save({ ...r.require(), storedOutputBytes: MAX_OUTPUT_BYTES - 10 });
      r.storeOutput('stdout', encode(init));
      expect(r.require().outputTruncated).toBe(true);
      r.storeOutput('stdout', encode(text('after the cap') + result.slice(0, 30)));
      r.storeOutput('stdout', encode(result.slice(30)));
    });
    expect(events.filter((e) => e.type === 'truncated')).toHaveLength(1);
    expect(agentKinds(events)).toEqual(['result']);
    const state = record.require();
    expect(state.agentResult).toBe('All done.');
    expect(state.agentRun?.outcome).toMatchObject({ subtype: 'success', isError: false });
    expect(state.agentUsage['claude-x']).toMatchObject({ inputTokens: 5, outputTokens: 7 });
  });
});
