/** Request and response schemas of /v1/budgets: the tenant's budgets and their notices. */
import { z } from '@hono/zod-openapi';
import { nextCursor, pageQuery } from './page.ts';

const usd = z.number().openapi({ description: 'US dollars.' });

const BudgetSchema = z
  .object({
    scope: z.enum(['tenant', 'project']),
    id: z.string().openapi({ description: 'The tenant id, or the project id.' }),
    name: z
      .string()
      .nullable()
      .openapi({ description: "The project's name; null for the tenant." }),
    limit_usd: usd.openapi({ description: 'The monthly budget.' }),
    spend_usd: usd.openapi({
      description: 'What jobs created this month (UTC) have cost so far, running ones included.',
    }),
    reserved_usd: usd.openapi({
      description: 'What running jobs still hold in reserve beyond what they have spent.',
    }),
  })
  .openapi('Budget');

export type Budget = z.infer<typeof BudgetSchema>;

const NoticeSchema = z
  .object({
    scope: z.enum(['tenant', 'project']),
    id: z.string(),
    month: z.string().openapi({ example: '2026-12' }),
    threshold: z
      .number()
      .int()
      .openapi({ description: 'Percent of the budget: 80, 90, 95 or 100.' }),
    spend_usd: usd,
    limit_usd: usd,
    created_at: z.iso.datetime(),
  })
  .openapi('BudgetNotice');

export type Notice = z.infer<typeof NoticeSchema>;

export const BudgetsSchema = z
  .object({
    month: z.string().openapi({ description: 'The current month, UTC.', example: '2026-12' }),
    budgets: z.array(BudgetSchema).openapi({
      description: "The tenant's budget (if set) and every project budget, this month.",
    }),
    notices: z.array(NoticeSchema).openapi({ description: 'A page of notices, newest first.' }),
    next_cursor: nextCursor,
  })
  .openapi('Budgets');

export const BudgetsQuerySchema = z.strictObject(pageQuery);

export const PutTenantBudgetSchema = z
  .strictObject({
    monthly_budget_usd: z.number().nonnegative().max(1_000_000_000).nullable().openapi({
      description: "The tenant's monthly budget in USD; null removes it.",
      example: 500,
    }),
  })
  .openapi('PutTenantBudget');

export const TenantBudgetSchema = z
  .object({
    monthly_budget_usd: usd.nullable(),
    month: z.string(),
    spend_usd: usd,
    reserved_usd: usd,
  })
  .openapi('TenantBudget');
