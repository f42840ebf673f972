/**
 * The Job DO's SQLite storage: a versioned schema, the job state row, the append-only event log
 * and the deadlines table that the single alarm is multiplexed over. Every method is synchronous
 * (the SQLite API is), so a caller can read and write without another event interleaving.
 */
import { z } from 'zod';
import { jobEventTypes, type JobEventType } from '../../worker/domain/jobs.ts';
import { agentEventSchema } from './agents/types.ts';
import { jobStateSchema, type JobState } from './state.ts';
import { applyMigrations } from '../sql-migrations.ts';

/** Append-only: a new schema change is a new entry, never an edit of an old one. */
const migrations: readonly string[] = [
  `CREATE TABLE job (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), data TEXT NOT NULL);
   CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, ts INTEGER NOT NULL, body TEXT NOT NULL);
   CREATE TABLE deadlines (kind TEXT PRIMARY KEY, due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, token TEXT NOT NULL);`,
];

const eventBodySchema = z.strictObject({
  /** stdout / stderr */
  data: z.string().optional(),
  /** status */
  status: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string().nullable() }).optional(),
  /** exit */
  exit_code: z.number().optional(),
  /** truncated: the output cap in UTF-8 bytes (`limit_chars` in logs stored before it counted bytes) */
  limit_bytes: z.number().optional(),
  limit_chars: z.number().optional(),
  /** agent: one typed event of the agent CLI (agents/types.ts) */
  agent: agentEventSchema.optional(),
  /**
   * the final status: what the job cost (ledger.ts CostSummary; typed loosely here, as the RPC
   * types of event pages are already deep)
   */
  cost: z.record(z.string(), z.union([z.number(), z.string(), z.null()])).optional(),
});

/** The type-specific fields of an event. */
export type EventBody = z.infer<typeof eventBodySchema>;

/** One entry of the job's log as clients see it. */
export type JobEvent = EventBody & { seq: number; type: JobEventType; ts: string };

const deadlineKinds = [
  'advance',
  'timeout',
  'cleanup',
  'sync',
  'release',
  'retention',
  'standing',
  'budget',
  'ledger',
  'webhook',
  'push',
] as const;
/**
 * What a deadline is for; `retention` deletes a finished job's output once it has expired,
 * `standing` closes watchers whose credentials were revoked, `budget` prices a running job and
 * checks its budgets, `ledger` writes the final ledger once the sandbox is deleted (cost.ts),
 * `webhook` queues the job's webhook events and reports the job to GitHub (webhooks.ts), `push`
 * pushes a succeeded GitHub agent job's changes before its sandbox is deleted (github.ts).
 */
export type DeadlineKind = (typeof deadlineKinds)[number];

export interface Deadline {
  kind: DeadlineKind;
  dueAt: number;
  attempts: number;
  /** Changes whenever the deadline is set, so clearing a stale copy cannot remove a newer one. */
  token: string;
}

const eventRowSchema = z.object({
  seq: z.number(),
  type: z.enum(jobEventTypes),
  ts: z.number(),
  body: z.string(),
});
const deadlineRowSchema = z.object({
  kind: z.enum(deadlineKinds),
  due_at: z.number(),
  attempts: z.number(),
  token: z.string(),
});

/** Typed access to one Job DO's SQLite database. */
export class JobStorage {
  private readonly storage: DurableObjectStorage;
  private readonly sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
    this.sql = storage.sql;
    // An object that never held a job stays empty: asking for an unknown job id must not
    // create storage. The schema is created by the first create() (see ensureSchema).
    if (this.hasSchema()) this.ensureSchema();
  }

  private hasSchema(): boolean {
    return (
      this.sql
        .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        .toArray().length > 0
    );
  }

  /** Creates or upgrades the schema; run before the first write. */
  ensureSchema(): void {
    applyMigrations(this.storage, migrations);
  }

  /** The job's state, or null if this object has never been given a job. */
  getState(): JobState | null {
    if (!this.hasSchema()) return null;
    const rows = this.sql.exec('SELECT data FROM job WHERE singleton = 1').toArray();
    const data = rows[0]?.data;
    if (typeof data !== 'string') return null;
    return jobStateSchema.parse(JSON.parse(data));
  }

  putState(state: JobState): void {
    this.sql.exec(
      'INSERT INTO job (singleton, data) VALUES (1, ?) ON CONFLICT (singleton) DO UPDATE SET data = excluded.data',
      JSON.stringify(state),
    );
  }

  /** Appends an event and returns it as clients see it. */
  appendEvent(type: JobEventType, ts: number, body: EventBody): JobEvent {
    const row = this.sql
      .exec(
        'INSERT INTO events (type, ts, body) VALUES (?, ?, ?) RETURNING seq',
        type,
        ts,
        JSON.stringify(body),
      )
      .one();
    return { ...body, seq: Number(row.seq), type, ts: new Date(ts).toISOString() };
  }

  /**
   * Up to `limit` events with a seq greater than `after`, oldest first, read lazily: each row is
   * read from the SQL cursor and parsed only when the caller asks for the next event, so a caller
   * that stops early (a page that is full) never loads the rest.
   */
  *eventsAfter(after: number, limit: number): Generator<JobEvent, void, undefined> {
    const cursor = this.sql.exec(
      'SELECT seq, type, ts, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
      after,
      limit,
    );
    for (const raw of cursor) {
      const row = eventRowSchema.parse(raw);
      const body = eventBodySchema.parse(JSON.parse(row.body));
      yield { ...body, seq: row.seq, type: row.type, ts: new Date(row.ts).toISOString() };
    }
  }

  /**
   * Deletes up to `limit` output events (`stdout`, `stderr`, `truncated`, and `agent`, which
   * hold what the agent printed), oldest first, and returns how many it deleted; `status` and
   * `exit` events stay.
   */
  deleteOutput(limit: number): number {
    return this.sql
      .exec(
        `DELETE FROM events WHERE seq IN (SELECT seq FROM events
           WHERE type IN ('stdout', 'stderr', 'truncated', 'agent') ORDER BY seq LIMIT ?) RETURNING seq`,
        limit,
      )
      .toArray().length;
  }

  /** The seq of the newest event (0 if there is none). */
  lastSeq(): number {
    const row = this.sql.exec('SELECT MAX(seq) AS seq FROM events').one();
    return typeof row.seq === 'number' ? row.seq : 0;
  }

  /** Sets (or moves) a deadline. `attempts` counts failed runs of its handler. */
  setDeadline(kind: DeadlineKind, dueAt: number, attempts = 0): void {
    this.sql.exec(
      `INSERT INTO deadlines (kind, due_at, attempts, token) VALUES (?, ?, ?, ?)
       ON CONFLICT (kind) DO UPDATE SET
         due_at = excluded.due_at, attempts = excluded.attempts, token = excluded.token`,
      kind,
      dueAt,
      attempts,
      crypto.randomUUID(),
    );
  }

  /** Removes a deadline, unless it was set again since it was read (its handler may re-arm it). */
  clearDeadline(deadline: Deadline): void {
    this.sql.exec(
      'DELETE FROM deadlines WHERE kind = ? AND token = ?',
      deadline.kind,
      deadline.token,
    );
  }

  deleteDeadline(kind: DeadlineKind): void {
    this.sql.exec('DELETE FROM deadlines WHERE kind = ?', kind);
  }

  deadlines(): Deadline[] {
    return this.sql
      .exec('SELECT kind, due_at, attempts, token FROM deadlines ORDER BY due_at, kind')
      .toArray()
      .map((raw) => {
        const row = deadlineRowSchema.parse(raw);
        return { kind: row.kind, dueAt: row.due_at, attempts: row.attempts, token: row.token };
      });
  }

  /** Runs `fn` atomically: all of its writes land, or none. */
  transaction<T>(fn: () => T): T {
    return this.storage.transactionSync(fn);
  }
}
