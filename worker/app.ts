/**
 * The Hono application: middleware in order (request id, log, security headers, CORS, timeout,
 * rate limit per IP, body limit, auth, rate limit per caller), the routes, the OpenAPI document
 * generated from the route schemas, and one error handler. docs/edge.md describes the protections.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from './errors.ts';
import { authenticate } from './middleware/auth.ts';
import { corsPolicy } from './middleware/cors.ts';
import { handleError } from './middleware/errors.ts';
import { jsonBody } from './middleware/json-body.ts';
import { rateLimitByCaller, rateLimitByIp } from './middleware/rate-limit.ts';
import { serverRequestId } from './middleware/request-id.ts';
import { requestLog } from './middleware/request-log.ts';
import { noStore, securityHeaders } from './middleware/secure-headers.ts';
import { REQUEST_TIMEOUT_MS, requestTimeout } from './middleware/timeout.ts';
import { auditRoutes } from './routes/audit.ts';
import { budgetRoutes } from './routes/budgets.ts';
import { GITHUB_WEBHOOK_PATH, githubWebhookRoutes } from './routes/github-webhooks.ts';
import { githubRoutes } from './routes/github.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';
import { keyRoutes } from './routes/keys.ts';
import { memberRoutes } from './routes/members.ts';
import { meRoutes } from './routes/me.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { projectRoutes } from './routes/projects.ts';
import { secretRoutes } from './routes/secrets.ts';
import { tenantRoutes } from './routes/tenant.ts';
import { usageRoutes } from './routes/usage.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { problem } from './schemas/responses.ts';
import type { AppEnv } from './types.ts';
import { validationHook } from './validation.ts';

/** Largest request body accepted on every endpoint: room for an agent job's 100 KB prompt. */
export const MAX_BODY_BYTES = 128 * 1024;

/**
 * Omni is open source under the MIT licence (LICENSE). `identifier` (an SPDX expression) is
 * OpenAPI 3.1's; hono's config type follows 3.0, which knows only `url`.
 */
const license = { name: 'MIT', identifier: 'MIT' };

/**
 * The top of the OpenAPI document (docs/openapi.json is its committed copy, checked against the
 * app by test/worker/openapi-document.test.ts; `npm run client:generate` rewrites it). Every
 * operation needs a bearer credential unless it says `security: []` (the health checks).
 */
const OPENAPI_CONFIG: Parameters<OpenAPIHono['getOpenAPI31Document']>[0] = {
  openapi: '3.1.0',
  info: {
    title: 'Omni API',
    version: '0.1.0',
    description: 'Runs coding-agent jobs and shell commands in Daytona sandboxes.',
    license,
  },
  servers: [
    { url: '/', description: 'This deployment: the origin that serves this document' },
    { url: 'http://127.0.0.1:8787', description: 'Local development (`npm start`)' },
  ],
  security: [{ bearerAuth: [] }],
  tags: [
    { name: 'Health', description: 'Liveness and readiness, without credentials.' },
    { name: 'Jobs', description: 'Create jobs, read their status and events, stream, cancel.' },
    { name: 'Projects', description: "Projects: a job's defaults, budget and allow-lists." },
    { name: 'Identity', description: 'Who the credentials are, and what they may do.' },
    { name: 'Keys', description: 'API keys of the tenant.' },
    { name: 'Members', description: 'Members signed in with JWTs, and their roles.' },
    {
      name: 'Secrets',
      description: 'Encrypted values that jobs receive as environment variables.',
    },
    { name: 'Webhooks', description: 'Subscriptions to job events and their deliveries.' },
    { name: 'Budgets', description: 'Monthly budgets and their notices.' },
    { name: 'Usage', description: 'Usage and cost, grouped.' },
    { name: 'Audit', description: 'Who did what, when, from where.' },
    { name: 'Tenant', description: 'Export and delete everything stored about the tenant.' },
    { name: 'Metrics', description: 'Prometheus metrics, for operators (a separate token).' },
    {
      name: 'GitHub',
      description:
        "The GitHub App: installations mapped to projects, and its webhook's deliveries.",
    },
  ],
};

/** Settings of the app itself; tests shorten the request timeout. */
interface AppOptions {
  requestTimeoutMs?: number;
}

/** Builds the app: the Worker makes one per isolate; tests make their own. */
export function createApp(options: AppOptions = {}): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(serverRequestId);
  app.use(requestLog);
  app.use(securityHeaders);
  // Before rate limits and auth: a preflight carries no credentials and must not use up a limit.
  app.use(corsPolicy);
  app.use('/v1/*', noStore);
  app.use('/health/ready', noStore);
  app.use(requestTimeout(options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS));
  // Before auth (and before reading the body), so that guessing credentials is limited too.
  app.use('/v1/*', rateLimitByIp);
  app.use('/health/ready', rateLimitByIp);
  app.use(GITHUB_WEBHOOK_PATH, rateLimitByIp);
  const apiBodyLimit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError(
        'payload_too_large',
        `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`,
      );
    },
  });
  // GitHub's deliveries are larger: their route sets its own limit (routes/github-webhooks.ts).
  app.use((c, next) => (c.req.path === GITHUB_WEBHOOK_PATH ? next() : apiBodyLimit(c, next)));
  // A body, whatever the method, must be JSON; an empty one counts as none (e.g. cancel).
  app.use('/v1/*', jsonBody);
  app.use('/v1/*', authenticate);
  app.use('/v1/*', rateLimitByCaller);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/health',
      operationId: 'getHealth',
      tags: ['Health'],
      summary: 'Liveness: answers without touching a dependency',
      // Public: no credentials, no rate limit.
      security: [],
      responses: {
        200: {
          description: 'Alive',
          content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
        },
        // The body limit holds for every request, a GET included.
        413: problem('Body too large'),
      },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );
  app.route('/health', healthRoutes);
  app.route('/metrics', metricsRoutes);

  app.route('/v1/jobs', jobRoutes);
  app.route('/v1/keys', keyRoutes);
  app.route('/v1/members', memberRoutes);
  app.route('/v1/projects', projectRoutes);
  app.route('/v1/audit', auditRoutes);
  app.route('/v1/tenant', tenantRoutes);
  app.route('/v1/budgets', budgetRoutes);
  app.route('/v1/usage', usageRoutes);
  app.route('/v1/secrets', secretRoutes);
  app.route('/v1/webhooks', webhookRoutes);
  app.route('/v1/me', meRoutes);
  app.route('/v1/github', githubRoutes);
  app.route(GITHUB_WEBHOOK_PATH, githubWebhookRoutes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An Omni API key: Authorization: Bearer omni_…',
  });
  app.doc31('/openapi.json', OPENAPI_CONFIG);

  app.notFound((c) => {
    throw new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}.`);
  });
  app.onError(handleError);
  return app;
}
