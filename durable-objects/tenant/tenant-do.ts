/**
 * TenantDO: one per tenant, the exact counter of its running jobs. A Durable Object handles one
 * event at a time and every method here reads and writes SQLite without awaiting in between,
 * so concurrent job creations cannot both take the last slot: exactly `limit` jobs run.
 *
 * A job holds a slot from creation until it ends. A job over the cap is rejected, or waits in
 * a FIFO queue if its creator asked for queueing, and is started when a slot frees.
 */
import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import { errorFields, log } from '../../worker/lib/log.ts';

/** What acquire() decided for a job. */
type SlotState = 'running' | 'waiting' | 'rejected';

/** How often held slots are checked against their jobs, to reclaim any a crash leaked. */
const AUDIT_INTERVAL_MS = 5 * 60_000;
/** How soon a failed start notification is retried. */
const NOTIFY_RETRY_MS = 5_000;

const slotSchema = z.object({
  job_id: z.string(),
  state: z.enum(['running', 'waiting']),
  notified: z.number(),
});

export class TenantDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;

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
  }

  /**
   * Takes a slot for `jobId` if fewer than `limit` jobs run, else queues it (if `queue`) or
   * rejects it. Asking again for the same job answers the same (idempotent).
   */
  async acquire(jobId: string, limit: number, queue: boolean): Promise<SlotState> {
    const existing = this.slot(jobId);
    if (existing) return existing.state;
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('limit', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      limit,
    );
    const state: SlotState =
      this.count('running') < limit ? 'running' : queue ? 'waiting' : 'rejected';
    if (state !== 'rejected') {
      this.sql.exec(
        'INSERT INTO slots (job_id, state, created_at, seq) VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM slots))',
        jobId,
        state,
        Date.now(),
      );
      await this.scheduleAudit();
    }
    return state;
  }

  /** Frees the slot of `jobId` (running or waiting) and starts queued jobs into free slots. */
  async release(jobId: string): Promise<void> {
    this.sql.exec('DELETE FROM slots WHERE job_id = ?', jobId);
    await this.promote();
  }

  /** Running and waiting counts, for diagnostics and tests. */
  usage(): { running: number; waiting: number } {
    return { running: this.count('running'), waiting: this.count('waiting') };
  }

  override async alarm(): Promise<void> {
    // Reclaim slots whose job ended without releasing them (e.g. a crash between steps).
    for (const row of this.sql.exec('SELECT job_id, state, notified FROM slots').toArray()) {
      const slot = slotSchema.parse(row);
      try {
        if (!(await this.env.JOB.getByName(slot.job_id).isActive())) {
          this.sql.exec('DELETE FROM slots WHERE job_id = ?', slot.job_id);
        }
      } catch (error) {
        log('warn', 'could not check a slot', { job_id: slot.job_id, ...errorFields(error) });
      }
    }
    await this.promote();
    await this.scheduleAudit();
  }

  /** Moves the oldest waiting jobs into free slots and tells each job it may start. */
  private async promote(): Promise<void> {
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
    const unnotified = this.sql
      .exec("SELECT job_id FROM slots WHERE state = 'running' AND notified = 0")
      .toArray();
    for (const row of unnotified) {
      const jobId = String(row.job_id);
      try {
        await this.env.JOB.getByName(jobId).slotGranted();
        this.sql.exec('UPDATE slots SET notified = 1 WHERE job_id = ?', jobId);
      } catch (error) {
        log('warn', 'could not start a queued job; will retry', {
          job_id: jobId,
          ...errorFields(error),
        });
        await this.ctx.storage.setAlarm(Date.now() + NOTIFY_RETRY_MS);
      }
    }
  }

  private async scheduleAudit(): Promise<void> {
    if (this.count('running') + this.count('waiting') === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const current = await this.ctx.storage.getAlarm();
    if (current === null) await this.ctx.storage.setAlarm(Date.now() + AUDIT_INTERVAL_MS);
  }

  private slot(jobId: string): { state: 'running' | 'waiting' } | null {
    const row = this.sql
      .exec('SELECT job_id, state, notified FROM slots WHERE job_id = ?', jobId)
      .toArray()[0];
    return row ? slotSchema.parse(row) : null;
  }

  private count(state: 'running' | 'waiting'): number {
    return Number(this.sql.exec('SELECT COUNT(*) AS n FROM slots WHERE state = ?', state).one().n);
  }

  private limit(): number {
    const row = this.sql.exec("SELECT value FROM meta WHERE key = 'limit'").toArray()[0];
    return typeof row?.value === 'number' ? row.value : 0;
  }
}
