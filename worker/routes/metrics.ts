/**
 * GET /metrics: the operator's Prometheus metrics (worker/services/metrics.ts), outside /v1 and
 * behind its own bearer token, the `METRICS_TOKEN` secret, compared in constant time. Not
 * rate-limited per IP address: the token is the protection (32 or more characters cannot be
 * guessed), and answers are cached per isolate, so scrapes cost D1 at most one batch each
 * few seconds per isolate. 401 with a Bearer challenge for a missing or wrong token; a 503
 * problem while the token is not configured.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { ApiError } from '../errors.ts';
import { errorFields, log } from '../lib/log.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../lib/prometheus.ts';
import { noStore } from '../middleware/secure-headers.ts';
import { authChallenge, problem } from '../schemas/responses.ts';
import { metricsText } from '../services/metrics.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';

/** The shortest METRICS_TOKEN accepted. */
export const METRICS_TOKEN_MIN_LENGTH = 32;

export const metricsRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

metricsRoutes.use('*', noStore);

metricsRoutes.openAPIRegistry.registerComponent('securitySchemes', 'metricsToken', {
  type: 'http',
  scheme: 'bearer',
  description: 'The METRICS_TOKEN secret: Authorization: Bearer <METRICS_TOKEN>',
});

const metricsRoute = createRoute({
  method: 'get',
  path: '/',
  operationId: 'getMetrics',
  tags: ['Metrics'],
  summary: 'Prometheus metrics of every tenant (operators)',
  description:
    'Jobs created, active, finished, errors, durations and sandbox phases, and spend, in the Prometheus text format 0.0.4. Needs the METRICS_TOKEN as a bearer token. See docs/operations.md.',
  security: [{ metricsToken: [] }],
  responses: {
    200: {
      description: 'The metrics',
      content: { 'text/plain; version=0.0.4': { schema: z.string() } },
    },
    401: problem('No valid metrics token', authChallenge),
    502: problem('D1 did not answer'),
    503: problem('METRICS_TOKEN is not configured'),
  },
});

// Documented like the other routes, but served by a plain handler: it answers text, not JSON.
metricsRoutes.openAPIRegistry.registerPath(metricsRoute);

/** True if `a` and `b` are equal; the time taken depends on neither (both are hashed first). */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [x, y] = await Promise.all(
    [a, b].map((s) => crypto.subtle.digest('SHA-256', encoder.encode(s))),
  );
  if (!x || !y) return false;
  return crypto.subtle.timingSafeEqual(x, y);
}

metricsRoutes.get('/', async (c) => {
  const expected = c.env.METRICS_TOKEN ?? '';
  if (expected.length < METRICS_TOKEN_MIN_LENGTH) {
    throw new ApiError(
      'misconfigured',
      expected === ''
        ? 'The metrics endpoint is not configured: set the secret METRICS_TOKEN.'
        : `The secret METRICS_TOKEN must be at least ${METRICS_TOKEN_MIN_LENGTH} characters long.`,
    );
  }
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
  if (presented === undefined) throw new ApiError('unauthorized', 'Send the metrics token.');
  if (!(await sameSecret(presented, expected))) {
    throw new ApiError('unauthorized', 'The metrics token is not valid.');
  }
  let text: string;
  try {
    text = await metricsText(c.env.DB);
  } catch (error) {
    log('warn', 'metrics query failed', errorFields(error));
    throw new ApiError('upstream_error', 'The metrics could not be read from D1.');
  }
  return c.body(text, 200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE });
});
