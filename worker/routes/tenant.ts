/**
 * /v1/tenant: the caller's tenant as a whole, for its owners (docs/tenant-data.md). Export
 * streams everything stored about it as one JSON document; delete removes it for good, carried
 * out by the tenant's Durable Object (durable-objects/tenant/deletion.ts).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { findTenant, forgetTenantCredentials } from '../db/tenant.ts';
import { ApiError } from '../errors.ts';
import { audit } from '../lib/audit.ts';
import { requireRole } from '../middleware/auth.ts';
import { NoQuerySchema } from '../schemas/page.ts';
import { authChallenge, problem, scopeChallenge, security } from '../schemas/responses.ts';
import {
  DeleteTenantBodySchema,
  TenantDeletionSchema,
  TenantExportSchema,
} from '../schemas/tenant.ts';
import { tenantExportStream } from '../services/tenant-export.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';

export const tenantRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

tenantRoutes.use('*', requireRole('owner'));

/** A file name made of the tenant id's safe characters. */
function exportFileName(tenantId: string): string {
  return `omni-export-${tenantId.replace(/[^A-Za-z0-9_-]/g, '_')}.json`;
}

const exportRoute = createRoute({
  method: 'get',
  path: '/export',
  operationId: 'exportTenant',
  tags: ['Tenant'],
  summary: 'Export everything stored about the tenant',
  description:
    'One JSON document, streamed: the tenant, its API keys (never a key or its hash), members, jobs with their event logs, idempotency keys and audit log, as stored. A download that breaks off midway is not a valid document.',
  security,
  request: { query: NoQuerySchema },
  responses: {
    200: {
      description: 'The export, as an attachment',
      content: { 'application/json': { schema: TenantExportSchema } },
    },
    401: problem('No valid credentials', authChallenge),
    403: problem('Only owners may export the tenant', scopeChallenge),
  },
});

// Documented like the other routes, but served by a plain handler: zod-openapi types a JSON
// response as a value for c.json(), and this one is a stream.
tenantRoutes.openAPIRegistry.registerPath(exportRoute);

tenantRoutes.get('/export', async (c) => {
  const query = NoQuerySchema.safeParse(c.req.query());
  if (!query.success) validationHook({ ...query, target: 'query' }, c);
  const { tenantId } = c.var.caller;
  const tenant = await findTenant(c.env.DB, tenantId);
  if (!tenant || tenant.deletedAt !== null) {
    throw new ApiError('not_found', `No tenant with id ${tenantId}.`);
  }
  // Recorded before the first byte, so every export that was served is in the log (and in it).
  await audit(c, 'tenant.export', tenantId);
  // A plain Response: the typed c.json() would need the whole document in memory.
  return new Response(tenantExportStream(c.env, tenant, c.var.requestId), {
    status: 200,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Disposition': `attachment; filename="${exportFileName(tenantId)}"`,
    },
  });
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/',
  operationId: 'deleteTenant',
  tags: ['Tenant'],
  summary: 'Delete the tenant and everything stored about it',
  description:
    'Send `{ "confirm": "<your tenant id>" }`. Every key is revoked and every member removed at once; running jobs are canceled, their sandboxes deleted, and every row and stored output removed shortly after. One `tenant.delete` audit entry is kept. Asking again while the deletion runs answers the same. It cannot be undone.',
  security,
  request: {
    query: NoQuerySchema,
    body: { required: false, content: { 'application/json': { schema: DeleteTenantBodySchema } } },
  },
  responses: {
    202: {
      description: 'The deletion has begun: no credential of the tenant works from now on',
      content: { 'application/json': { schema: TenantDeletionSchema } },
    },
    400: problem('No confirmation, or not the tenant id'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Only owners may delete the tenant', scopeChallenge),
  },
});

tenantRoutes.openapi(deleteRoute, async (c) => {
  const caller = c.var.caller;
  // zod-openapi hands an optional body over unparsed ({}) when none was sent: parse it here.
  const { confirm } = DeleteTenantBodySchema.parse(c.req.valid('json'));
  if (confirm !== caller.tenantId) {
    const send = `{ "confirm": "${caller.tenantId}" }`;
    throw new ApiError(
      'invalid_request',
      `Deleting the tenant removes all of its keys, members, jobs and their output for good. To confirm, send ${send} as the body.`,
      [{ path: 'confirm', message: `must be your tenant id, "${caller.tenantId}"` }],
    );
  }
  const { requestedAt } = await c.env.TENANT.getByName(caller.tenantId).deleteTenant({
    tenantId: caller.tenantId,
    actor: caller.actor,
    requestId: c.var.requestId,
    ip: c.req.header('cf-connecting-ip') ?? null,
    time: Date.now(),
  });
  // The tombstone was written by the TenantDO, perhaps in another isolate: forget here too.
  forgetTenantCredentials();
  return c.json(
    {
      status: 'deleting' as const,
      tenant_id: caller.tenantId,
      requested_at: new Date(requestedAt).toISOString(),
    },
    202,
  );
});
