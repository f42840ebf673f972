/** Query and response schemas of /v1/usage, the tenant's usage report from the cost ledger. */
import { z } from '@hono/zod-openapi';
import { usageGroups } from '../db/ledger.ts';
import { nextCursor } from './page.ts';

/** The longest range one report covers, in days (both ends included). */
export const MAX_USAGE_DAYS = 366;

/** What is wrong with the range `from`..`to` (YYYY-MM-DD, both included), or null. */
export function rangeProblem(from: string, to: string): string | null {
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
  if (days < 0) return `must not be before from (${from})`;
  if (days + 1 > MAX_USAGE_DAYS)
    return `must be at most ${MAX_USAGE_DAYS} days from from, both included`;
  return null;
}

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(
    (s) =>
      !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) &&
      new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    'must be a real date',
  );

export const UsageQuerySchema = z.strictObject({
  from: day.optional().openapi({
    description: 'First UTC day, included (default: the first day of this month).',
    example: '2026-12-01',
  }),
  to: day.optional().openapi({
    description: 'Last UTC day, included (default: today).',
    example: '2026-12-31',
  }),
  group_by: z.enum(usageGroups).default('day').openapi({
    description:
      '`project` (id), `user` (who created the job), `day` (the UTC day the job was created) or `model` (sandbox time under `(sandbox)`).',
  }),
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({
    description: 'Groups per page, 1 to 1000.',
  }),
  cursor: z.string().max(2048).optional().openapi({
    description: 'The next_cursor of the previous page (or follow the Link header).',
  }),
});

const usd = z.number().openapi({ description: 'US dollars.' });

const sums = {
  cost_usd: usd,
  llm_usd: usd,
  sandbox_usd: usd,
  reported_llm_usd: usd.openapi({ description: 'What the agent CLI itself reported.' }),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cache_write_tokens: z.number().int(),
  cache_read_tokens: z.number().int(),
  sandbox_seconds: z.number().int(),
  vcpu_seconds: z.number().int(),
  gib_seconds: z.number().int().openapi({ description: 'GiB-seconds of memory.' }),
  jobs: z.number().int(),
};

const UsageTotalsSchema = z.object(sums).openapi('UsageTotals');

export type UsageTotals = z.infer<typeof UsageTotalsSchema>;

const UsageGroupSchema = z
  .object({
    key: z.string().nullable().openapi({
      description: 'The project id, user, day or model of the group; null: no project or user.',
    }),
    ...sums,
  })
  .openapi('UsageGroup');

export type UsageGroupRow = z.infer<typeof UsageGroupSchema>;

export const UsageReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    group_by: z.enum(usageGroups),
    data: z.array(UsageGroupSchema),
    totals: UsageTotalsSchema.openapi({ description: 'The whole range, every group.' }),
    next_cursor: nextCursor,
  })
  .openapi('UsageReport');
