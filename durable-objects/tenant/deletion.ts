/**
 * The deletion of a tenant, carried out by its TenantDO (docs/tenant-data.md). `DELETE /v1/tenant`
 * records the request here and writes the tombstone (worker/db/tenant.ts tombstoneTenant); the
 * TenantDO's alarm does the rest, phase by phase, each safe to repeat after a crash:
 *
 *   tombstone → cancel (every unfinished job) → erase (each job's Job DO, then its D1 row) →
 *   rows (keys, memberships, idempotency keys, audit entries) → recheck → erase → rows → done
 *
 * The recheck runs again, RECHECK_AFTER_MS after the request, what a request authenticated just
 * before the tombstone may still have added (a key, a job, an audit entry). A failing phase is
 * retried with capped backoff for as long as it takes: a deletion never gives up.
 */
import { z } from 'zod';
import type { Cursor } from '../../worker/db/page.ts';
import {
  deleteJobRows,
  deleteTenantRows,
  listUnfinishedJobIds,
  scrubTenant,
  someJobIds,
  tombstoneTenant,
  type DeletionEntry,
} from '../../worker/db/tenant.ts';
import { errorFields, log } from '../../worker/lib/log.ts';

/** What a deletion needs to know: the tenant and the entry for its audit log. */
export interface DeletionRequest extends DeletionEntry {
  tenantId: string;
}

const phases = ['tombstone', 'cancel', 'erase', 'rows', 'recheck', 'done'] as const;
type Phase = (typeof phases)[number];

/**
 * The recheck waits this long after the request: longer than a request may live (its 30 s
 * timeout, then up to 30 s of work after the answer) plus the 10 s that other isolates may
 * still accept a cached credential.
 */
export const RECHECK_AFTER_MS = 2 * 60_000;
/** Jobs handled per step: cancels and erasures of one step run at once. */
const JOBS_PER_STEP = 20;
/** How soon a job that is still ending (its sandbox being deleted) is asked again. */
const ERASE_RETRY_MS = 2_000;
/** One alarm run works at most this long, then hands over to the next run. */
const RUN_BUDGET_MS = 20_000;
/** Rounds of row deletes per run (each deletes up to 500 rows of each table). */
const MAX_ROW_ROUNDS = 20;

const requestSchema = z.object({
  tenantId: z.string(),
  actor: z.string(),
  requestId: z.string(),
  ip: z.string().nullable(),
  time: z.number(),
});
const cursorSchema = z.object({ createdAt: z.number(), id: z.string() });
const rowSchema = z.object({
  request: z.string(),
  phase: z.enum(phases),
  cursor: z.string().nullable(),
  rechecked: z.number(),
  due_at: z.number(),
  attempts: z.number(),
});

/** The stored deletion. */
interface Deletion {
  request: DeletionRequest;
  phase: Phase;
  /** Where the cancel phase reads on. */
  cursor: Cursor | null;
  /** Set once the recheck has started: the next `rows` ends the deletion. */
  rechecked: boolean;
  dueAt: number;
  attempts: number;
}

/** What one step asks for next: another step now, or a wait until `at`. */
type Next = { kind: 'continue' } | { kind: 'wait'; at: number } | { kind: 'done' };

/** Backoff of a failing step: 1 s, 2 s, 4 s, … up to 5 minutes. */
function retryDelayMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), 5 * 60_000);
}

/** A tenant's deletion, stored in its TenantDO's SQLite (`deletion`, one row). */
export class TenantDeletion {
  private readonly sql: SqlStorage;
  private readonly env: Env;
  /** How long a slot may belong to a job its Job DO does not know yet (tenant-do.ts). */
  private readonly slotGraceMs: number;

  constructor(sql: SqlStorage, env: Env, slotGraceMs: number) {
    this.sql = sql;
    this.env = env;
    this.slotGraceMs = slotGraceMs;
    sql.exec(`CREATE TABLE IF NOT EXISTS deletion (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
      request TEXT NOT NULL,
      phase TEXT NOT NULL,
      cursor TEXT,
      rechecked INTEGER NOT NULL DEFAULT 0,
      due_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0)`);
  }

  /** The request of the deletion, if one was made (it stays once the deletion is done). */
  request(): DeletionRequest | null {
    return this.load()?.request ?? null;
  }

  /** When the next step is due, or null when there is no deletion or it is done. */
  dueAt(): number | null {
    const deletion = this.load();
    return deletion && deletion.phase !== 'done' ? deletion.dueAt : null;
  }

  /**
   * Records `request` (unless a deletion was already recorded: the first one stands) and writes
   * the tombstone if that has not been done yet. Returns the recorded request. If the tombstone
   * fails, it throws, and the alarm retries it: once recorded, the deletion goes through.
   */
  async begin(request: DeletionRequest): Promise<DeletionRequest> {
    let deletion = this.load();
    if (!deletion) {
      this.sql.exec(
        "INSERT INTO deletion (singleton, request, phase, due_at) VALUES (1, ?, 'tombstone', ?)",
        JSON.stringify(request),
        Date.now(),
      );
      deletion = this.require();
      log('info', 'tenant deletion requested', {
        tenant_id: request.tenantId,
        actor: request.actor,
        request_id: request.requestId,
      });
    }
    // A second request while the first still writes the tombstone writes it too (idempotent),
    // so that neither is answered before it is in D1.
    if (deletion.phase === 'tombstone') {
      await tombstoneTenant(this.env.DB, deletion.request.tenantId, deletion.request);
      this.advance('tombstone', 'cancel');
    }
    return deletion.request;
  }

  /**
   * Runs steps until one has to wait, the run's time budget is spent, or the deletion is done;
   * records when the next step is due. Never throws: a failed step is retried with backoff.
   */
  async run(): Promise<void> {
    const started = Date.now();
    for (;;) {
      const deletion = this.load();
      if (!deletion || deletion.phase === 'done') return;
      if (deletion.dueAt > Date.now()) return;
      if (Date.now() - started > RUN_BUDGET_MS) return;
      let next: Next;
      try {
        next = await this.step(deletion);
      } catch (error) {
        const attempts = deletion.attempts + 1;
        const delay = retryDelayMs(attempts);
        log('warn', 'tenant deletion step failed; will retry', {
          tenant_id: deletion.request.tenantId,
          phase: deletion.phase,
          attempts,
          retry_in_ms: delay,
          ...errorFields(error),
        });
        this.sql.exec(
          'UPDATE deletion SET attempts = ?, due_at = ? WHERE phase = ?',
          attempts,
          Date.now() + delay,
          deletion.phase,
        );
        return;
      }
      if (next.kind === 'done') {
        log('info', 'tenant deleted', {
          tenant_id: deletion.request.tenantId,
          duration_ms: Date.now() - deletion.request.time,
        });
        return;
      }
      if (next.kind === 'wait') {
        this.sql.exec('UPDATE deletion SET due_at = ?, attempts = 0', next.at);
        return;
      }
    }
  }

  /** Runs one step of the deletion's current phase. */
  private async step(deletion: Deletion): Promise<Next> {
    const { request } = deletion;
    switch (deletion.phase) {
      case 'tombstone':
        await tombstoneTenant(this.env.DB, request.tenantId, request);
        this.advance('tombstone', 'cancel');
        return { kind: 'continue' };
      case 'cancel': {
        const page = await listUnfinishedJobIds(
          this.env.DB,
          request.tenantId,
          deletion.cursor,
          JOBS_PER_STEP,
        );
        await Promise.all(page.ids.map((id) => this.cancelJob(request, id)));
        if (page.next) {
          this.sql.exec(
            "UPDATE deletion SET cursor = ?, attempts = 0 WHERE phase = 'cancel'",
            JSON.stringify(page.next),
          );
        } else {
          this.advance('cancel', 'erase');
        }
        return { kind: 'continue' };
      }
      case 'erase':
        return this.eraseJobs(request);
      case 'rows': {
        for (let round = 0; round < MAX_ROW_ROUNDS; round++) {
          if ((await deleteTenantRows(this.env.DB, request.tenantId)) === 0) {
            if (!deletion.rechecked) {
              this.advance('rows', 'recheck', request.time + RECHECK_AFTER_MS);
              return { kind: 'continue' };
            }
            await scrubTenant(this.env.DB, request.tenantId);
            // Nothing is left of the tenant's jobs: the slots go with them.
            this.sql.exec('DELETE FROM slots');
            this.advance('rows', 'done');
            return { kind: 'done' };
          }
        }
        return { kind: 'continue' };
      }
      case 'recheck':
        this.sql.exec("UPDATE deletion SET rechecked = 1 WHERE phase = 'recheck'");
        this.advance('recheck', 'erase');
        return { kind: 'continue' };
      case 'done':
        return { kind: 'done' };
    }
  }

  /**
   * Erases a batch of the tenant's jobs (D1 rows, and slots whose job may have no row yet) and
   * deletes their rows; a job still ending is canceled (if it runs) and asked again shortly.
   */
  private async eraseJobs(request: DeletionRequest): Promise<Next> {
    const fromD1 = await someJobIds(this.env.DB, request.tenantId, JOBS_PER_STEP);
    const slots = this.sql
      .exec('SELECT job_id, created_at FROM slots ORDER BY seq LIMIT ?', JOBS_PER_STEP)
      .toArray()
      .map((row) => ({ id: String(row.job_id), createdAt: Number(row.created_at) }));
    const ids = [...new Set([...fromD1, ...slots.map((slot) => slot.id)])];
    if (ids.length === 0) {
      this.advance('erase', 'rows');
      return { kind: 'continue' };
    }
    const settled = await Promise.all(
      ids.map(async (id) => {
        const slot = slots.find((s) => s.id === id);
        return (await this.eraseJob(request, id, slot?.createdAt ?? null)) ? id : null;
      }),
    );
    const gone = settled.filter((id) => id !== null);
    await deleteJobRows(this.env.DB, request.tenantId, gone);
    for (const id of gone) this.sql.exec('DELETE FROM slots WHERE job_id = ?', id);
    return gone.length > 0
      ? { kind: 'continue' }
      : { kind: 'wait', at: Date.now() + ERASE_RETRY_MS };
  }

  /**
   * Erases job `id`; true once nothing of it is left in its Job DO. A job that has not ended is
   * canceled; one whose Job DO does not know it yet keeps its slot for the grace period during
   * which its creation may still arrive.
   */
  private async eraseJob(
    request: DeletionRequest,
    id: string,
    slotCreatedAt: number | null,
  ): Promise<boolean> {
    const job = this.env.JOB.getByName(id);
    const result = await job.erase(request.tenantId);
    if (result === 'erased') return true;
    if (result === 'unknown') {
      return slotCreatedAt === null || Date.now() - slotCreatedAt >= this.slotGraceMs;
    }
    await this.cancelJob(request, id);
    return false;
  }

  /** Cancels job `id` if it still runs; its own lifecycle then deletes its sandbox. */
  private async cancelJob(request: DeletionRequest, id: string): Promise<void> {
    await this.env.JOB.getByName(id).cancel(
      request.tenantId,
      `${request.actor} (deletion of the tenant)`,
    );
  }

  /** Moves from phase `from` to `to` (if the deletion is still in `from`), due at `dueAt`. */
  private advance(from: Phase, to: Phase, dueAt = Date.now()): void {
    this.sql.exec(
      'UPDATE deletion SET phase = ?, due_at = ?, attempts = 0, cursor = NULL WHERE phase = ?',
      to,
      dueAt,
      from,
    );
  }

  private load(): Deletion | null {
    const raw = this.sql.exec('SELECT * FROM deletion WHERE singleton = 1').toArray()[0];
    if (!raw) return null;
    const row = rowSchema.parse(raw);
    return {
      request: requestSchema.parse(JSON.parse(row.request)),
      phase: row.phase,
      cursor: row.cursor === null ? null : cursorSchema.parse(JSON.parse(row.cursor)),
      rechecked: row.rechecked === 1,
      dueAt: row.due_at,
      attempts: row.attempts,
    };
  }

  private require(): Deletion {
    const deletion = this.load();
    if (!deletion) throw new Error('no deletion is recorded');
    return deletion;
  }
}
