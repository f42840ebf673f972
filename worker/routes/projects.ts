/**
 * /v1/projects: the tenant's projects, each with a monthly budget, a repository allow-list and
 * the shape of its jobs' sandboxes (docs/projects.md). Every role may read them; admins and
 * owners create and change them. The default project, used by jobs that name none, is created
 * the first time it is needed and is listed like every other.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { loadConfig, type Config } from '../config.ts';
import {
  DEFAULT_PROJECT_NAME,
  defaultProjectId,
  ensureDefaultProject,
  findProject,
  insertProject,
  listProjects,
  newProjectId,
  updateProject,
  type Project,
  type ProjectChanges,
} from '../db/projects.ts';
import { resolveShape, shapeProblems, type ProjectSandbox } from '../domain/sandbox-shape.ts';
import { ApiError } from '../errors.ts';
import { audit } from '../lib/audit.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { checkAllowList } from '../lib/repo-allow-list.ts';
import { requireRole } from '../middleware/auth.ts';
import { NoQuerySchema } from '../schemas/page.ts';
import {
  CreateProjectBodySchema,
  ListProjectsQuerySchema,
  ProjectIdParamsSchema,
  ProjectListSchema,
  ProjectSchema,
  UpdateProjectBodySchema,
  sandboxFromApi,
  sandboxToApi,
  shapeToApi,
  type ProjectBody,
} from '../schemas/projects.ts';
import { authChallenge, problem, scopeChallenge, security } from '../schemas/responses.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';

export const projectRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

projectRoutes.on(['POST', 'PATCH'], '*', requireRole('admin'));

/** Dollars to millionths of a dollar, as stored. */
const toMicro = (usd: number) => Math.round(usd * 1_000_000);

/** Renders a project as the API shows it. */
function toBody(project: Project, config: Config): ProjectBody {
  return {
    id: project.id,
    name: project.name,
    is_default: project.isDefault,
    monthly_budget_usd:
      project.monthlyBudgetMicroUsd === null ? null : project.monthlyBudgetMicroUsd / 1_000_000,
    repo_allow_list: project.repoAllowList,
    sandbox: sandboxToApi(project.sandbox),
    sandbox_effective: shapeToApi(resolveShape(project.sandbox, config.sandbox)),
    created_at: new Date(project.createdAt).toISOString(),
    updated_at: new Date(project.updatedAt).toISOString(),
  };
}

/**
 * Checks sandbox settings against the operator's limits.
 * @throws ApiError 400 naming each field above its limit (and the setting that sets the limit).
 */
function checkSandbox(sandbox: ProjectSandbox | null, config: Config): void {
  const problems = shapeProblems(resolveShape(sandbox, config.sandbox), config.sandbox);
  const first = problems[0];
  if (first) throw new ApiError('invalid_request', `${first.path} ${first.message}`, problems);
}

/** The name `default` belongs to the default project, so that it can always be created. */
function refuseReservedName(name: string): void {
  if (name === DEFAULT_PROJECT_NAME) {
    throw new ApiError(
      'conflict',
      `The name ${DEFAULT_PROJECT_NAME} is the default project's; choose another name.`,
    );
  }
}

const nameTaken = (name: string) =>
  new ApiError('conflict', `A project named ${name} already exists; choose another name.`);

const createProjectRoute = createRoute({
  method: 'post',
  path: '/',
  operationId: 'createProject',
  tags: ['Projects'],
  summary: 'Create a project',
  description:
    "Names are unique per tenant. The sandbox settings may not exceed the operator's limits.",
  security,
  request: {
    query: NoQuerySchema,
    body: { required: true, content: { 'application/json': { schema: CreateProjectBodySchema } } },
  },
  responses: {
    201: { description: 'Created', content: { 'application/json': { schema: ProjectSchema } } },
    400: problem('Invalid body, or a sandbox setting above its limit'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    409: problem('The name is taken'),
    503: problem('Service misconfigured'),
  },
});

projectRoutes.openapi(createProjectRoute, async (c) => {
  const body = c.req.valid('json');
  const config = loadConfig(c.env);
  const repoAllowList = checkAllowList(body.repo_allow_list ?? [], config);
  const sandbox = body.sandbox ? sandboxFromApi(body.sandbox) : null;
  checkSandbox(sandbox, config);
  refuseReservedName(body.name);
  const now = Date.now();
  const project: Project = {
    id: newProjectId(),
    tenantId: c.var.caller.tenantId,
    name: body.name,
    isDefault: false,
    monthlyBudgetMicroUsd:
      body.monthly_budget_usd === undefined || body.monthly_budget_usd === null
        ? null
        : toMicro(body.monthly_budget_usd),
    repoAllowList,
    sandbox,
    createdAt: now,
    updatedAt: now,
  };
  if (!(await insertProject(c.env.DB, project))) throw nameTaken(body.name);
  await audit(c, 'project.create', project.id, { name: project.name });
  c.header('Location', `/v1/projects/${project.id}`);
  return c.json(toBody(project, config), 201);
});

const listProjectsRoute = createRoute({
  method: 'get',
  path: '/',
  operationId: 'listProjects',
  tags: ['Projects'],
  summary: 'List projects, newest first',
  description: 'The default project is always among them.',
  security,
  request: { query: ListProjectsQuerySchema },
  responses: {
    200: {
      description: 'A page of projects',
      content: { 'application/json': { schema: ProjectListSchema } },
    },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
    503: problem('Service misconfigured'),
  },
});

projectRoutes.openapi(listProjectsRoute, async (c) => {
  const { limit, cursor } = c.req.valid('query');
  const config = loadConfig(c.env);
  const tenantId = c.var.caller.tenantId;
  // On the first page only: later pages are read on from a cursor of a list that had it.
  if (!cursor) await ensureDefaultProject(c.env.DB, tenantId);
  const { rows, next } = await listProjects(c.env.DB, tenantId, {
    limit,
    cursor: cursor ? decodeCursor(cursor) : undefined,
  });
  return c.json(
    {
      data: rows.map((project) => toBody(project, config)),
      next_cursor: next ? encodeCursor(next) : null,
    },
    200,
  );
});

/** The caller's project `id`; the default one is created if this is its first use. */
async function projectOf(d1: D1Database, tenantId: string, id: string): Promise<Project> {
  const found = await findProject(d1, tenantId, id);
  if (found) return found;
  if (id === (await defaultProjectId(tenantId))) return ensureDefaultProject(d1, tenantId);
  throw new ApiError('not_found', `No project with id ${id}.`);
}

const getProjectRoute = createRoute({
  method: 'get',
  path: '/{id}',
  operationId: 'getProject',
  tags: ['Projects'],
  summary: 'Get a project',
  security,
  request: { params: ProjectIdParamsSchema, query: NoQuerySchema },
  responses: {
    200: { description: 'The project', content: { 'application/json': { schema: ProjectSchema } } },
    401: problem('No valid credentials', authChallenge),
    404: problem('No such project'),
    503: problem('Service misconfigured'),
  },
});

projectRoutes.openapi(getProjectRoute, async (c) => {
  const { id } = c.req.valid('param');
  const config = loadConfig(c.env);
  const project = await projectOf(c.env.DB, c.var.caller.tenantId, id);
  return c.json(toBody(project, config), 200);
});

const updateProjectRoute = createRoute({
  method: 'patch',
  path: '/{id}',
  operationId: 'updateProject',
  tags: ['Projects'],
  summary: 'Change a project',
  description:
    'Only the fields sent change; monthly_budget_usd: null removes the budget, sandbox: null returns to the defaults. Jobs already created keep the sandbox shape they were created with.',
  security,
  request: {
    params: ProjectIdParamsSchema,
    query: NoQuerySchema,
    body: { required: true, content: { 'application/json': { schema: UpdateProjectBodySchema } } },
  },
  responses: {
    200: { description: 'The project', content: { 'application/json': { schema: ProjectSchema } } },
    400: problem('Invalid body, or a sandbox setting above its limit'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
    404: problem('No such project'),
    409: problem('The name is taken'),
    503: problem('Service misconfigured'),
  },
});

projectRoutes.openapi(updateProjectRoute, async (c) => {
  const { id } = c.req.valid('param');
  const body = c.req.valid('json');
  const config = loadConfig(c.env);
  const tenantId = c.var.caller.tenantId;
  const changes: ProjectChanges = {};
  if (body.repo_allow_list !== undefined) {
    changes.repoAllowList = checkAllowList(body.repo_allow_list, config);
  }
  if (body.sandbox !== undefined) {
    changes.sandbox = body.sandbox === null ? null : sandboxFromApi(body.sandbox);
    checkSandbox(changes.sandbox, config);
  }
  if (body.monthly_budget_usd !== undefined) {
    changes.monthlyBudgetMicroUsd =
      body.monthly_budget_usd === null ? null : toMicro(body.monthly_budget_usd);
  }
  const current = await projectOf(c.env.DB, tenantId, id);
  if (body.name !== undefined && body.name !== current.name) {
    if (!current.isDefault) refuseReservedName(body.name);
    changes.name = body.name;
  }
  const outcome = await updateProject(c.env.DB, tenantId, id, changes, Date.now());
  if (outcome.kind === 'name_taken') throw nameTaken(body.name ?? '');
  if (outcome.kind === 'not_found') throw new ApiError('not_found', `No project with id ${id}.`);
  await audit(c, 'project.update', id, {
    name: outcome.project.name,
    changed: Object.keys(body).sort(),
  });
  return c.json(toBody(outcome.project, config), 200);
});
