/** Logs every request as one JSON line once it has been answered. */
import { createMiddleware } from 'hono/factory';
import { log } from '../lib/log.ts';
import type { AppEnv } from '../types.ts';

export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  log(c.res.status >= 500 ? 'error' : 'info', 'request', {
    request_id: c.var.requestId,
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    duration_ms: Math.round((performance.now() - started) * 10) / 10,
    tenant_id: c.var.caller?.tenantId,
  });
});
