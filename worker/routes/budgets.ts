/**
 * /v1/budgets: the tenant's monthly budgets with their spend and reservations (kept exactly by
 * the TenantDO), the notices at 80, 90, 95 and 100 % (admin), and the tenant's own budget
 * (owner). Project budgets are set on the project (PATCH /v1/projects/{id}). docs/cost.md.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { toMicroUsd, toUsd, utcMonth } from '../../durable-objects/job/ledger.ts';
import { budgetedProjects, listBudgetNotices } from '../db/ledger.ts';
import type { BudgetNoticeRow } from '../db/schema.ts';
import { audit } from '../lib/audit.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { requireRole } from '../middleware/auth.ts';
import {
  BudgetsQuerySchema,
  BudgetsSchema,
  PutTenantBudgetSchema,
  TenantBudgetSchema,
  type Budget,
  type Notice,
} from '../schemas/budgets.ts';
import { NoQuerySchema } from '../schemas/page.ts';
import { authChallenge, problem, scopeChallenge, security } from '../schemas/responses.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';

export const budgetRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

budgetRoutes.use('*', requireRole('admin'));
budgetRoutes.on('PUT', '/*', requireRole('owner'));

/** Project budgets listed at most; more projects with a budget than this are not shown. */
const MAX_PROJECT_BUDGETS = 100;

function toNotice(row: BudgetNoticeRow): Notice {
  return {
    scope: row.scope,
    id: row.scopeId,
    month: row.month,
    threshold: row.threshold,
    spend_usd: toUsd(row.spendMicroUsd),
    limit_usd: toUsd(row.limitMicroUsd),
    created_at: new Date(row.createdAt).toISOString(),
  };
}

const getBudgets = createRoute({
  method: 'get',
  path: '/',
  operationId: 'getBudgets',
  tags: ['Budgets'],
  summary: 'Budgets, their spend this month, and the notices',
  description:
    "The tenant's monthly budget and every project budget with this month's spend and what running jobs reserve, and a page of notices (80, 90, 95 and 100 % of a budget, once each per month), newest first.",
  security,
  request: { query: BudgetsQuerySchema },
  responses: {
    200: { description: 'Budgets', content: { 'application/json': { schema: BudgetsSchema } } },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
  },
});

budgetRoutes.openapi(getBudgets, async (c) => {
  const { limit, cursor } = c.req.valid('query');
  const tenantId = c.var.caller.tenantId;
  const month = utcMonth(Date.now());
  const [projects, notices] = await Promise.all([
    budgetedProjects(c.env.DB, tenantId, MAX_PROJECT_BUDGETS),
    listBudgetNotices(c.env.DB, tenantId, {
      limit,
      cursor: cursor ? decodeCursor(cursor) : undefined,
    }),
  ]);
  const status = await c.env.TENANT.getByName(tenantId).budgetStatus(
    tenantId,
    month,
    projects.map(({ id, limitMicroUsd }) => ({ id, limitMicroUsd })),
  );
  const budgets: Budget[] = [];
  if (status.tenant.limitMicroUsd !== null) {
    budgets.push({
      scope: 'tenant',
      id: tenantId,
      name: null,
      limit_usd: toUsd(status.tenant.limitMicroUsd),
      spend_usd: toUsd(status.tenant.spendMicroUsd),
      reserved_usd: toUsd(status.tenant.reservedMicroUsd),
    });
  }
  const names = new Map(projects.map((p) => [p.id, p.name]));
  for (const project of status.projects) {
    budgets.push({
      scope: 'project',
      id: project.scopeId,
      name: names.get(project.scopeId) ?? null,
      limit_usd: toUsd(project.limitMicroUsd),
      spend_usd: toUsd(project.spendMicroUsd),
      reserved_usd: toUsd(project.reservedMicroUsd),
    });
  }
  return c.json(
    {
      month,
      budgets,
      notices: notices.rows.map(toNotice),
      next_cursor: notices.next ? encodeCursor(notices.next) : null,
    },
    200,
  );
});

const putTenantBudget = createRoute({
  method: 'put',
  path: '/tenant',
  operationId: 'setTenantBudget',
  tags: ['Budgets'],
  summary: "Set the tenant's monthly budget",
  description:
    'Jobs are refused with 402 once the month’s spend plus what running jobs reserve reaches it, and running jobs are stopped once their spend reaches it. null removes the budget.',
  security,
  request: {
    query: NoQuerySchema,
    body: { required: true, content: { 'application/json': { schema: PutTenantBudgetSchema } } },
  },
  responses: {
    200: {
      description: 'The budget as set',
      content: { 'application/json': { schema: TenantBudgetSchema } },
    },
    400: problem('Invalid body'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Only owners set the tenant budget', scopeChallenge),
  },
});

budgetRoutes.openapi(putTenantBudget, async (c) => {
  const { monthly_budget_usd } = c.req.valid('json');
  const tenantId = c.var.caller.tenantId;
  const tenant = c.env.TENANT.getByName(tenantId);
  const month = utcMonth(Date.now());
  const before = await tenant.budgetStatus(tenantId, month, []);
  const limit = monthly_budget_usd === null ? null : toMicroUsd(monthly_budget_usd);
  await tenant.setTenantBudget(tenantId, limit);
  await audit(c, 'budget.set', tenantId, {
    scope: 'tenant',
    old_monthly_budget_usd:
      before.tenant.limitMicroUsd === null ? null : toUsd(before.tenant.limitMicroUsd),
    new_monthly_budget_usd: monthly_budget_usd,
  });
  return c.json(
    {
      monthly_budget_usd: limit === null ? null : toUsd(limit),
      month,
      spend_usd: toUsd(before.tenant.spendMicroUsd),
      reserved_usd: toUsd(before.tenant.reservedMicroUsd),
    },
    200,
  );
});
