/**
 * Logs every request as one JSON line once it has been answered, with the server's request id
 * and, if the client sent its own `X-Request-Id`, that too (`client_request_id`, bounded), and
 * once authenticated, the tenant and the caller (`user_id`: `key:<id>` or `user:<subject>`).
 * The path is logged without its query string, which may hold a stream token.
 */
import { createMiddleware } from 'hono/factory';
import { log } from '../lib/log.ts';
import type { AppEnv } from '../types.ts';
import { clientRequestId, REQUEST_ID_HEADER } from './request-id.ts';

export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  log(c.res.status >= 500 ? 'error' : 'info', 'request', {
    request_id: c.var.requestId,
    client_request_id: clientRequestId(c.req.header(REQUEST_ID_HEADER)),
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    duration_ms: Math.round((performance.now() - started) * 10) / 10,
    tenant_id: c.var.caller?.tenantId,
    user_id: c.var.caller?.actor,
  });
});
