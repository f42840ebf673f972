/**
 * The job's cost while it runs and once its sandbox is gone: prices the job (ledger.ts), keeps
 * the total in its state, writes the ledger lines and the total to D1, and reports the total to
 * the tenant's TenantDO, which answers whether a budget was reached. A reached budget, or the
 * job's own cap (`agent.max_budget_usd`), stops the job as `failed` / `budget_exceeded`.
 *
 * Checks run every BUDGET_CHECK_SECONDS (a `budget` deadline between alarm runs, a timer during
 * a long one), soon after the agent's token counts change, and once more when the sandbox was
 * deleted (the `ledger` deadline, retried until D1 and the TenantDO took it). docs/cost.md.
 */
import { writeLedger } from '../../worker/db/ledger.ts';
import { errorFields, log } from '../../worker/lib/log.ts';
import { loadPrices } from '../../worker/lib/prices.ts';
import { isTerminal } from './decisions.ts';
import {
  ledgerLines,
  summarise,
  toMicroUsd,
  toUsd,
  totalMicroUsd,
  utcMonth,
  type CostSummary,
  type LedgerLine,
} from './ledger.ts';
import type { JobRecord } from './record.ts';
import type { JobState } from './state.ts';

/** The least time between two checks caused by token counts changing. */
const USAGE_CHECK_GAP_MS = 1000;

/** Ends a running job whose budget was reached, with this message. */
type StopJob = (message: string) => Promise<void>;

/** A budget the job's cost has reached: which one, its limit and the spend. */
interface Reached {
  name: string;
  limitMicroUsd: number;
  spendMicroUsd: number;
}

export class JobCost {
  private readonly record: JobRecord;
  private readonly env: Env;
  private readonly stopJob: StopJob;
  private inFlight: Promise<void> | null = null;
  private lastUsageCheck = 0;
  private usageTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(record: JobRecord, env: Env, stopJob: StopJob) {
    this.record = record;
    this.env = env;
    this.stopJob = stopJob;
  }

  /** The job's lines as of `now`, or null if the price table is not configured correctly. */
  lines(state: JobState, now: number): LedgerLine[] | null {
    try {
      return ledgerLines(state, loadPrices(this.env), now);
    } catch (error) {
      log('error', 'cannot price the job', { job_id: state.id, ...errorFields(error) });
      return null;
    }
  }

  /** The job's cost as of `now` as the API shows it, or null if it cannot be priced. */
  summary(state: JobState, now: number): CostSummary | null {
    const lines = this.lines(state, now);
    return lines === null ? null : summarise(lines);
  }

  /**
   * Prices the job, writes the ledger and reports to the TenantDO; stops the job if a budget was
   * reached. Checks that overlap share one run. Throws if D1 or the TenantDO failed (after doing
   * what it could), so that the deadline that called it retries.
   */
  check(): Promise<void> {
    this.inFlight ??= this.run().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /**
   * The agent's token counts changed: check soon, at most once a second, so a burst of output
   * lines costs one check. Failures are left to the next regular check.
   */
  usageChanged(): void {
    if (this.usageTimer !== null) return;
    const wait = Math.max(0, this.lastUsageCheck + USAGE_CHECK_GAP_MS - Date.now());
    this.usageTimer = setTimeout(() => {
      this.usageTimer = null;
      this.lastUsageCheck = Date.now();
      this.check().catch((error: unknown) => {
        log('warn', 'cost check after new usage failed', errorFields(error));
      });
    }, wait);
  }

  private async run(): Promise<void> {
    const state = this.record.state;
    if (!state) return;
    const now = Date.now();
    const lines = this.lines(state, now);
    if (lines === null) throw new Error('The setting PRICES is invalid; the job cannot be priced.');
    const total = totalMicroUsd(lines);
    const current = this.record.require();
    if (current.costMicroUsd !== total) this.record.save({ ...current, costMicroUsd: total });

    const failures: unknown[] = [];
    let reached: Reached | null = ownCapReached(state, total);
    try {
      const verdict = await this.env.TENANT.getByName(state.tenantId).reportCost(state.tenantId, {
        jobId: state.id,
        projectId: state.projectId,
        month: utcMonth(state.createdAt),
        totalMicroUsd: total,
      });
      if (!verdict.ok && reached === null) {
        const budget = verdict.budget;
        reached = {
          name:
            budget.scope === 'tenant'
              ? "the tenant's monthly budget"
              : `the monthly budget of project ${budget.scopeId}`,
          limitMicroUsd: budget.limitMicroUsd,
          spendMicroUsd: budget.spendMicroUsd,
        };
      }
    } catch (error) {
      failures.push(error);
    }
    if (reached !== null && !isTerminal(this.record.require())) {
      log('info', 'budget reached; stopping the job', {
        job_id: state.id,
        budget: reached.name,
        limit_micro_usd: reached.limitMicroUsd,
        spend_micro_usd: reached.spendMicroUsd,
      });
      await this.stopJob(
        `The job was stopped: ${reached.name} of $${toUsd(reached.limitMicroUsd)} was reached (spend $${toUsd(reached.spendMicroUsd)}).`,
      );
    }
    try {
      await writeLedger(
        this.env.DB,
        state.id,
        lines.map((line) => ({ ...line, updatedAt: now })),
        total,
      );
    } catch (error) {
      failures.push(error);
    }
    if (failures.length > 0) throw failures[0];
  }
}

/** The job's own cap, if it has one and `total` reached it. */
function ownCapReached(state: JobState, total: number): Reached | null {
  const cap = state.agent?.maxBudgetUsd ?? null;
  if (cap === null) return null;
  const limit = toMicroUsd(cap);
  return total >= limit
    ? { name: "the job's max_budget_usd", limitMicroUsd: limit, spendMicroUsd: total }
    : null;
}
