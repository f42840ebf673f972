/**
 * The Hono application: middleware in order (request id, log, body limit, auth), the routes,
 * the OpenAPI document generated from the route schemas, and one error handler.
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { ApiError } from './errors.ts';
import { authenticate } from './middleware/auth.ts';
import { handleError } from './middleware/errors.ts';
import { requestLog } from './middleware/request-log.ts';
import { jobRoutes } from './routes/jobs.ts';
import type { AppEnv } from './types.ts';
import { validationHook } from './validation.ts';

/** Largest request body accepted on any endpoint. */
export const MAX_BODY_BYTES = 64 * 1024;

export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(requestId({ headerName: 'X-Request-Id' }));
  app.use(requestLog);
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError(
          'payload_too_large',
          `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`,
        );
      },
    }),
  );
  app.use('/v1/*', async (c, next) => {
    const method = c.req.method;
    if (
      (method === 'POST' || method === 'PUT' || method === 'PATCH') &&
      c.req.header('content-length') !== '0'
    ) {
      const type = c.req.header('content-type') ?? '';
      if (!/^application\/json\b/i.test(type)) {
        throw new ApiError(
          'unsupported_media_type',
          'Send the body as JSON with "Content-Type: application/json".',
        );
      }
    }
    await next();
  });
  app.use('/v1/*', authenticate);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/health',
      summary: 'Liveness: answers without touching any dependency',
      responses: {
        200: {
          description: 'Alive',
          content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
        },
      },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );

  app.route('/v1/jobs', jobRoutes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An Omni API key: Authorization: Bearer omni_…',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Omni API',
      version: '0.1.0',
      description: 'Runs coding-agent jobs and shell commands in Daytona sandboxes.',
    },
  });
  app.get('/docs', swaggerUI({ url: '/openapi.json', title: 'Omni API' }));

  app.notFound((c) => {
    throw new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}.`);
  });
  app.onError(handleError);
  return app;
}
