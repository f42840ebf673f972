/**
 * /v1/github (admin; docs/github.md): which project each GitHub App installation starts jobs in,
 * with its triggers and agent options, and the deliveries `POST /webhooks/github` received from
 * the tenant's installations. One installation belongs to one tenant: mapping one that another
 * tenant has mapped is a 409 that does not say which tenant.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import {
  deleteInstallation,
  getInstallation,
  listDeliveries,
  listInstallations,
  putInstallation,
} from '../db/github.ts';
import { ensureDefaultProject, findProject } from '../db/projects.ts';
import type { GitHubDeliveryRow, GitHubInstallationRow } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { GitHubInstallationSettingsSchema } from '../github/settings.ts';
import { audit } from '../lib/audit.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { requireRole } from '../middleware/auth.ts';
import {
  GitHubDeliveryListSchema,
  InstallationListSchema,
  InstallationParamsSchema,
  InstallationSchema,
  ListDeliveriesQuerySchema,
  ListInstallationsQuerySchema,
  PutInstallationBodySchema,
  type GitHubDelivery,
  type Installation,
} from '../schemas/github.ts';
import { NoQuerySchema } from '../schemas/page.ts';
import { authChallenge, problem, scopeChallenge, security } from '../schemas/responses.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';

export const githubRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

githubRoutes.use('*', requireRole('admin'));

const tags = ['GitHub'];
const iso = (ms: number) => new Date(ms).toISOString();

function toInstallation(row: GitHubInstallationRow): Installation {
  return {
    installation_id: row.installationId,
    project_id: row.projectId,
    account_login: row.accountLogin,
    // Validated when written; parsed again so that a default added since shows.
    settings: GitHubInstallationSettingsSchema.parse(JSON.parse(row.settings)),
    created_at: iso(row.createdAt),
    created_by: row.createdBy,
    updated_at: iso(row.updatedAt),
  };
}

function toDelivery(row: GitHubDeliveryRow): GitHubDelivery {
  return {
    id: row.deliveryId,
    event: row.event,
    action: row.action,
    installation_id: row.installationId,
    repository: row.repository,
    sender: row.sender,
    outcome: row.outcome,
    reason: row.reason,
    job_id: row.jobId,
    received_at: iso(row.receivedAt),
    updated_at: iso(row.updatedAt),
  };
}

const notMapped = (id: number) =>
  new ApiError('not_found', `Installation ${id} is not mapped to this tenant.`);

const putInstallationRoute = createRoute({
  method: 'put',
  path: '/installations/{installation_id}',
  operationId: 'putGitHubInstallation',
  tags,
  summary: 'Map a GitHub App installation to a project',
  description:
    "Creates the mapping, or replaces the tenant's own (its settings are replaced whole). Deliveries of the installation then start jobs in the project, as its settings say.",
  security,
  request: {
    params: InstallationParamsSchema,
    query: NoQuerySchema,
    body: {
      required: true,
      content: { 'application/json': { schema: PutInstallationBodySchema } },
    },
  },
  responses: {
    200: {
      description: 'Replaced',
      content: { 'application/json': { schema: InstallationSchema } },
    },
    201: {
      description: 'Created',
      content: { 'application/json': { schema: InstallationSchema } },
    },
    400: problem('Invalid body, or no such project'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    409: problem('Another tenant has mapped this installation'),
  },
});

githubRoutes.openapi(putInstallationRoute, async (c) => {
  const { installation_id: id } = c.req.valid('param');
  const body = c.req.valid('json');
  const { tenantId, actor } = c.var.caller;
  const project =
    body.project_id === undefined
      ? await ensureDefaultProject(c.env.DB, tenantId)
      : await findProject(c.env.DB, tenantId, body.project_id);
  if (!project) {
    const message = `no project with id ${body.project_id ?? ''}`;
    throw new ApiError('invalid_request', `project_id: ${message}.`, [
      { path: 'project_id', message },
    ]);
  }
  const settings = GitHubInstallationSettingsSchema.parse(body.settings ?? {});
  const now = Date.now();
  const result = await putInstallation(c.env.DB, {
    installationId: id,
    tenantId,
    projectId: project.id,
    accountLogin: body.account_login ?? null,
    settings: JSON.stringify(settings),
    createdBy: actor,
    createdAt: now,
    updatedAt: now,
  });
  if (result.kind === 'taken') {
    throw new ApiError(
      'conflict',
      `Installation ${id} is mapped by another tenant; it must be removed there first.`,
    );
  }
  await audit(c, 'github.installation.put', String(id), {
    project_id: project.id,
    created: result.kind === 'created',
    triggers: settings.triggers,
  });
  return result.kind === 'created'
    ? c.json(toInstallation(result.row), 201)
    : c.json(toInstallation(result.row), 200);
});

const getInstallationRoute = createRoute({
  method: 'get',
  path: '/installations/{installation_id}',
  operationId: 'getGitHubInstallation',
  tags,
  summary: "Get an installation's mapping",
  security,
  request: { params: InstallationParamsSchema, query: NoQuerySchema },
  responses: {
    200: {
      description: 'The mapping',
      content: { 'application/json': { schema: InstallationSchema } },
    },
    400: problem('Invalid installation id'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    404: problem('The installation is not mapped to this tenant'),
  },
});

githubRoutes.openapi(getInstallationRoute, async (c) => {
  const { installation_id: id } = c.req.valid('param');
  const row = await getInstallation(c.env.DB, c.var.caller.tenantId, id);
  if (!row) throw notMapped(id);
  return c.json(toInstallation(row), 200);
});

const deleteInstallationRoute = createRoute({
  method: 'delete',
  path: '/installations/{installation_id}',
  operationId: 'deleteGitHubInstallation',
  tags,
  summary: "Remove an installation's mapping",
  description:
    'Its deliveries are then acknowledged and ignored; jobs already started run on. Uninstalling the App is done on GitHub.',
  security,
  request: { params: InstallationParamsSchema, query: NoQuerySchema },
  responses: {
    204: { description: 'Removed' },
    400: problem('Invalid installation id'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    404: problem('The installation is not mapped to this tenant'),
  },
});

githubRoutes.openapi(deleteInstallationRoute, async (c) => {
  const { installation_id: id } = c.req.valid('param');
  if (!(await deleteInstallation(c.env.DB, c.var.caller.tenantId, id))) throw notMapped(id);
  await audit(c, 'github.installation.delete', String(id));
  return c.body(null, 204);
});

const listInstallationsRoute = createRoute({
  method: 'get',
  path: '/installations',
  operationId: 'listGitHubInstallations',
  tags,
  summary: "List the tenant's installations, newest first",
  security,
  request: { query: ListInstallationsQuerySchema },
  responses: {
    200: {
      description: 'A page of installations',
      content: { 'application/json': { schema: InstallationListSchema } },
    },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
  },
});

githubRoutes.openapi(listInstallationsRoute, async (c) => {
  const { limit, cursor } = c.req.valid('query');
  const position = cursor ? decodeCursor(cursor) : undefined;
  if (position && !/^\d{1,16}$/.test(position.id)) {
    throw new ApiError(
      'invalid_request',
      'cursor is not valid; pass the next_cursor of a previous page.',
      [{ path: 'cursor', message: 'is not a cursor of this list' }],
    );
  }
  const { rows, next } = await listInstallations(c.env.DB, c.var.caller.tenantId, {
    limit,
    cursor: position,
  });
  return c.json(
    { data: rows.map(toInstallation), next_cursor: next ? encodeCursor(next) : null },
    200,
  );
});

const listDeliveriesRoute = createRoute({
  method: 'get',
  path: '/deliveries',
  operationId: 'listGitHubDeliveries',
  tags,
  summary: "List the deliveries of the tenant's installations, newest first",
  description:
    'What Omni did with each delivery GitHub sent and why. Deliveries of installations not mapped to a tenant are in no list.',
  security,
  request: { query: ListDeliveriesQuerySchema },
  responses: {
    200: {
      description: 'A page of deliveries',
      content: { 'application/json': { schema: GitHubDeliveryListSchema } },
    },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
  },
});

githubRoutes.openapi(listDeliveriesRoute, async (c) => {
  const { limit, cursor, outcome } = c.req.valid('query');
  const { rows, next } = await listDeliveries(c.env.DB, c.var.caller.tenantId, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
    outcome,
  });
  return c.json({ data: rows.map(toDelivery), next_cursor: next ? encodeCursor(next) : null }, 200);
});
