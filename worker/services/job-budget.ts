/**
 * The budget side of creating a job (docs/cost.md): what the job reserves against its tenant's
 * and its project's monthly budgets while it runs, and the 402 when the month's spend plus what
 * running jobs reserve has already reached one of them.
 */
import { DEFAULT_SHAPE, toUsd, utcMonth } from '../../durable-objects/job/ledger.ts';
import { ApiError } from '../errors.ts';
import { loadBudgetSettings, loadPrices } from '../lib/prices.ts';

/** What a new job is, as far as its reservation goes. */
export interface BudgetedJob {
  id: string;
  tenantId: string;
  projectId: string | null;
  createdAt: number;
  timeoutSeconds: number;
  sandboxShape: { cpu: number; memoryGiB: number; diskGiB: number } | null;
  /** Null for a command job; the agent's own cap (USD, null: none) for an agent job. */
  agent: { maxBudgetUsd: number | null } | null;
}

/**
 * What a job reserves, in micro USD: an agent job with its own cap that cap (its whole cost,
 * tokens and sandbox, stops there); otherwise its sandbox for its whole time limit, plus for an
 * agent job BUDGET_AGENT_RESERVE_USD for its tokens.
 * @throws ConfigError if PRICES or a budget setting is invalid.
 */
export function reservationMicroUsd(env: object, job: BudgetedJob): number {
  const prices = loadPrices(env).sandbox;
  const shape = job.sandboxShape ?? DEFAULT_SHAPE;
  const perSecond =
    shape.cpu * prices.vcpu_second +
    shape.memoryGiB * prices.gib_second +
    shape.diskGiB * prices.disk_gib_second;
  const sandbox = Math.ceil(perSecond * job.timeoutSeconds * 1_000_000);
  if (job.agent === null) return sandbox;
  const cap = job.agent.maxBudgetUsd;
  if (cap !== null) return Math.round(cap * 1_000_000);
  return sandbox + loadBudgetSettings(env).agentReserveMicroUsd;
}

/**
 * Reserves the job's share of its budgets in the tenant's TenantDO (idempotent per job id).
 * @throws ApiError `payment_required` (402) naming the budget, its limit and its spend when the
 * month's spend plus the reservations of running jobs has reached it.
 */
export async function reserveBudget(
  env: Env,
  job: BudgetedJob,
  projectLimitMicroUsd?: number | null,
): Promise<void> {
  const verdict = await env.TENANT.getByName(job.tenantId).reserveBudget(job.tenantId, {
    jobId: job.id,
    projectId: job.projectId,
    month: utcMonth(job.createdAt),
    reserveMicroUsd: reservationMicroUsd(env, job),
    ...(projectLimitMicroUsd === undefined ? {} : { projectLimitMicroUsd }),
  });
  if (verdict.ok) return;
  const { scope, scopeId, limitMicroUsd, spendMicroUsd, reservedMicroUsd } = verdict.budget;
  const name =
    scope === 'tenant' ? "The tenant's monthly budget" : `The monthly budget of project ${scopeId}`;
  throw new ApiError(
    'payment_required',
    `${name} is reached: limit $${toUsd(limitMicroUsd)}, spend $${toUsd(spendMicroUsd)} this month, $${toUsd(reservedMicroUsd)} reserved by running jobs. Raise the budget (${scope === 'tenant' ? 'PUT /v1/budgets/tenant' : `PATCH /v1/projects/${scopeId}`}) or wait for next month.`,
    undefined,
    {
      budget: {
        scope,
        id: scopeId,
        limit_usd: toUsd(limitMicroUsd),
        spend_usd: toUsd(spendMicroUsd),
        reserved_usd: toUsd(reservedMicroUsd),
      },
    },
  );
}
