/** /v1/audit: the tenant's audit log, newest first (admin or owner). */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { listAudit } from '../db/audit.ts';
import type { AuditRow } from '../db/schema.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { requireRole } from '../middleware/auth.ts';
import { AuditListSchema, ListAuditQuerySchema, type AuditEntry } from '../schemas/audit.ts';
import { authChallenge, problem, scopeChallenge, security } from '../schemas/responses.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';

export const auditRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

auditRoutes.use('*', requireRole('admin'));

const DetailsSchema = z.record(z.string(), z.unknown());

/** The stored JSON details of an entry; a row that holds anything else shows none. */
function parseDetails(text: string | null): Record<string, unknown> {
  if (text === null) return {};
  try {
    const parsed = DetailsSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    time: new Date(row.time).toISOString(),
    actor: row.actor,
    action: row.action,
    target: row.target,
    request_id: row.requestId,
    ip: row.ip,
    details: parseDetails(row.details),
  };
}

const listAuditRoute = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listAuditEntries',
  tags: ['Audit'],
  summary: 'List audit entries, newest first',
  description: 'Who did what, when, from where: key and member changes, job creation and cancels.',
  security,
  request: { query: ListAuditQuerySchema },
  responses: {
    200: {
      description: 'A page of audit entries',
      content: { 'application/json': { schema: AuditListSchema } },
    },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
  },
});

auditRoutes.openapi(listAuditRoute, async (c) => {
  const { limit, cursor, action } = c.req.valid('query');
  const { rows, next } = await listAudit(c.env.DB, c.var.caller.tenantId, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
    action,
  });
  return c.json({ data: rows.map(toEntry), next_cursor: next ? encodeCursor(next) : null }, 200);
});
