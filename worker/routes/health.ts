/**
 * /health/ready: readiness, for load balancers, deploy smoke tests and on-call. No credentials
 * (like /health), but rate-limited per IP address like /v1 (app.ts), since every call reaches
 * D1 and Daytona. 200 when D1 and Daytona answer, else a 503 problem naming what is down.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { errorCodes } from '../errors.ts';
import { NotReadySchema, ReadySchema } from '../schemas/health.ts';
import { problem } from '../schemas/responses.ts';
import { readiness } from '../services/readiness.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';

export const healthRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const readyRoute = createRoute({
  method: 'get',
  path: '/ready',
  operationId: 'getReadiness',
  tags: ['Health'],
  summary: 'Readiness: D1 and Daytona answer, each within its own short timeout',
  // Public, like /health: no credentials.
  security: [],
  responses: {
    200: {
      description: 'Ready',
      content: { 'application/json': { schema: ReadySchema } },
    },
    429: problem('Too many requests from this address'),
    503: {
      description: 'A dependency is down or did not answer in time',
      content: { 'application/problem+json': { schema: NotReadySchema } },
    },
  },
});

healthRoutes.openapi(readyRoute, async (c) => {
  const report = await readiness(c.env);
  const { version, uptime_seconds, checks } = report;
  if (report.ready)
    return c.json({ status: 'ready' as const, version, uptime_seconds, checks }, 200);
  const { status, title } = errorCodes.not_ready;
  const detail = `Not ready: ${report.down
    .map((name) => `${name} is down (${checks[name].error ?? 'failed'})`)
    .join('; ')}.`;
  const body = {
    type: 'urn:omni:error:not_ready',
    title,
    status,
    detail,
    code: 'not_ready' as const,
    instance: c.req.path,
    request_id: c.var.requestId,
    down: report.down,
    version,
    uptime_seconds,
    checks,
  };
  return c.json(body, 503, { 'content-type': 'application/problem+json' });
});
