/**
 * Actions on one job: cancel it, and get a short-lived token to watch its stream from a client
 * that cannot send an Authorization header on a WebSocket (browsers).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { ApiError } from '../errors.ts';
import { audit } from '../lib/audit.ts';
import { issueStreamToken } from '../lib/stream-token.ts';
import { requireRole } from '../middleware/auth.ts';
import {
  JOB_ID_PATTERN,
  JobIdParamsSchema,
  JobSchema,
  StreamTokenSchema,
  terminalStatuses,
} from '../schemas/jobs.ts';
import { problem, security } from '../schemas/responses.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';
import { toJob } from './jobs.ts';
import { NoBodySchema, NoQuerySchema } from '../schemas/page.ts';

export const jobActionRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

jobActionRoutes.on('POST', '/:id/cancel', requireRole('member'));

/** Both actions take the job id only: no query parameters, and no body (or an empty one). */
const actionRequest = {
  params: JobIdParamsSchema,
  query: NoQuerySchema,
  body: { required: false, content: { 'application/json': { schema: NoBodySchema } } },
};

function notFound(id: string): ApiError {
  return new ApiError('not_found', `No job with id ${id}.`);
}

const cancelRoute = createRoute({
  method: 'post',
  path: '/{id}/cancel',
  summary: 'Cancel a job',
  description:
    'The job ends as `canceled` and its sandbox is deleted. Canceling a job that has already ended changes nothing and answers 409 with the job as it ended.',
  security,
  request: actionRequest,
  responses: {
    200: { description: 'Canceled', content: { 'application/json': { schema: JobSchema } } },
    401: problem('No valid credentials'),
    403: problem('Role too weak'),
    404: problem('No such job'),
    409: problem('The job had already ended'),
  },
});

jobActionRoutes.openapi(cancelRoute, async (c) => {
  const { id } = c.req.valid('param');
  if (!JOB_ID_PATTERN.test(id)) throw notFound(id);
  const caller = c.var.caller;
  const stub = c.env.JOB.getByName(id);
  const before = await stub.get(caller.tenantId);
  if (!before) throw notFound(id);
  if (terminalStatuses.has(before.status)) {
    throw new ApiError(
      'conflict',
      `The job already ended (${before.status}); there is nothing to cancel.`,
    );
  }
  const row = await stub.cancel(caller.tenantId, caller.actor);
  if (!row) throw notFound(id);
  if (row.status !== 'canceled') {
    throw new ApiError('conflict', `The job ended (${row.status}) before it could be canceled.`);
  }
  await audit(c, 'job.cancel', id, { previous_status: before.status });
  return c.json(toJob(row), 200);
});

const streamTokenRoute = createRoute({
  method: 'post',
  path: '/{id}/stream-token',
  summary: "Get a short-lived token for the job's stream",
  description:
    'For clients that cannot set headers on a WebSocket: open the returned url (GET /v1/jobs/{id}/stream?token=…) within a minute. Never put an API key in a URL.',
  security,
  request: actionRequest,
  responses: {
    201: { description: 'A token', content: { 'application/json': { schema: StreamTokenSchema } } },
    401: problem('No valid credentials'),
    404: problem('No such job'),
    503: problem('STREAM_TOKEN_SECRET is not configured'),
  },
});

jobActionRoutes.openapi(streamTokenRoute, async (c) => {
  const { id } = c.req.valid('param');
  if (!JOB_ID_PATTERN.test(id)) throw notFound(id);
  const caller = c.var.caller;
  if (!(await c.env.JOB.getByName(id).get(caller.tenantId))) throw notFound(id);
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
