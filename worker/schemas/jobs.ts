/**
 * Request and response schemas of the jobs API. The handlers validate with these and the
 * OpenAPI document at /openapi.json is generated from them, so the two cannot drift.
 */
import { z } from '@hono/zod-openapi';
import { agentEventKinds } from '../../durable-objects/job/agents/types.ts';
import { jobEventTypes, jobKinds, jobStatuses } from '../domain/jobs.ts';
import { JobEnvBodySchema, JobEnvViewSchema } from './env.ts';

const JobStatusSchema = z.enum(jobStatuses).openapi('JobStatus');

export const JOB_ID_PATTERN = /^job_[0-9a-f]{32}$/;

/** The longest agent prompt, in UTF-8 bytes. */
export const MAX_PROMPT_BYTES = 100 * 1024;
/** The most an agent job may be allowed to spend (its `max_budget_usd`), in USD. */
export const MAX_AGENT_BUDGET_USD = 100;
/** Entries of `allowed_tools`. */
export const MAX_ALLOWED_TOOLS = 50;

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;
const noNul = (s: string) => !s.includes('\0');

const AgentBodySchema = z
  .strictObject({
    prompt: z
      .string()
      .min(1)
      .refine((s) => utf8Bytes(s) <= MAX_PROMPT_BYTES, `must be at most ${MAX_PROMPT_BYTES} bytes`)
      .refine(noNul, 'must not contain NUL characters')
      .openapi({
        description:
          'What the agent is asked to do. It reaches the CLI as an environment variable, never through a shell.',
        example: 'Run the tests and fix the first failure.',
      }),
    model: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/[\]-]{0,99}$/, 'must be a model name or alias')
      .optional()
      .openapi({ description: "A model name or alias; default: the CLI's.", example: 'sonnet' }),
    max_turns: z
      .number()
      .int()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'The most turns the agent may take.' }),
    allowed_tools: z
      .array(
        z
          .string()
          .max(256)
          .regex(
            /^[A-Za-z][A-Za-z0-9_-]*(\([^\0\r\n()]{1,200}\))?$/,
            'must be a tool name, optionally with a pattern such as Bash(git *)',
          ),
      )
      .min(1)
      .max(MAX_ALLOWED_TOOLS)
      .optional()
      .openapi({
        description:
          'The only tools the agent may use (e.g. "Read", "Bash(npm test)"); every other tool call is denied. Default: every tool, without asking.',
        example: ['Read', 'Edit', 'Bash(npm test)'],
      }),
    max_budget_usd: z.number().positive().max(MAX_AGENT_BUDGET_USD).optional().openapi({
      description:
        'The most the agent may spend on API calls, in USD: the CLI stops there, and Omni stops the job once its whole cost (tokens at the configured prices and sandbox time) reaches it.',
    }),
  })
  .openapi('AgentSpec');

export const CreateJobBodySchema = z
  .strictObject({
    repo: z.strictObject({
      url: z
        .string()
        .min(1)
        .max(2048)
        .openapi({ example: 'https://github.com/octocat/Hello-World.git' }),
      ref: z
        .string()
        .min(1)
        .max(255)
        .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/, 'must be a branch or tag name')
        .optional()
        .openapi({ example: 'main' }),
    }),
    command: z
      .string()
      .min(1)
      .max(16_384)
      .refine((s) => !s.includes('\0'), 'must not contain NUL characters')
      .optional()
      .openapi({
        description: 'Shell command run in the repository checkout (or give `agent`).',
        example: 'ls -la',
      }),
    agent: AgentBodySchema.optional().openapi({
      description:
        'Run a coding agent (Claude Code) in the checkout instead of a command (docs/agents.md).',
    }),
    timeout_seconds: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: 'Wall-clock limit; defaults to the service setting.' }),
    project: z.string().min(1).max(100).optional().openapi({
      description:
        "The id of the project the job belongs to (its repository allow-list, sandbox shape and budget); default: the tenant's default project.",
      example: 'prj_5f0c6b1e2a8d4c3b9e7f1a2b3c4d5e6f',
    }),
    queue: z.boolean().optional().openapi({
      description:
        'If the tenant already runs its maximum of jobs: wait for a free slot (true) instead of being refused with 429 (false, the default). The time limit counts from creation.',
    }),
    env: JobEnvBodySchema.optional(),
  })
  .refine((body) => (body.command === undefined) !== (body.agent === undefined), {
    path: ['command'],
    message: 'give exactly one of `command` (a shell command) and `agent` (a coding agent)',
    // Also when other fields are wrong, so that one answer names every problem.
    when: (payload) => typeof payload.value === 'object' && payload.value !== null,
  })
  .openapi('CreateJob');

export type CreateJobBody = z.infer<typeof CreateJobBodySchema>;

const timestamp = z.iso.datetime().nullable();

const AgentJobSchema = z
  .object({
    prompt: z.string(),
    model: z.string().nullable(),
    max_turns: z.number().int().nullable(),
    allowed_tools: z.array(z.string()).nullable(),
    max_budget_usd: z.number().nullable(),
    session_id: z.string().nullable(),
    result: z.string().nullable().openapi({
      description: "The agent's final text (at most 64 KiB), once it ended.",
    }),
    outcome: z
      .object({
        subtype: z.string(),
        is_error: z.boolean(),
        terminal_reason: z.string().nullable(),
        num_turns: z.number().int().nullable(),
        duration_ms: z.number().nullable(),
        total_cost_usd: z.number().nullable(),
        permission_denials: z.number().int(),
      })
      .nullable()
      .openapi({ description: "The CLI's own report of how the run ended." }),
    usage: z
      .record(
        z.string(),
        z.object({
          input_tokens: z.number().int(),
          output_tokens: z.number().int(),
          cache_read_tokens: z.number().int(),
          cache_write_tokens: z.number().int(),
          reported_cost_usd: z.number(),
        }),
      )
      .openapi({
        description:
          'Tokens per model: an estimate while the agent runs, what the CLI reported at the end.',
      }),
  })
  .openapi('AgentJob');

const usd = z.number().openapi({ description: 'US dollars.' });

export const JobCostSchema = z
  .object({
    total_usd: usd,
    llm_usd: usd.openapi({ description: "The agent's tokens, at the configured prices." }),
    sandbox_usd: usd.openapi({ description: "The sandbox's time from create to delete." }),
    reported_llm_usd: usd.openapi({
      description: 'What the agent CLI itself reported for its tokens, for comparison.',
    }),
    input_tokens: z.number().int(),
    output_tokens: z.number().int(),
    cache_write_tokens: z.number().int(),
    cache_read_tokens: z.number().int(),
    sandbox_seconds: z.number().int(),
    price_table: z
      .string()
      .nullable()
      .openapi({ description: 'The id of the price table used (docs/cost.md).' }),
  })
  .openapi('JobCost', {
    description:
      'What the job has cost so far (live while it runs when read one by one; lists show the ledger as last written).',
  });

export const JobSchema = z
  .object({
    id: z.string().openapi({ example: 'job_0f8fad5bd9cb469fa16570867728950e' }),
    status: JobStatusSchema,
    repo: z.object({ url: z.string(), ref: z.string().nullable() }),
    kind: z.enum(jobKinds).openapi({ description: '`command` or `agent`.' }),
    command: z
      .string()
      .openapi({ description: "The shell command; for an agent, the CLI's line." }),
    agent: AgentJobSchema.optional().openapi({
      description: 'An agent job read one by one (GET /v1/jobs/{id}, not lists): its agent.',
    }),
    project_id: z.string().nullable().openapi({ description: 'The project the job belongs to.' }),
    timeout_seconds: z.number().int(),
    exit_code: z.number().int().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    created_at: z.iso.datetime(),
    provisioning_at: timestamp,
    cloning_at: timestamp,
    running_at: timestamp,
    finished_at: timestamp,
    duration_ms: z.number().int().nullable().openapi({ description: 'From creation to the end.' }),
    env: JobEnvViewSchema.optional(),
    cost: JobCostSchema,
    links: z.object({ self: z.string(), events: z.string(), stream: z.string() }),
  })
  .openapi('Job');

export type Job = z.infer<typeof JobSchema>;

export const JobListSchema = z
  .object({ data: z.array(JobSchema), next_cursor: z.string().nullable() })
  .openapi('JobList');

const AgentEventSchema = z
  .object({ kind: z.enum(agentEventKinds) })
  .catchall(z.unknown())
  .openapi('AgentEvent', {
    description:
      'One typed event of an agent job, parsed from its CLI output next to the raw `stdout` (fields per `kind`: docs/agents.md#events).',
  });

const JobEventSchema = z
  .object({
    seq: z.number().int().positive(),
    type: z.enum(jobEventTypes),
    ts: z.iso.datetime(),
    agent: AgentEventSchema.optional(),
  })
  .catchall(z.unknown())
  .openapi('JobEvent', {
    description:
      'One entry of the job log. `status` carries `status` (and `error`), `stdout`/`stderr` carry `data`, `exit` carries `exit_code`, `agent` carries `agent`: one typed event of an agent job (`kind`: session_start, text, tool_call, tool_result, api_retry, result, other; docs/agents.md).',
  });

export const JobEventPageSchema = z
  .object({ data: z.array(JobEventSchema), next_after: z.number().int().nullable() })
  .openapi('JobEventPage');

export const JobIdParamsSchema = z.object({
  id: z.string().openapi({
    param: { name: 'id', in: 'path' },
    example: 'job_0f8fad5bd9cb469fa16570867728950e',
  }),
});

export const ListJobsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  status: JobStatusSchema.optional(),
  project: z.string().min(1).max(100).optional().openapi({
    description: 'Only the jobs of this project (an id).',
  }),
});

export const EventsQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const StreamQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  token: z.string().max(4096).optional().openapi({
    description:
      'A stream token from POST /v1/jobs/{id}/stream-token, for clients that cannot send headers.',
  }),
});

export const StreamTokenSchema = z
  .object({
    token: z.string(),
    expires_at: z.iso.datetime(),
    url: z.string().openapi({ description: 'The stream path with the token, ready to open.' }),
  })
  .openapi('StreamToken');

/** The header an EventSource sends when it reconnects: the id (seq) of the last event it got. */
export const LastEventIdHeaders = z.object({
  'last-event-id': z.string().max(32).optional().openapi({
    description:
      'Event stream only: the seq of the last event received; the stream resumes after it (and wins over `after`).',
  }),
});

export const EventStreamSchema = z.string().openapi('JobEventStream', {
  description:
    'Server-Sent Events: `retry: 1000`, then one event per job event (`id: <seq>`, `event: <type>`, `data: <JobEvent as JSON>`), `: heartbeat` comments every 15 s, and a last `event: end` once the job has ended (or `event: revoked` when the credentials were revoked).',
  example:
    'retry: 1000\n\nid: 1\nevent: status\ndata: {"status":"queued","seq":1,"type":"status","ts":"2026-12-01T12:00:00.000Z"}\n\n',
});
