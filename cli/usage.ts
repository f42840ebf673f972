/** `omni usage [--month YYYY-MM]`: a month's cost and usage from the cost ledger (admin). */
import type { Command } from 'commander';
import { call, connect } from './api.ts';
import { ApiFailure, UsageError } from './errors.ts';
import { table } from './jobs.ts';
import { formatUsd } from './terminal.ts';

const GROUPS = ['day', 'project', 'user', 'model'] as const;
type Group = (typeof GROUPS)[number];

function isGroup(value: string): value is Group {
  return (GROUPS as readonly string[]).includes(value);
}

/** The first and last UTC day of `month` (YYYY-MM; default: this month). */
export function monthRange(
  month: string | undefined,
  now = new Date(),
): { from: string; to: string } {
  const value = month ?? now.toISOString().slice(0, 7);
  const match = /^(\d{4})-(\d{2})$/.exec(value);
  const year = Number(match?.[1]);
  const index = Number(match?.[2]) - 1;
  if (!match || index < 0 || index > 11) throw new UsageError(`--month ${value}: expected YYYY-MM`);
  const last = new Date(Date.UTC(year, index + 1, 0)).getUTCDate();
  return { from: `${value}-01`, to: `${value}-${String(last).padStart(2, '0')}` };
}

interface UsageFlags {
  month?: string;
  groupBy: string;
  json?: boolean;
}

async function usage(flags: UsageFlags): Promise<number> {
  const { from, to } = monthRange(flags.month);
  if (!isGroup(flags.groupBy))
    throw new UsageError(`--group-by must be one of ${GROUPS.join(', ')}`);
  const groupBy = flags.groupBy;
  const api = await connect();
  const rows: string[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await call(
      api,
      api.client.GET('/v1/usage', {
        params: {
          query: { from, to, group_by: groupBy, limit: 1000, ...(cursor ? { cursor } : {}) },
        },
      }),
    );
    // The route can answer CSV too, but only when asked for it (Accept: text/csv).
    if (typeof page === 'string')
      throw new ApiFailure('The usage report came as text, not JSON.', null, null);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(page)}\n`);
    } else {
      if (rows.length === 0)
        rows.push([
          groupBy.toUpperCase(),
          'JOBS',
          'COST',
          'LLM',
          'SANDBOX',
          'TOKENS IN/OUT',
          'SANDBOX S',
        ]);
      for (const g of [
        ...page.data,
        ...(page.next_cursor ? [] : [{ ...page.totals, key: 'total' }]),
      ]) {
        rows.push([
          g.key ?? '(none)',
          String(g.jobs),
          formatUsd(g.cost_usd),
          formatUsd(g.llm_usd),
          formatUsd(g.sandbox_usd),
          `${g.input_tokens}/${g.output_tokens}`,
          String(g.sandbox_seconds),
        ]);
      }
    }
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  if (!flags.json) process.stdout.write(`${from} to ${to}\n${table(rows)}\n`);
  return 0;
}

export function registerUsage(program: Command, exit: (code: number) => void): void {
  program
    .command('usage')
    .description("A month's cost and usage, grouped (needs an admin key)")
    .option('--month <YYYY-MM>', 'the month (default: this one, UTC)')
    .option('--group-by <group>', `one of ${GROUPS.join(', ')}`, 'day')
    .option('--json', 'the report pages as JSON, one per line')
    .action(async (flags: UsageFlags) => exit(await usage(flags)));
}
