/**
 * A stand-in for the Anthropic Messages API on 127.0.0.1, for running the real Claude Code CLI in
 * tests (ANTHROPIC_BASE_URL points here). It scripts one short conversation: asked anything, the
 * model answers with a line of text and a Bash tool call `cat README.md`; given that call's
 * result, it answers with a final text quoting the result's first line. Streaming requests
 * (`stream: true`, what the CLI sends) are answered as server-sent events, others as one JSON
 * message. Every answer carries fixed token counts.
 *
 * Keys: `x-api-key` values starting with GOOD_KEY_PREFIX are accepted, every other key gets 401
 * (authentication_error). Each key's traffic is counted separately, so a test that uses a key of
 * its own can read what was sent to it: `GET /_usage/<key>` answers the requests seen and the
 * tokens reported per model, which is what the CLI must have been billed.
 *
 * What Claude Code 2.1.332 sends: `POST /v1/messages?beta=true` with `stream: true`, `x-api-key`,
 * `anthropic-version` and `anthropic-beta` headers, one call per turn; and, unless
 * CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1, a `HEAD /api/hello` first. `count_tokens` is answered
 * too. Set ANTHROPIC_STAND_IN_LOG=1 to log each request (method, path, headers) on stderr.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  FINAL_TEXT_PREFIX,
  GOOD_KEY_PREFIX,
  HEAVY_PATTERN,
  RUN_PATTERN,
  TOOL_COMMAND,
  TURN_USAGE,
} from './anthropic-script.ts';
import { listenOnLoopback } from './loopback-server.ts';

type Usage = { input: number; output: number; cacheRead: number; cacheWrite: number };

interface KeyStats {
  requests: number;
  rejected: number;
  paths: string[];
  usage: Record<string, { input: number; output: number; cacheRead: number; cacheWrite: number }>;
}

export interface AnthropicStandIn {
  /** The base URL to set as ANTHROPIC_BASE_URL. */
  url: string;
  close(): Promise<void>;
}

const blockSchema = z.looseObject({ type: z.string() });
const requestSchema = z.looseObject({
  model: z.string().default('claude-stand-in'),
  stream: z.boolean().optional(),
  tools: z.array(z.unknown()).optional(),
  messages: z
    .array(
      z.looseObject({
        role: z.string(),
        content: z.union([z.string(), z.array(blockSchema)]),
      }),
    )
    .default([]),
});
type MessagesRequest = z.infer<typeof requestSchema>;

const toolResultSchema = z.looseObject({
  type: z.literal('tool_result'),
  content: z.union([
    z.string(),
    z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  ]),
});

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_stand_in' });
  res.end(JSON.stringify(body));
}

/** The text of the last tool result in the conversation, or null if there is none yet. */
function lastToolResult(request: MessagesRequest): string | null {
  const last = request.messages.at(-1);
  if (!last || typeof last.content === 'string') return null;
  for (const block of last.content) {
    const result = toolResultSchema.safeParse(block);
    if (!result.success) continue;
    const content = result.data.content;
    if (typeof content === 'string') return content;
    return content.map((part) => part.text ?? '').join('\n');
  }
  return null;
}

type Block =
  { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: object };

/** The first group of `pattern` in a text of the conversation, or undefined. */
function asked(request: MessagesRequest, pattern: RegExp): string | undefined {
  for (const message of request.messages) {
    const texts =
      typeof message.content === 'string'
        ? [message.content]
        : message.content.map((block) => (typeof block['text'] === 'string' ? block['text'] : ''));
    for (const text of texts) {
      const found = pattern.exec(text)?.[1];
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The command the prompt asks for with `RUN[command]`, or TOOL_COMMAND. */
function askedCommand(request: MessagesRequest): string {
  return asked(request, RUN_PATTERN) ?? TOOL_COMMAND;
}

/** The tool-call turn's usage: TURN_USAGE's, or as many input tokens as `HEAVY[n]` asks. */
function toolCallUsage(request: MessagesRequest): Usage {
  const heavy = asked(request, HEAVY_PATTERN);
  return heavy === undefined
    ? TURN_USAGE.toolCall
    : { ...TURN_USAGE.toolCall, input: Number(heavy) };
}

/** What the scripted model answers to `request`. */
function answer(request: MessagesRequest): { blocks: Block[]; stop: string; usage: Usage } {
  const toolResult = lastToolResult(request);
  if (toolResult !== null) {
    const firstLine = toolResult.split('\n').find((line) => line.trim() !== '') ?? '';
    return {
      blocks: [{ type: 'text', text: FINAL_TEXT_PREFIX + firstLine.trim() }],
      stop: 'end_turn',
      usage: TURN_USAGE.finalText,
    };
  }
  if (request.tools && request.tools.length > 0) {
    return {
      blocks: [
        { type: 'text', text: 'I will read the README.' },
        {
          type: 'tool_use',
          id: 'toolu_stand_in_1',
          name: 'Bash',
          input: { command: askedCommand(request), description: 'Read the README' },
        },
      ],
      stop: 'tool_use',
      usage: toolCallUsage(request),
    };
  }
  return { blocks: [{ type: 'text', text: 'A title' }], stop: 'end_turn', usage: TURN_USAGE.other };
}

function wireUsage(usage: Usage, output: number) {
  return {
    input_tokens: usage.input,
    output_tokens: output,
    cache_read_input_tokens: usage.cacheRead,
    cache_creation_input_tokens: usage.cacheWrite,
  };
}

/** Writes the answer as the Messages API streams it. */
function stream(
  res: ServerResponse,
  model: string,
  id: string,
  reply: ReturnType<typeof answer>,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'request-id': 'req_stand_in',
  });
  const send = (event: string, data: object) =>
    res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  send('message_start', {
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: wireUsage(reply.usage, 1),
    },
  });
  reply.blocks.forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { index, delta: { type: 'text_delta', text: block.text } });
    } else {
      send('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      send('content_block_delta', {
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      });
    }
    send('content_block_stop', { index });
  });
  send('message_delta', {
    delta: { stop_reason: reply.stop, stop_sequence: null },
    usage: { output_tokens: reply.usage.output },
  });
  send('message_stop', {});
  res.end();
}

/** Starts the stand-in on a free loopback port. */
export async function startAnthropicStandIn(): Promise<AnthropicStandIn> {
  const stats = new Map<string, KeyStats>();
  const log = process.env['ANTHROPIC_STAND_IN_LOG'] === '1';
  let messages = 0;
  const statsOf = (key: string): KeyStats => {
    let entry = stats.get(key);
    if (!entry) {
      entry = { requests: 0, rejected: 0, paths: [], usage: {} };
      stats.set(key, entry);
    }
    return entry;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const body = await readBody(req);
    if (req.method === 'GET' && url.pathname.startsWith('/_usage/')) {
      const key = decodeURIComponent(url.pathname.slice('/_usage/'.length));
      sendJson(res, 200, statsOf(key));
      return;
    }
    // The CLI checks that the endpoint answers before its first call (not sent when
    // CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1, as in agent jobs).
    if (url.pathname === '/api/hello') {
      res.writeHead(200).end();
      return;
    }
    const key = String(req.headers['x-api-key'] ?? '');
    const entry = statsOf(key);
    entry.requests += 1;
    entry.paths.push(`${req.method} ${url.pathname}`);
    if (log) {
      const headers = ['anthropic-version', 'anthropic-beta', 'user-agent'].map(
        (name) => `${name}=${String(req.headers[name] ?? '')}`,
      );
      process.stderr.write(`stand-in: ${req.method} ${req.url} ${headers.join(' ')}\n`);
    }
    if (!key.startsWith(GOOD_KEY_PREFIX)) {
      entry.rejected += 1;
      sendJson(res, 401, {
        type: 'error',
        error: { type: 'authentication_error', message: 'invalid x-api-key' },
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/messages/count_tokens') {
      sendJson(res, 200, { input_tokens: 100 });
      return;
    }
    if (req.headers['anthropic-version'] === undefined) {
      // The real API refuses a request without it.
      sendJson(res, 400, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'anthropic-version header is required' },
      });
      return;
    }
    if (req.method !== 'POST' || url.pathname !== '/v1/messages') {
      sendJson(res, 404, {
        type: 'error',
        error: { type: 'not_found_error', message: 'no such path' },
      });
      return;
    }
    const parsed = requestSchema.safeParse(JSON.parse(body || '{}'));
    if (!parsed.success) {
      sendJson(res, 400, {
        type: 'error',
        error: { type: 'invalid_request_error', message: parsed.error.message },
      });
      return;
    }
    const request = parsed.data;
    const reply = answer(request);
    const totals = (entry.usage[request.model] ??= {
      input: 0,
      output: 0,
      cacheRead: 0,
      cacheWrite: 0,
    });
    totals.input += reply.usage.input;
    totals.output += reply.usage.output;
    totals.cacheRead += reply.usage.cacheRead;
    totals.cacheWrite += reply.usage.cacheWrite;
    messages += 1;
    const id = `msg_stand_in_${messages}`;
    if (request.stream) {
      stream(res, request.model, id, reply);
      return;
    }
    sendJson(res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: reply.blocks,
      stop_reason: reply.stop,
      stop_sequence: null,
      usage: wireUsage(reply.usage, reply.usage.output),
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: String(error) } });
      else res.end();
    });
  });
  return listenOnLoopback(server);
}
