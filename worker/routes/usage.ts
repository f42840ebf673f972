/**
 * /v1/usage: the tenant's usage report from the cost ledger (admin), grouped by project, user,
 * day or model over a bounded range of days, as JSON or, with `Accept: text/csv`, as CSV
 * (RFC 4180). Both are paginated by cursor; CSV pages link to the next one in a `Link` header.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { toUsd, utcDay } from '../../durable-objects/job/ledger.ts';
import { usageReport, type UsageGroup, type UsageSums } from '../db/ledger.ts';
import { ApiError } from '../errors.ts';
import { decodeCursor, encodeCursor } from '../lib/cursor.ts';
import { requireRole } from '../middleware/auth.ts';
import { authChallenge, problem, scopeChallenge, security } from '../schemas/responses.ts';
import {
  rangeProblem,
  UsageQuerySchema,
  UsageReportSchema,
  type UsageGroupRow,
  type UsageTotals,
} from '../schemas/usage.ts';
import type { AppEnv } from '../types.ts';
import { validationHook } from '../validation.ts';

export const usageRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

usageRoutes.use('*', requireRole('admin'));

const usageRoute = createRoute({
  method: 'get',
  path: '/',
  operationId: 'getUsage',
  tags: ['Usage'],
  summary: 'Usage and cost, grouped',
  description:
    'Totals of the cost ledger (jobs created between `from` and `to`, UTC days, at most 366 of them) per project, user, day or model, in key order. `Accept: text/csv` answers the same page as CSV with a header row; its next page is in the `Link` header (rel="next").',
  security,
  request: { query: UsageQuerySchema },
  responses: {
    200: {
      description: 'A page of the report',
      content: {
        'application/json': { schema: UsageReportSchema },
        'text/csv': { schema: { type: 'string' } },
      },
    },
    400: problem('Invalid query'),
    401: problem('No valid credentials', authChallenge),
    403: problem('Role too weak', scopeChallenge),
  },
});

// Documented like the other routes, but served by a plain handler: it answers JSON or CSV.
usageRoutes.openAPIRegistry.registerPath(usageRoute);

/** The CSV columns, in order: the group's key, then its sums. */
const COLUMNS = [
  'key',
  'cost_usd',
  'llm_usd',
  'sandbox_usd',
  'reported_llm_usd',
  'input_tokens',
  'output_tokens',
  'cache_write_tokens',
  'cache_read_tokens',
  'sandbox_seconds',
  'vcpu_seconds',
  'gib_seconds',
  'jobs',
] as const;

function toTotals(sums: UsageSums): UsageTotals {
  return {
    cost_usd: toUsd(sums.costMicroUsd),
    llm_usd: toUsd(sums.llmMicroUsd),
    sandbox_usd: toUsd(sums.sandboxMicroUsd),
    reported_llm_usd: toUsd(sums.reportedMicroUsd),
    input_tokens: sums.inputTokens,
    output_tokens: sums.outputTokens,
    cache_write_tokens: sums.cacheWriteTokens,
    cache_read_tokens: sums.cacheReadTokens,
    sandbox_seconds: sums.sandboxSeconds,
    vcpu_seconds: sums.vcpuSeconds,
    gib_seconds: sums.gibSeconds,
    jobs: sums.jobs,
  };
}

/** A field as RFC 4180 §2 wants it: quoted (quotes doubled) if it holds a comma, quote or line break. */
export function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The page as CSV: a header row, then one row per group, each ended by CRLF. */
function toCsv(rows: readonly UsageGroupRow[]): string {
  const lines = [COLUMNS.join(',')];
  for (const row of rows) lines.push(COLUMNS.map((column) => csvField(row[column])).join(','));
  return lines.map((line) => `${line}\r\n`).join('');
}

/** A cursor names the grouping it belongs to, so it cannot be used with another. */
function decodeAfter(cursor: string | undefined, groupBy: UsageGroup): string | undefined {
  if (cursor === undefined) return undefined;
  const { id } = decodeCursor(cursor);
  const prefix = `${groupBy}:`;
  if (!id.startsWith(prefix)) {
    throw new ApiError('invalid_request', 'cursor belongs to another group_by.', [
      { path: 'cursor', message: `was not returned for group_by=${groupBy}` },
    ]);
  }
  return id.slice(prefix.length);
}

usageRoutes.get('/', async (c) => {
  const parsed = UsageQuerySchema.safeParse(c.req.query());
  if (!parsed.success) {
    validationHook({ ...parsed, target: 'query' }, c);
    return c.body(null, 400); // not reached: the hook throws the 400 problem
  }
  const query = parsed.data;
  const now = Date.now();
  const to = query.to ?? utcDay(now);
  const from = query.from ?? `${utcDay(now).slice(0, 7)}-01`;
  // Defaults are checked like given values: `to` alone may lie before this month.
  const problem = rangeProblem(from, to);
  if (problem !== null) {
    throw new ApiError('invalid_request', `Invalid request query: to: ${problem}`, [
      { path: 'to', message: problem },
    ]);
  }
  const report = await usageReport(c.env.DB, {
    tenantId: c.var.caller.tenantId,
    from,
    to,
    groupBy: query.group_by,
    limit: query.limit,
    after: decodeAfter(query.cursor, query.group_by),
  });
  const data: UsageGroupRow[] = report.groups.map((group) => ({
    key: group.key === '' ? null : group.key,
    ...toTotals(group),
  }));
  const nextCursor =
    report.next === null
      ? null
      : encodeCursor({ createdAt: 0, id: `${query.group_by}:${report.next}` });
  if ((c.req.header('accept') ?? '').toLowerCase().includes('text/csv')) {
    const headers: Record<string, string> = {
      'Content-Type': 'text/csv; charset=utf-8; header=present',
    };
    if (nextCursor !== null) {
      const next = new URLSearchParams({
        from,
        to,
        group_by: query.group_by,
        limit: String(query.limit),
        cursor: nextCursor,
      });
      headers.Link = `</v1/usage?${next.toString()}>; rel="next"`;
    }
    return c.body(toCsv(data), 200, headers);
  }
  return c.json(
    {
      from,
      to,
      group_by: query.group_by,
      data,
      totals: toTotals(report.totals),
      next_cursor: nextCursor,
    },
    200,
  );
});
