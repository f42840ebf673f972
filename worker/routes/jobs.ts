/**
 * /v1/jobs: create a job, list jobs, read one, read its events, stream them live, cancel it, and
 * get a short-lived token for its stream. Handlers validate and authorise; the Job Durable Object
 * does the work.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { listJobs } from '../db/jobs.ts';
import type { JobRow } from '../db/schema.ts';
import type { AgentDetails } from '../../durable-objects/job/view.ts';
import { summarise, toUsd, type CostSummary } from '../../durable-objects/job/ledger.ts';
import { jobLedgerLines } from '../db/ledger.ts';
import type { JobEnv } from '../domain/env.ts';
import { ApiError } from '../errors.ts';
import { audit } from '../lib/audit.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { entityTag, noneMatchHits } from '../lib/etag.ts';
import { issueStreamToken } from '../lib/stream-token.ts';
import { requireRole } from '../middleware/auth.ts';
import { createJob } from '../services/create-job.ts';
import {
  openEventStream,
  openWatcher,
  resumeAfter,
  wantsEventStream,
} from '../services/job-watch.ts';
import { toEnvView } from '../schemas/env.ts';
import { validationHook } from '../validation.ts';
import {
  CreateJobBodySchema,
  EventsQuerySchema,
  EventStreamSchema,
  JOB_ID_PATTERN,
  JobEventPageSchema,
  JobIdParamsSchema,
  JobListSchema,
  JobSchema,
  LastEventIdHeaders,
  ListJobsQuerySchema,
  StreamQuerySchema,
  StreamTokenSchema,
  type Job,
} from '../schemas/jobs.ts';
import { NoBodySchema, NoQuerySchema } from '../schemas/page.ts';
import {
  authChallenge,
  ETagHeader,
  IfNoneMatchHeaders,
  problem,
  scopeChallenge,
  security,
  upgradeHeader,
} from '../schemas/responses.ts';
import type { AppEnv } from '../types.ts';

export const jobRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

// Reading (and a stream token) needs any role; creating and canceling need member or higher.
jobRoutes.on('POST', '/', requireRole('member'));
jobRoutes.on('POST', '/:id/cancel', requireRole('member'));

/** An agent job's agent as the API shows it. */
function toAgent(agent: AgentDetails): NonNullable<Job['agent']> {
  const { spec, outcome } = agent;
  return {
    prompt: spec.prompt,
    model: spec.model,
    max_turns: spec.maxTurns,
    allowed_tools: spec.allowedTools,
    max_budget_usd: spec.maxBudgetUsd,
    session_id: agent.sessionId,
    result: agent.result,
    outcome: outcome && {
      subtype: outcome.subtype,
      is_error: outcome.isError,
      terminal_reason: outcome.terminalReason,
      num_turns: outcome.numTurns,
      duration_ms: outcome.durationMs,
      total_cost_usd: outcome.totalCostUsd,
      permission_denials: outcome.permissionDenials,
    },
    usage: Object.fromEntries(
      Object.entries(agent.usage).map(([model, u]) => [
        model,
        {
          input_tokens: u.inputTokens,
          output_tokens: u.outputTokens,
          cache_read_tokens: u.cacheReadTokens,
          cache_write_tokens: u.cacheWriteTokens,
          reported_cost_usd: u.reportedCostMicroUsd / 1_000_000,
        },
      ]),
    ),
  };
}

/**
 * Renders a job row (from D1 or the Job DO) as the API shows it; the Job DO's answer also has an
 * agent job's agent.
 */
function toJob(
  row: JobRow & { agent?: AgentDetails | null; cost?: CostSummary | null; env?: JobEnv },
): Job {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  const self = `/v1/jobs/${row.id}`;
  return {
    id: row.id,
    status: row.status,
    repo: { url: row.repoUrl, ref: row.repoRef },
    kind: row.kind,
    command: row.command,
    ...(row.agent ? { agent: toAgent(row.agent) } : {}),
    project_id: row.projectId,
    timeout_seconds: row.timeoutSeconds,
    exit_code: row.exitCode,
    error: row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
    created_at: new Date(row.createdAt).toISOString(),
    provisioning_at: iso(row.provisioningAt),
    cloning_at: iso(row.cloningAt),
    running_at: iso(row.runningAt),
    finished_at: iso(row.finishedAt),
    duration_ms: row.finishedAt === null ? null : row.finishedAt - row.createdAt,
    ...(row.env ? { env: toEnvView(row.env) } : {}),
    cost: row.cost ?? { ...summarise([]), total_usd: toUsd(row.costMicroUsd) },
    links: { self, events: `${self}/events`, stream: `${self}/stream` },
  };
}

/**
 * The Job DO of the caller's job `id`. The DO checks the tenant on every call: another tenant's
 * job is answered exactly like a job that does not exist (404), so its existence is not confirmed.
 */
function jobObject(env: Env, id: string) {
  if (!JOB_ID_PATTERN.test(id)) throw notFound(id);
  return env.JOB.getByName(id);
}

function notFound(id: string): ApiError {
  return new ApiError('not_found', `No job with id ${id}.`);
}

const createJobRoute = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createJob',
  tags: ['Jobs'],
  summary: 'Create a job',
  description:
    'Accepts a job and returns at once; a Job Durable Object runs it in a Daytona sandbox.',
  security,
  request: {
    query: NoQuerySchema,
    headers: z.object({
      'idempotency-key': z.string().optional().openapi({
        description:
          'Makes creation safe to retry: the same key and body within 24 hours return the original job (with Idempotent-Replayed: true); the same key with another body is 422; a retry while the first request is in flight is 409.',
      }),
    }),
    body: { required: true, content: { 'application/json': { schema: CreateJobBodySchema } } },
  },
  responses: {
    201: { description: 'Accepted', content: { 'application/json': { schema: JobSchema } } },
    400: problem('Invalid body'),
    401: problem('No valid credentials', authChallenge),
    402: problem("The tenant's or the project's monthly budget is reached"),
    403: problem('Role too weak', scopeChallenge),
    409: problem('A request with this Idempotency-Key is in flight'),
    413: problem('Body too large'),
    422: problem('Idempotency-Key reused with another body'),
    429: problem('Rate limit, or the tenant runs its maximum of jobs'),
    503: problem('Service misconfigured'),
  },
});

jobRoutes.openapi(createJobRoute, async (c) => {
  const { row, replayed } = await createJob(c, c.req.valid('json'));
  c.header('Location', `/v1/jobs/${row.id}`);
  if (replayed) c.header('Idempotent-Replayed', 'true');
  return c.json(toJob(row), 201);
});

const listJobsRoute = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listJobs',
  tags: ['Jobs'],
  summary: 'List jobs, newest first',
  security,
  request: { query: ListJobsQuerySchema },
  responses: {
    200: {
      description: 'A page of jobs',
      content: { 'application/json': { schema: JobListSchema } },
    },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
  },
});

jobRoutes.openapi(listJobsRoute, async (c) => {
  const query = c.req.valid('query');
  const { rows, next } = await listJobs(c.env.DB, c.var.caller.tenantId, {
    limit: query.limit,
    cursor: query.cursor ? decodeCursor(query.cursor) : undefined,
    status: query.status,
    projectId: query.project,
  });
  // Each job's cost from its ledger lines as last written (one query for the page).
  const lines = await jobLedgerLines(
    c.env.DB,
    c.var.caller.tenantId,
    rows.map((row) => row.id),
  );
  const data = rows.map((row) => {
    const own = lines.filter((line) => line.jobId === row.id);
    return toJob({ ...row, cost: own.length > 0 ? summarise(own) : null });
  });
  return c.json({ data, next_cursor: next ? encodeCursor(next) : null }, 200);
});

const getJob = createRoute({
  method: 'get',
  path: '/{id}',
  operationId: 'getJob',
  tags: ['Jobs'],
  summary: 'Get a job and its live status',
  description:
    'The answer has an `ETag`; send it back as `If-None-Match` to get a `304` without a body while the job is unchanged (docs/jobs.md#polling).',
  security,
  request: { params: JobIdParamsSchema, query: NoQuerySchema, headers: IfNoneMatchHeaders },
  responses: {
    200: {
      description: 'The job',
      headers: ETagHeader,
      content: { 'application/json': { schema: JobSchema } },
    },
    304: {
      description: 'Not modified: the job is as the `If-None-Match` tag says',
      headers: ETagHeader,
    },
    401: problem('No valid credentials', authChallenge),
    404: problem('No such job'),
  },
});

jobRoutes.openapi(getJob, async (c) => {
  const { id } = c.req.valid('param');
  // The Job DO holds the live state (D1 mirrors it, one write behind at most).
  const row = await jobObject(c.env, id).get(c.var.caller.tenantId);
  if (!row) throw notFound(id);
  const job = toJob(row);
  const tag = await entityTag(JSON.stringify(job));
  c.header('ETag', tag);
  if (noneMatchHits(c.req.valid('header')['if-none-match'], tag)) return c.body(null, 304);
  return c.json(job, 200);
});

const getEvents = createRoute({
  method: 'get',
  path: '/{id}/events',
  operationId: 'listJobEvents',
  tags: ['Jobs'],
  summary: "Read a page of the job's event log, or follow it as Server-Sent Events",
  description:
    'Pass the returned next_after as after to read on; it is null once the job ended and every event was read. With `Accept: text/event-stream` the answer is a stream of Server-Sent Events instead: `id:` the seq, `event:` the type, `data:` the event as JSON; it replays the events after `Last-Event-ID` (or `after`), follows live, and ends with an `end` event once the job has ended. A connection lasts at most EVENT_STREAM_MAX_SECONDS (300 s), then the client reconnects with Last-Event-ID (docs/jobs.md#server-sent-events).',
  security,
  request: { params: JobIdParamsSchema, query: EventsQuerySchema, headers: LastEventIdHeaders },
  responses: {
    200: {
      description: 'Events',
      content: {
        'application/json': { schema: JobEventPageSchema },
        'text/event-stream': { schema: EventStreamSchema },
      },
    },
    204: {
      description:
        'Event stream only: the job has ended and every event after Last-Event-ID was sent; nothing more will come',
    },
    400: problem('Invalid query or Last-Event-ID'),
    401: problem('No valid credentials', authChallenge),
    404: problem('No such job'),
    429: problem('Event stream only: the job has JOB_MAX_WATCHERS watchers already'),
  },
});

jobRoutes.openapi(getEvents, async (c) => {
  const { id } = c.req.valid('param');
  const { after, limit } = c.req.valid('query');
  if (wantsEventStream(c.req.header('accept'))) {
    const from = resumeAfter(c.req.valid('header')['last-event-id'], after);
    const stream = await openEventStream(c.env, jobObject(c.env, id), c.var.caller, from);
    if (!stream) throw notFound(id);
    return stream;
  }
  const page = await jobObject(c.env, id).listEvents(c.var.caller.tenantId, after, limit);
  if (!page) throw notFound(id);
  return c.json(page, 200);
});

const streamJob = createRoute({
  method: 'get',
  path: '/{id}/stream',
  operationId: 'streamJobEvents',
  tags: ['Jobs'],
  summary: "Stream the job's events over a WebSocket",
  description:
    'Upgrade to a WebSocket. Each message is one JSON event {seq, type, ts, ...}. Events after `after` are replayed from the log, then new ones follow live; the server closes with 1000 once the job has ended.',
  security,
  request: { params: JobIdParamsSchema, query: StreamQuerySchema },
  responses: {
    101: { description: 'Switching to the WebSocket protocol' },
    401: problem('No valid credentials', authChallenge),
    404: problem('No such job'),
    426: problem('Not a WebSocket upgrade', upgradeHeader),
    429: problem('The job has JOB_MAX_WATCHERS watchers already'),
    // A WebSocket handshake succeeds with 101 only: no 2XX. Every other answer is a problem.
    default: problem('Another error, e.g. 400 for an invalid `after`'),
  },
});

jobRoutes.openapi(streamJob, async (c) => {
  const { id } = c.req.valid('param');
  const { after } = c.req.valid('query');
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError('upgrade_required', 'Connect with a WebSocket client (Upgrade: websocket).');
  }
  const response = await openWatcher(jobObject(c.env, id), c.var.caller, after, c.req.raw.headers);
  if (!response) throw notFound(id);
  return response;
});

/** Both actions take the job id only: no query parameters, and no body (or an empty one). */
const actionRequest = {
  params: JobIdParamsSchema,
  query: NoQuerySchema,
  body: { required: false, content: { 'application/json': { schema: NoBodySchema } } },
};

const cancelRoute = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  operationId: 'cancelJob',
  tags: ['Jobs'],
  summary: 'Cancel a job',
  description:
    'The job ends as `canceled` and its sandbox is deleted. Canceling a job that has already ended changes nothing and answers 409 with the job as it ended.',
  security,
  request: actionRequest,
  responses: {
    200: { description: 'Canceled', content: { 'application/json': { schema: JobSchema } } },
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    404: problem('No such job'),
    409: problem('The job had already ended'),
  },
});

jobRoutes.openapi(cancelRoute, async (c) => {
  const { id } = c.req.valid('param');
  const caller = c.var.caller;
  const result = await jobObject(c.env, id).cancel(caller.tenantId, caller.actor);
  if (!result) throw notFound(id);
  if (!result.canceled) {
    throw new ApiError(
      'conflict',
      `The job already ended (${result.job.status}); there is nothing to cancel.`,
    );
  }
  await audit(c, 'job.cancel', id, { previous_status: result.previousStatus });
  return c.json(toJob(result.job), 200);
});

const streamTokenRoute = createRoute({
  method: 'post',
  path: '/{id}/stream-token',
  operationId: 'createStreamToken',
  tags: ['Jobs'],
  summary: "Get a short-lived token for the job's stream",
  description:
    'For clients that cannot set headers on a WebSocket: open the returned url (GET /v1/jobs/{id}/stream?token=…) within a minute. Never put an API key in a URL.',
  security,
  request: actionRequest,
  responses: {
    201: { description: 'A token', content: { 'application/json': { schema: StreamTokenSchema } } },
    401: problem('No valid credentials', authChallenge),
    404: problem('No such job'),
    503: problem('STREAM_TOKEN_SECRET is not configured'),
  },
});

jobRoutes.openapi(streamTokenRoute, async (c) => {
  const { id } = c.req.valid('param');
  const caller = c.var.caller;
  if (!(await jobObject(c.env, id).get(caller.tenantId))) throw notFound(id);
  const { token, expiresAt } = await issueStreamToken(c.env, caller, id);
  return c.json(
    {
      token,
      expires_at: new Date(expiresAt).toISOString(),
      url: `/v1/jobs/${id}/stream?token=${encodeURIComponent(token)}`,
    },
    201,
  );
});
