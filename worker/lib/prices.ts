/**
 * The price table: what a token of each model and a second of sandbox cost, from the `PRICES`
 * setting (JSON, checked with zod). The table has an id (a date, typically) that every ledger
 * line records, so a line can always be traced to the prices it was computed with. docs/cost.md
 * describes the format and where the default numbers come from.
 */
import { z } from 'zod';
import { ConfigError } from '../config.ts';

const usdPerMillion = z.number().nonnegative();

const modelPriceSchema = z.strictObject({
  /** USD per million input tokens. */
  input: usdPerMillion,
  /** USD per million output tokens. */
  output: usdPerMillion,
  /** USD per million tokens written to the prompt cache. */
  cache_write: usdPerMillion,
  /** USD per million tokens read from the prompt cache. */
  cache_read: usdPerMillion,
});

export type ModelPrice = z.infer<typeof modelPriceSchema>;

const priceTableSchema = z.strictObject({
  /** Names this table on every ledger line (e.g. the date the prices were taken). */
  id: z.string().min(1).max(64),
  /**
   * Prices by model name prefix: the longest prefix of a (normalised) model name wins, so
   * `claude-opus-4-1` can be priced apart from the `claude-opus` family a new version falls into.
   */
  models: z.record(z.string().min(1), modelPriceSchema),
  sandbox: z.strictObject({
    /** USD per vCPU-second. */
    vcpu_second: z.number().nonnegative(),
    /** USD per GiB-second of memory. */
    gib_second: z.number().nonnegative(),
    /** USD per GiB-second of disk. */
    disk_gib_second: z.number().nonnegative().default(0),
  }),
});

export type PriceTable = z.infer<typeof priceTableSchema>;

const settingSchema = z.object({ PRICES: z.string().min(1) });

/**
 * The price table of the `PRICES` setting.
 * @throws ConfigError naming PRICES if it is missing, not JSON or not a price table.
 */
export function loadPrices(env: object): PriceTable {
  const setting = settingSchema.safeParse(env);
  if (!setting.success) throw new ConfigError('The setting PRICES is missing.');
  let value: unknown;
  try {
    value = JSON.parse(setting.data.PRICES);
  } catch {
    throw new ConfigError('The setting PRICES is not valid JSON.');
  }
  const parsed = priceTableSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `The setting PRICES is invalid at ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
    );
  }
  return parsed.data;
}

/**
 * A model name as the table keys it: lower case, without a bracketed variant suffix such as the
 * CLI's `[1m]` (a context-window flag, priced like the model itself).
 */
export function normaliseModel(model: string): string {
  return model
    .toLowerCase()
    .replace(/\[[^\]]*\]$/, '')
    .trim();
}

/** The price of `model`: the entry with the longest matching prefix, or null if none matches. */
export function modelPrice(table: PriceTable, model: string): ModelPrice | null {
  const name = normaliseModel(model);
  let best: { prefix: string; price: ModelPrice } | null = null;
  for (const [prefix, price] of Object.entries(table.models)) {
    if (name.startsWith(prefix.toLowerCase()) && (!best || prefix.length > best.prefix.length)) {
      best = { prefix, price };
    }
  }
  return best?.price ?? null;
}

const budgetSettingsSchema = z.object({
  BUDGET_CHECK_SECONDS: z.coerce.number().int().positive().default(10),
  BUDGET_AGENT_RESERVE_USD: z.coerce.number().nonnegative().default(1),
});

/** How budgets are enforced (docs/cost.md). */
export interface BudgetSettings {
  /** How often a running job prices itself and asks its TenantDO whether a budget was crossed. */
  checkSeconds: number;
  /** What an agent job without its own cap reserves against its budgets, in micro USD. */
  agentReserveMicroUsd: number;
}

/**
 * `BUDGET_CHECK_SECONDS` (default 10) and `BUDGET_AGENT_RESERVE_USD` (default 1).
 * @throws ConfigError naming the bad setting.
 */
export function loadBudgetSettings(env: object): BudgetSettings {
  const parsed = budgetSettingsSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `The setting ${issue?.path.join('.') ?? ''} is missing or invalid: ${issue?.message ?? ''}`,
    );
  }
  return {
    checkSeconds: parsed.data.BUDGET_CHECK_SECONDS,
    agentReserveMicroUsd: Math.round(parsed.data.BUDGET_AGENT_RESERVE_USD * 1_000_000),
  };
}
