/**
 * The job's cost ledger as pure functions of its state, a price table and the clock: one `llm`
 * line per model the agent used and one `sandbox` line for the sandbox's time from create to
 * delete, in millionths of a US dollar ("micro USD"). The Job DO writes these lines to D1
 * (worker/db/ledger.ts) and reports their total to its TenantDO; docs/cost.md explains the maths.
 */
import { z } from 'zod';
import type { UsageLedgerRow } from '../../worker/db/schema.ts';
import { modelPrice, type PriceTable } from '../../worker/lib/prices.ts';
import type { JobState, SandboxShape } from './state.ts';

/**
 * The size a sandbox without a recorded shape is priced at: Daytona's default sandbox (1 vCPU,
 * 1 GiB of memory, 3 GiB of disk).
 */
export const DEFAULT_SHAPE: Pick<SandboxShape, 'cpu' | 'memoryGiB' | 'diskGiB'> = {
  cpu: 1,
  memoryGiB: 1,
  diskGiB: 3,
};

/**
 * Marks the `price_table` of a line whose model the table does not know: its cost is what the
 * agent CLI itself reported.
 */
export const REPORTED_SUFFIX = '+reported';

/** One ledger line; the D1 row without its write time. */
export type LedgerLine = Omit<UsageLedgerRow, 'updatedAt'>;

type LedgerInput = Pick<
  JobState,
  | 'id'
  | 'tenantId'
  | 'projectId'
  | 'createdBy'
  | 'createdAt'
  | 'agentUsage'
  | 'sandboxShape'
  | 'sandboxCreatedAt'
  | 'sandboxDeletedAt'
>;

/** The UTC day (YYYY-MM-DD) of `time`. */
export function utcDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** The UTC month (YYYY-MM) of `time`: a job's whole cost counts in the month it was created. */
export function utcMonth(time: number): string {
  return new Date(time).toISOString().slice(0, 7);
}

/** Whole seconds the sandbox has existed by `now` (or existed, once deleted), rounded up. */
export function sandboxSeconds(
  state: Pick<JobState, 'sandboxCreatedAt' | 'sandboxDeletedAt'>,
  now: number,
): number {
  if (state.sandboxCreatedAt === null) return 0;
  const end = state.sandboxDeletedAt ?? now;
  return Math.max(0, Math.ceil((end - state.sandboxCreatedAt) / 1000));
}

/** The job's ledger lines as of `now`, priced with `table`. */
export function ledgerLines(state: LedgerInput, table: PriceTable, now: number): LedgerLine[] {
  const common = {
    jobId: state.id,
    tenantId: state.tenantId,
    projectId: state.projectId,
    actor: state.createdBy,
    day: utcDay(state.createdAt),
  };
  const lines: LedgerLine[] = [];
  for (const [model, usage] of Object.entries(state.agentUsage).sort(([a], [b]) =>
    a < b ? -1 : 1,
  )) {
    const price = modelPrice(table, model);
    // USD per million tokens times tokens is micro USD: no scaling needed.
    const cost =
      price === null
        ? usage.reportedCostMicroUsd
        : Math.round(
            usage.inputTokens * price.input +
              usage.outputTokens * price.output +
              usage.cacheWriteTokens * price.cache_write +
              usage.cacheReadTokens * price.cache_read,
          );
    lines.push({
      ...common,
      item: 'llm',
      model,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      cacheWriteTokens: usage.cacheWriteTokens,
      cacheReadTokens: usage.cacheReadTokens,
      sandboxSeconds: 0,
      vcpuSeconds: 0,
      gibSeconds: 0,
      costMicroUsd: cost,
      reportedCostMicroUsd: usage.reportedCostMicroUsd,
      priceTable: price === null ? `${table.id}${REPORTED_SUFFIX}` : table.id,
    });
  }
  if (state.sandboxCreatedAt !== null) {
    const seconds = sandboxSeconds(state, now);
    const shape = state.sandboxShape ?? DEFAULT_SHAPE;
    const { vcpu_second, gib_second, disk_gib_second } = table.sandbox;
    const usd =
      seconds *
      (shape.cpu * vcpu_second + shape.memoryGiB * gib_second + shape.diskGiB * disk_gib_second);
    lines.push({
      ...common,
      item: 'sandbox',
      model: '',
      inputTokens: 0,
      outputTokens: 0,
      cacheWriteTokens: 0,
      cacheReadTokens: 0,
      sandboxSeconds: seconds,
      vcpuSeconds: Math.round(seconds * shape.cpu),
      gibSeconds: Math.round(seconds * shape.memoryGiB),
      costMicroUsd: Math.round(usd * 1_000_000),
      reportedCostMicroUsd: null,
      priceTable: table.id,
    });
  }
  return lines;
}

const count = z.number().int().nonnegative();

/**
 * A job's cost as the API shows it (on the job and on its final `status` event): dollars as
 * numbers, tokens and seconds as counts. `reported_llm_usd` is what the agent CLI itself
 * reported for its tokens (its own list prices); `price_table` is null while nothing was priced.
 */
export const costSummarySchema = z.object({
  total_usd: z.number(),
  llm_usd: z.number(),
  sandbox_usd: z.number(),
  reported_llm_usd: z.number(),
  input_tokens: count,
  output_tokens: count,
  cache_write_tokens: count,
  cache_read_tokens: count,
  sandbox_seconds: count,
  price_table: z.string().nullable(),
});

export type CostSummary = z.infer<typeof costSummarySchema>;

/** Micro USD as dollars. */
export function toUsd(micro: number): number {
  return micro / 1_000_000;
}

/** Dollars as micro USD (rounded to the nearest millionth). */
export function toMicroUsd(usd: number): number {
  return Math.round(usd * 1_000_000);
}

/** The job's total, in micro USD. */
export function totalMicroUsd(lines: readonly Pick<LedgerLine, 'costMicroUsd'>[]): number {
  return lines.reduce((sum, line) => sum + line.costMicroUsd, 0);
}

/** Sums ledger lines into a {@link CostSummary}. */
export function summarise(lines: readonly LedgerLine[]): CostSummary {
  let llm = 0;
  let sandbox = 0;
  let reported = 0;
  const summary: CostSummary = {
    total_usd: 0,
    llm_usd: 0,
    sandbox_usd: 0,
    reported_llm_usd: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_write_tokens: 0,
    cache_read_tokens: 0,
    sandbox_seconds: 0,
    price_table: lines[0]?.priceTable.replace(REPORTED_SUFFIX, '') ?? null,
  };
  for (const line of lines) {
    if (line.item === 'llm') llm += line.costMicroUsd;
    else sandbox += line.costMicroUsd;
    reported += line.reportedCostMicroUsd ?? 0;
    summary.input_tokens += line.inputTokens;
    summary.output_tokens += line.outputTokens;
    summary.cache_write_tokens += line.cacheWriteTokens;
    summary.cache_read_tokens += line.cacheReadTokens;
    summary.sandbox_seconds += line.sandboxSeconds;
  }
  return {
    ...summary,
    total_usd: toUsd(llm + sandbox),
    llm_usd: toUsd(llm),
    sandbox_usd: toUsd(sandbox),
    reported_llm_usd: toUsd(reported),
  };
}
