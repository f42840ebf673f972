/**
 * The pricing functions (durable-objects/job/ledger.ts, worker/lib/prices.ts): known models,
 * the family fallback for names a price table does not know yet, unknown models charged what the
 * CLI reported, cache tokens, and sandbox vCPU- and GiB-seconds.
 */
import { describe, expect, it } from 'vitest';
import {
  ledgerLines,
  REPORTED_SUFFIX,
  sandboxSeconds,
  summarise,
  totalMicroUsd,
  utcDay,
  utcMonth,
} from '../../durable-objects/job/ledger.ts';
import { ConfigError } from '../../worker/config.ts';
import {
  loadPrices,
  modelPrice,
  normaliseModel,
  type PriceTable,
} from '../../worker/lib/prices.ts';
import { previousMonth } from '../../durable-objects/tenant/budgets.ts';
import { reservationMicroUsd, type BudgetedJob } from '../../worker/services/job-budget.ts';

const table: PriceTable = {
  id: 'unit-2026-12-01',
  models: {
    'claude-opus': { input: 5, output: 25, cache_write: 6.25, cache_read: 0.5 },
    'claude-opus-4-1': { input: 15, output: 75, cache_write: 18.75, cache_read: 1.5 },
    'claude-sonnet': { input: 3, output: 15, cache_write: 3.75, cache_read: 0.3 },
  },
  sandbox: { vcpu_second: 0.000014, gib_second: 0.0000045, disk_gib_second: 0.00000003 },
};

const created = Date.UTC(2026, 11, 1, 10, 0, 0);

type LedgerInput = Parameters<typeof ledgerLines>[0];

function state(patch: Partial<LedgerInput> = {}): LedgerInput {
  return {
    id: 'job_1',
    tenantId: 'ten_1',
    projectId: 'prj_1',
    createdBy: 'key:k1',
    createdAt: created,
    agentUsage: {},
    sandboxShape: null,
    sandboxCreatedAt: null,
    sandboxDeletedAt: null,
    ...patch,
  };
}

const usage = (input: number, output: number, cacheRead = 0, cacheWrite = 0, reported = 0) => ({
  inputTokens: input,
  outputTokens: output,
  cacheReadTokens: cacheRead,
  cacheWriteTokens: cacheWrite,
  reportedCostMicroUsd: reported,
});

describe('model prices', () => {
  it('prices a known model by its longest matching prefix', () => {
    expect(modelPrice(table, 'claude-opus-4-1-20250805')?.input).toBe(15);
    expect(modelPrice(table, 'claude-sonnet-4-5-20250929')?.output).toBe(15);
  });

  it('prices a model name the table does not know yet by its family', () => {
    // CLI 2.1.332 defaults to claude-opus-5-5, 2.1.197 to claude-opus-4-8[1m]
    // (../shared/reference/claude-code/README.md): both fall into the claude-opus family.
    expect(modelPrice(table, 'claude-opus-5-5')?.input).toBe(5);
    expect(modelPrice(table, 'claude-opus-4-8[1m]')?.output).toBe(25);
    expect(normaliseModel('Claude-Opus-4-8[1m]')).toBe('claude-opus-4-8');
  });

  it('knows no price for a model outside every family', () => {
    expect(modelPrice(table, 'gpt-9')).toBeNull();
  });
});

describe('ledger lines', () => {
  it('prices input, output and both kinds of cache tokens, in micro USD', () => {
    const lines = ledgerLines(
      state({
        agentUsage: {
          'claude-sonnet-4-5': usage(1_000, 2_000, 10_000, 4_000, 99_999),
        },
      }),
      table,
      created,
    );
    expect(lines).toHaveLength(1);
    const line = lines[0];
    // 1000×3 + 2000×15 + 4000×3.75 + 10000×0.3 = 3000 + 30000 + 15000 + 3000 µ$
    expect(line?.costMicroUsd).toBe(51_000);
    expect(line).toMatchObject({
      item: 'llm',
      model: 'claude-sonnet-4-5',
      inputTokens: 1_000,
      outputTokens: 2_000,
      cacheReadTokens: 10_000,
      cacheWriteTokens: 4_000,
      reportedCostMicroUsd: 99_999,
      priceTable: 'unit-2026-12-01',
      day: '2026-12-01',
      actor: 'key:k1',
      projectId: 'prj_1',
    });
  });

  it('charges an unknown model what the CLI reported, and marks the line', () => {
    const lines = ledgerLines(
      state({ agentUsage: { 'mystery-model': usage(1_000_000, 1_000_000, 0, 0, 1_234_567) } }),
      table,
      created,
    );
    expect(lines[0]?.costMicroUsd).toBe(1_234_567);
    expect(lines[0]?.priceTable).toBe(`unit-2026-12-01${REPORTED_SUFFIX}`);
    expect(summarise(lines).price_table).toBe('unit-2026-12-01');
  });

  it('prices sandbox seconds by vCPU-seconds, memory and disk GiB-seconds', () => {
    const lines = ledgerLines(
      state({
        sandboxShape: {
          cpu: 2,
          memoryGiB: 4,
          diskGiB: 10,
          autoStopMinutes: 15,
          autoDeleteMinutes: 0,
          network: 'open',
        },
        sandboxCreatedAt: created,
        sandboxDeletedAt: created + 99_500, // 99.5 s: billed as 100
      }),
      table,
      created + 500_000,
    );
    expect(lines).toHaveLength(1);
    const line = lines[0];
    expect(line).toMatchObject({
      item: 'sandbox',
      model: '',
      sandboxSeconds: 100,
      vcpuSeconds: 200,
      gibSeconds: 400,
      reportedCostMicroUsd: null,
    });
    // 100 s × (2×0.000014 + 4×0.0000045 + 10×0.00000003) $ = 100 × 0.0000463 $ = 4630 µ$
    expect(line?.costMicroUsd).toBe(4_630);
  });

  it('counts a live sandbox up to now, and one without a shape as 1 vCPU, 1 GiB, 3 GiB disk', () => {
    const live = state({ sandboxCreatedAt: created });
    expect(sandboxSeconds(live, created + 10_001)).toBe(11);
    const lines = ledgerLines(live, table, created + 10_000);
    // 10 s × (0.000014 + 0.0000045 + 3×0.00000003) $ = 185.9 µ$, rounded
    expect(lines[0]?.costMicroUsd).toBe(186);
    expect(lines[0]?.vcpuSeconds).toBe(10);
  });

  it('has no lines before a sandbox or tokens, and sums lines into the job total', () => {
    expect(ledgerLines(state(), table, created)).toEqual([]);
    const lines = ledgerLines(
      state({
        agentUsage: { 'claude-opus-4-1': usage(100, 100), 'claude-opus-5-5': usage(100, 100) },
        sandboxCreatedAt: created,
        sandboxDeletedAt: created + 1000,
      }),
      table,
      created,
    );
    // opus-4-1: 100×15 + 100×75 = 9000; opus-5-5: 100×5 + 100×25 = 3000; sandbox 1 s: 18.59 → 19
    expect(lines.map((l) => l.costMicroUsd)).toEqual([9_000, 3_000, 19]);
    expect(totalMicroUsd(lines)).toBe(12_019);
    const summary = summarise(lines);
    expect(summary).toMatchObject({
      total_usd: 0.012019,
      llm_usd: 0.012,
      sandbox_usd: 0.000019,
      input_tokens: 200,
      output_tokens: 200,
      sandbox_seconds: 1,
    });
  });
});

describe('the PRICES setting', () => {
  it('parses the table of wrangler.toml and the tests', () => {
    expect(loadPrices({ PRICES: JSON.stringify(table) })).toEqual(table);
  });

  it('names the setting when it is not a price table', () => {
    expect(() => loadPrices({})).toThrow(ConfigError);
    expect(() => loadPrices({ PRICES: '{' })).toThrow(/PRICES is not valid JSON/);
    expect(() => loadPrices({ PRICES: JSON.stringify({ ...table, sandbox: {} }) })).toThrow(
      /PRICES is invalid at sandbox\.vcpu_second/,
    );
  });
});

describe('months', () => {
  it('counts a job in the UTC month and day it was created', () => {
    expect(utcMonth(Date.UTC(2026, 11, 31, 23, 59))).toBe('2026-12');
    expect(utcDay(Date.UTC(2027, 0, 1, 0, 0))).toBe('2027-01-01');
    expect(previousMonth('2027-01')).toBe('2026-12');
    expect(previousMonth('2026-12')).toBe('2026-11');
  });
});

describe('reservations at creation', () => {
  const settings = { PRICES: JSON.stringify(table), BUDGET_AGENT_RESERVE_USD: '2' };
  const job: BudgetedJob = {
    id: 'job_r',
    tenantId: 'ten_r',
    projectId: null,
    createdAt: created,
    timeoutSeconds: 1000,
    sandboxShape: { cpu: 2, memoryGiB: 4, diskGiB: 10 },
    agent: null,
  };

  it("hold a command job's sandbox for its whole time limit", () => {
    // 1000 s × 0.0000463 $ = 0.0463 $
    expect(reservationMicroUsd(settings, job)).toBe(46_300);
  });

  it("hold an agent job's cap, or its sandbox and BUDGET_AGENT_RESERVE_USD without one", () => {
    expect(reservationMicroUsd(settings, { ...job, agent: { maxBudgetUsd: 0.5 } })).toBe(500_000);
    expect(reservationMicroUsd(settings, { ...job, agent: { maxBudgetUsd: null } })).toBe(
      2_046_300,
    );
  });
});
