/**
 * TenantDO: one per tenant, the exact counter of its running jobs. A Durable Object handles one
 * event at a time and every method here reads and writes SQLite without awaiting in between,
 * so concurrent job creations cannot both take the last slot: exactly `limit` jobs run.
 *
 * A job holds a slot from creation until it ends. A job over the cap is rejected, or waits in
 * a FIFO queue if its creator asked for queueing, and is started when a slot frees. The slot is
 * taken before the job's Durable Object exists, so "the Job DO does not know this job" means
 * "not created yet" for a while: a start notification is repeated until the Job DO knows the
 * job, and only a slot that stayed unknown past a grace period is taken as abandoned.
 *
 * It also carries out the tenant's deletion (deletion.ts): from the moment that is asked for, no
 * slot is granted and no queued job is started from then on.
 */
import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import { errorFields, log } from '../../worker/lib/log.ts';
import {
  TenantBudgets,
  type BudgetState,
  type BudgetVerdict,
  type ReserveRequest,
} from './budgets.ts';
import { TenantDeletion, type DeletionRequest } from './deletion.ts';

/** What acquire() decided for a job; `deleted` once the tenant's deletion was asked for. */
type SlotState = 'running' | 'waiting' | 'rejected' | 'deleted';

/** How often held slots are checked against their jobs, to reclaim any a crash leaked. */
const AUDIT_INTERVAL_MS = 5 * 60_000;
/** How soon a start notification is repeated when it failed or its job was not created yet. */
const NOTIFY_RETRY_MS = 5_000;
/**
 * How long a slot may belong to a job its Job DO does not know before the slot is reclaimed:
 * between acquire() and the Job DO's create() there is one RPC of a request that times out
 * after 30 s, so a job still unknown after this was never created (its request died).
 */
export const UNKNOWN_JOB_GRACE_MS = 2 * 60_000;
/** While a deletion runs, an alarm run that dies midway is followed by another this soon. */
const DELETION_WATCHDOG_MS = 60_000;

const slotSchema = z.object({
  job_id: z.string(),
  state: z.enum(['running', 'waiting']),
  created_at: z.number(),
  notified: z.number(),
});

export class TenantDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly deletion: TenantDeletion;
  private readonly budgets: TenantBudgets;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS slots (
      job_id TEXT PRIMARY KEY,
      state TEXT NOT NULL CHECK (state IN ('running', 'waiting')),
      created_at INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      notified INTEGER NOT NULL DEFAULT 1)`);
    this.sql.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)');
    this.deletion = new TenantDeletion(this.sql, env, UNKNOWN_JOB_GRACE_MS);
    this.budgets = new TenantBudgets(this.sql, env);
  }

  // ---- Budgets (budgets.ts, docs/cost.md) ---------------------------------------------------

  /**
   * Reserves what a new job may spend, unless a budget of the tenant or of the job's project is
   * already reached by the month's spend plus what running jobs reserve (then the job must not
   * be created: 402). Idempotent per job. A deleted tenant's jobs are refused by acquire().
   */
  async reserveBudget(tenantId: string, request: ReserveRequest): Promise<BudgetVerdict> {
    if (this.deletion.request()) return { ok: true };
    this.budgets.rememberTenant(tenantId);
    return this.budgets.reserve(request);
  }

  /**
   * A running (or ending) job's cost so far, reported by its Job DO every budget check. Answers
   * whether a budget of the job is reached: the job then stops itself. Notices this crosses are
   * written to D1 now, or by the alarm if D1 fails.
   */
  async reportCost(
    tenantId: string,
    report: { jobId: string; projectId: string | null; month: string; totalMicroUsd: number },
  ): Promise<BudgetVerdict> {
    if (this.deletion.request()) return { ok: true };
    this.budgets.rememberTenant(tenantId);
    const verdict = await this.budgets.accrue(
      report.jobId,
      report.projectId,
      report.month,
      report.totalMicroUsd,
    );
    if (this.budgets.hasUnsyncedNotices()) await this.syncNotices();
    return verdict;
  }

  /** Sets (or with null removes) the tenant's monthly budget, in micro USD. */
  setTenantBudget(tenantId: string, limitMicroUsd: number | null): void {
    this.budgets.rememberTenant(tenantId);
    this.budgets.setTenantLimit(limitMicroUsd);
  }

  /**
   * The tenant's monthly budget (null: none) with its spend and reservations in `month`, and the
   * budgets of `projects` (limits as just read from D1).
   */
  budgetStatus(
    tenantId: string,
    month: string,
    projects: { id: string; limitMicroUsd: number | null }[],
  ): {
    tenant: { limitMicroUsd: number | null; spendMicroUsd: number; reservedMicroUsd: number };
    projects: BudgetState[];
  } {
    // A deleted tenant's book stays empty (its deletion erased it).
    if (!this.deletion.request()) this.budgets.rememberTenant(tenantId);
    return {
      tenant: { limitMicroUsd: this.budgets.tenantLimit(), ...this.budgets.costs(month, null) },
      projects: this.budgets.projectStatus(month, projects),
    };
  }

  /** Writes pending notices to D1; on failure the alarm tries again shortly. */
  private async syncNotices(): Promise<void> {
    try {
      await this.budgets.syncNotices();
    } catch (error) {
      log('warn', 'could not write budget notices; will retry', errorFields(error));
      await this.scheduleAlarm();
    }
  }

  /**
   * Takes a slot for `jobId` if fewer than `limit` jobs run, else queues it (if `queue`) or
   * rejects it. Asking again for the same job answers the same (idempotent), and restarts the
   * grace period its Job DO has to learn of the job (a retried creation is on its way).
   */
  async acquire(jobId: string, limit: number, queue: boolean): Promise<SlotState> {
    if (this.deletion.request()) return 'deleted';
    const existing = this.slot(jobId);
    if (existing) {
      this.sql.exec('UPDATE slots SET created_at = ? WHERE job_id = ?', Date.now(), jobId);
      return existing.state;
    }
    this.setMeta('limit', limit);
    const state: SlotState =
      this.count('running') < limit ? 'running' : queue ? 'waiting' : 'rejected';
    if (state !== 'rejected') {
      this.sql.exec(
        'INSERT INTO slots (job_id, state, created_at, seq) VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM slots))',
        jobId,
        state,
        Date.now(),
      );
      await this.scheduleAlarm();
    }
    return state;
  }

  /** Frees the slot of `jobId` (running or waiting) and starts queued jobs into free slots. */
  async release(jobId: string): Promise<void> {
    this.sql.exec('DELETE FROM slots WHERE job_id = ?', jobId);
    this.budgets.settle(jobId);
    if (!this.deletion.request()) await this.promote();
    await this.scheduleAlarm();
  }

  /**
   * Deletes the tenant (deletion.ts): records the request, writes the tombstone, and leaves the
   * rest to the alarm. Asking again answers with the first request (idempotent). Returns once the
   * tombstone is in D1; if writing it fails this throws, and the alarm writes it later.
   */
  async deleteTenant(request: DeletionRequest): Promise<{ requestedAt: number }> {
    // Armed before the first write, so that a crash right after it is followed by the alarm.
    if (this.deletion.request() === null) {
      await this.ctx.storage.setAlarm(Date.now() + DELETION_WATCHDOG_MS);
    }
    const recorded = await this.deletion.begin(request);
    await this.scheduleAlarm();
    return { requestedAt: recorded.time };
  }

  /** Running and waiting counts, for diagnostics and tests. */
  usage(): { running: number; waiting: number } {
    return { running: this.count('running'), waiting: this.count('waiting') };
  }

  /**
   * Reclaims the slots of jobs that have ended and of jobs that were never created, then starts
   * waiting jobs into the freed slots. The alarm does this every five minutes while slots are
   * held, so a crash between two steps cannot leak a slot for good.
   */
  async audit(): Promise<void> {
    if (this.deletion.request()) return;
    await this.reclaim();
    await this.promote();
    await this.scheduleAlarm();
  }

  override async alarm(): Promise<void> {
    if (this.deletion.request()) {
      await this.ctx.storage.setAlarm(Date.now() + DELETION_WATCHDOG_MS);
      await this.deletion.run();
      // Nothing is kept of a deleted tenant's budgets; reports of its ending jobs record nothing.
      this.budgets.eraseAll();
      await this.scheduleAlarm(true);
      return;
    }
    if (this.budgets.hasUnsyncedNotices()) await this.syncNotices();
    if (Date.now() >= (this.meta('audit_at') ?? 0)) await this.reclaim();
    await this.promote();
    await this.scheduleAlarm(true);
  }

  /**
   * Frees each slot whose job has ended, or whose Job DO still does not know the job a grace
   * period after the slot was taken. A job that is active, or may still be being created, keeps
   * its slot: it runs (or will), so it must be counted.
   */
  private async reclaim(): Promise<void> {
    this.setMeta('audit_at', Date.now() + AUDIT_INTERVAL_MS);
    const slots = this.sql
      .exec('SELECT job_id, state, created_at, notified FROM slots')
      .toArray()
      .map((row) => slotSchema.parse(row));
    for (const slot of slots) {
      let activity: 'active' | 'finished' | 'unknown';
      try {
        activity = await this.env.JOB.getByName(slot.job_id).activity();
      } catch (error) {
        log('warn', 'could not check a slot', { job_id: slot.job_id, ...errorFields(error) });
        continue;
      }
      if (activity === 'active') continue;
      if (activity === 'unknown' && Date.now() - slot.created_at < UNKNOWN_JOB_GRACE_MS) continue;
      // Unless acquire() was asked again for the job meanwhile (it renews created_at).
      const freed = this.sql.exec(
        'DELETE FROM slots WHERE job_id = ? AND created_at = ?',
        slot.job_id,
        slot.created_at,
      ).rowsWritten;
      if (freed > 0) {
        this.budgets.settle(slot.job_id);
        log('warn', 'reclaimed a slot', {
          job_id: slot.job_id,
          slot: slot.state,
          reason: activity === 'finished' ? 'the job has ended' : 'the job was never created',
        });
      }
    }
    // Reservations whose job holds no slot: a creation that failed after reserving (and whose
    // release was lost). Past the grace period, one whose job does not run is released.
    for (const jobId of this.budgets.reservationsWithoutSlot(Date.now() - UNKNOWN_JOB_GRACE_MS)) {
      const activity = await this.env.JOB.getByName(jobId)
        .activity()
        .catch((): 'active' => 'active');
      if (activity !== 'active') this.budgets.settle(jobId);
    }
  }

  /**
   * Moves the oldest waiting jobs into free slots and tells each job it may start. A job whose
   * Job DO does not know it yet (its create() is still on its way) stays unnotified: the alarm
   * tells it again shortly, until it knows the job or reclaim() frees the slot.
   */
  private async promote(): Promise<void> {
    for (;;) {
      const limit = this.limit();
      while (this.count('running') < limit) {
        const next = this.sql
          .exec("SELECT job_id FROM slots WHERE state = 'waiting' ORDER BY seq LIMIT 1")
          .toArray()[0];
        if (!next) break;
        this.sql.exec(
          "UPDATE slots SET state = 'running', notified = 0 WHERE job_id = ?",
          String(next.job_id),
        );
      }
      let freed = false;
      for (const row of this.sql
        .exec("SELECT job_id FROM slots WHERE state = 'running' AND notified = 0")
        .toArray()) {
        const jobId = String(row.job_id);
        try {
          const activity = await this.env.JOB.getByName(jobId).slotGranted();
          if (activity === 'active') {
            this.sql.exec('UPDATE slots SET notified = 1 WHERE job_id = ?', jobId);
          } else if (activity === 'finished') {
            // It ended while it waited (canceled, timed out): the slot goes to the next one.
            this.sql.exec('DELETE FROM slots WHERE job_id = ?', jobId);
            freed = true;
          }
        } catch (error) {
          log('warn', 'could not start a queued job; will retry', {
            job_id: jobId,
            ...errorFields(error),
          });
        }
      }
      if (!freed) return;
    }
  }

  /**
   * Points the alarm at the next audit, or sooner while a start notification is pending. Only
   * ever moves an alarm earlier, except from the alarm itself (whose own alarm is spent).
   */
  private async scheduleAlarm(fromAlarm = false): Promise<void> {
    if (this.deletion.request()) {
      // The deletion's next step is all there is left to wake up for.
      const due = this.deletion.dueAt();
      if (due === null) await this.ctx.storage.deleteAlarm();
      else await this.ctx.storage.setAlarm(due);
      return;
    }
    const noticesPending = this.budgets.hasUnsyncedNotices();
    const idle =
      this.count('running') + this.count('waiting') === 0 &&
      !noticesPending &&
      !this.budgets.hasReservationsWithoutSlot();
    if (idle) {
      this.sql.exec("DELETE FROM meta WHERE key = 'audit_at'");
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const now = Date.now();
    let auditAt = this.meta('audit_at');
    if (auditAt === null) {
      auditAt = now + AUDIT_INTERVAL_MS;
      this.setMeta('audit_at', auditAt);
    }
    const pending = Number(
      this.sql
        .exec("SELECT COUNT(*) AS n FROM slots WHERE state = 'running' AND notified = 0")
        .one().n,
    );
    const target =
      pending > 0 || noticesPending ? Math.min(auditAt, now + NOTIFY_RETRY_MS) : auditAt;
    const current = fromAlarm ? null : await this.ctx.storage.getAlarm();
    if (current === null || target < current) await this.ctx.storage.setAlarm(target);
  }

  private slot(jobId: string): { state: 'running' | 'waiting' } | null {
    const row = this.sql
      .exec('SELECT job_id, state, created_at, notified FROM slots WHERE job_id = ?', jobId)
      .toArray()[0];
    return row ? slotSchema.parse(row) : null;
  }

  private count(state: 'running' | 'waiting'): number {
    return Number(this.sql.exec('SELECT COUNT(*) AS n FROM slots WHERE state = ?', state).one().n);
  }

  private limit(): number {
    return this.meta('limit') ?? 0;
  }

  private meta(key: 'limit' | 'audit_at'): number | null {
    const row = this.sql.exec('SELECT value FROM meta WHERE key = ?', key).toArray()[0];
    return typeof row?.value === 'number' ? row.value : null;
  }

  private setMeta(key: 'limit' | 'audit_at', value: number): void {
    this.sql.exec(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      value,
    );
  }
}
