/**
 * GitHubAppDO's SQLite storage: one row per item to carry out — a delivery's work (`work:<id>`)
 * or the latest change of a job (`job:<id>`) — with what has been done of it (`progress`, written
 * right after each answer GitHub took, so a retry never sends it again), its attempts and when
 * it is due. The alarm is set to the earliest due item. Every method is synchronous.
 */
import { z } from 'zod';
import { githubTriggers } from '../../worker/db/schema.ts';
import { jobStatuses } from '../../worker/domain/jobs.ts';
import { GitHubInstallationSettingsSchema } from '../../worker/github/settings.ts';
import type { GitHubJobUpdate, GitHubWork } from '../../worker/github/work.ts';
import { applyMigrations } from '../sql-migrations.ts';

/** Append-only: a new schema change is a new entry, never an edit of an old one. */
const migrations: readonly string[] = [
  `CREATE TABLE items (
     key TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     body TEXT NOT NULL,
     progress TEXT NOT NULL DEFAULT '{}',
     job_id TEXT,
     state TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     first_at INTEGER NOT NULL,
     due_at INTEGER NOT NULL,
     last_error TEXT,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX items_due ON items (state, due_at);
   CREATE INDEX items_job ON items (job_id);`,
  // One row when the installation is suspended on GitHub (since when).
  `CREATE TABLE suspension (id INTEGER PRIMARY KEY CHECK (id = 1), since INTEGER NOT NULL);`,
];

export const workSchema = z.object({
  deliveryId: z.string(),
  installationId: z.number().int(),
  tenantId: z.string(),
  projectId: z.string(),
  trigger: z.enum(githubTriggers),
  repository: z.object({
    owner: z.string(),
    name: z.string(),
    id: z.number().int(),
    cloneUrl: z.string(),
    defaultBranch: z.string(),
    private: z.boolean(),
  }),
  sender: z.string(),
  issueNumber: z.number().int().nullable(),
  isPullRequest: z.boolean(),
  commentId: z.number().int().nullable(),
  head: z.object({ sha: z.string(), ref: z.string(), cloneUrl: z.string() }).nullable(),
  prompt: z.string(),
  rerunOfCheckRunId: z.number().int().nullable(),
  settings: GitHubInstallationSettingsSchema,
  receivedAt: z.number(),
}) satisfies z.ZodType<GitHubWork>;

export const updateSchema = z.object({
  jobId: z.string(),
  tenantId: z.string(),
  status: z.enum(jobStatuses),
  exitCode: z.number().int().nullable(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  costMicroUsd: z.number(),
  createdAt: z.number(),
  runningAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  agentResult: z.string().nullable(),
  push: z
    .object({ branch: z.string(), commitSha: z.string(), changedFiles: z.number().int() })
    .nullable(),
  pushError: z.string().nullable(),
}) satisfies z.ZodType<GitHubJobUpdate>;

export type ItemKind = 'work' | 'job';
export type ItemState = 'pending' | 'done' | 'failed';

export interface Item {
  key: string;
  kind: ItemKind;
  body: unknown;
  /** The body as stored: finishing an item checks that no newer body replaced it meanwhile. */
  bodyText: string;
  progress: Record<string, unknown>;
  jobId: string | null;
  state: ItemState;
  attempts: number;
  firstAt: number;
  dueAt: number;
  lastError: string | null;
}

const rowSchema = z.object({
  key: z.string(),
  kind: z.enum(['work', 'job']),
  body: z.string(),
  progress: z.string(),
  job_id: z.string().nullable(),
  state: z.enum(['pending', 'done', 'failed']),
  attempts: z.number(),
  first_at: z.number(),
  due_at: z.number(),
  last_error: z.string().nullable(),
});

const progressSchema = z.record(z.string(), z.unknown());

function toItem(row: unknown): Item {
  const r = rowSchema.parse(row);
  return {
    key: r.key,
    kind: r.kind,
    body: JSON.parse(r.body),
    bodyText: r.body,
    progress: progressSchema.parse(JSON.parse(r.progress)),
    jobId: r.job_id,
    state: r.state,
    attempts: r.attempts,
    firstAt: r.first_at,
    dueAt: r.due_at,
    lastError: r.last_error,
  };
}

export const workKey = (deliveryId: string) => `work:${deliveryId}`;
export const jobKey = (jobId: string) => `job:${jobId}`;

export class GitHubStorage {
  private readonly storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
    this.ensureSchema();
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  private ensureSchema(): void {
    applyMigrations(this.storage, migrations);
  }

  /** Since when the installation is suspended, or null. */
  suspendedSince(): number | null {
    const rows = this.sql.exec('SELECT since FROM suspension WHERE id = 1').toArray();
    const since = rows[0]?.['since'];
    return typeof since === 'number' ? since : null;
  }

  /** Marks the installation suspended since `since` (kept if it already is), or not (null). */
  setSuspended(since: number | null): void {
    if (since === null) this.sql.exec('DELETE FROM suspension');
    else this.sql.exec('INSERT OR IGNORE INTO suspension (id, since) VALUES (1, ?)', since);
  }

  get(key: string): Item | null {
    const rows = this.sql.exec('SELECT * FROM items WHERE key = ?', key).toArray();
    return rows[0] === undefined ? null : toItem(rows[0]);
  }

  /** The item of the delivery that created `jobId`, if this object holds it. */
  workOfJob(jobId: string): Item | null {
    const rows = this.sql
      .exec("SELECT * FROM items WHERE kind = 'work' AND job_id = ? LIMIT 1", jobId)
      .toArray();
    return rows[0] === undefined ? null : toItem(rows[0]);
  }

  /** Stores a new item due now; false (nothing changed) when `key` is already stored. */
  insert(key: string, kind: ItemKind, body: unknown, jobId: string | null, now: number): boolean {
    const cursor = this.sql.exec(
      `INSERT INTO items (key, kind, body, job_id, state, first_at, due_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
      key,
      kind,
      JSON.stringify(body),
      jobId,
      now,
      now,
      now,
    );
    return cursor.rowsWritten > 0;
  }

  /** Replaces an item's body and makes it due now again, keeping what was done of it. */
  replaceBody(key: string, body: unknown, now: number): void {
    this.sql.exec(
      `UPDATE items SET body = ?, state = 'pending', due_at = ?, attempts = 0, first_at = ?,
       updated_at = ? WHERE key = ?`,
      JSON.stringify(body),
      now,
      now,
      now,
      key,
    );
  }

  /** Records what has been done of an item (at once: the next step may not come back). */
  saveProgress(key: string, progress: Record<string, unknown>, jobId: string | null): void {
    this.sql.exec(
      'UPDATE items SET progress = ?, job_id = COALESCE(?, job_id), updated_at = ? WHERE key = ?',
      JSON.stringify(progress),
      jobId,
      Date.now(),
      key,
    );
  }

  /** The item is due again at `dueAt`; `failed` counts a failed attempt. */
  reschedule(key: string, dueAt: number, error: string | null, failed: boolean): void {
    this.sql.exec(
      `UPDATE items SET due_at = ?, last_error = COALESCE(?, last_error),
       attempts = attempts + ?, updated_at = ? WHERE key = ?`,
      dueAt,
      error,
      failed ? 1 : 0,
      Date.now(),
      key,
    );
  }

  /**
   * The item is finished (`done`, or `failed` for good with its last error), unless its body
   * was replaced since `bodyText` was read: the newer body is then still to carry out.
   */
  finish(
    key: string,
    bodyText: string,
    state: 'done' | 'failed',
    error: string | null,
    now: number,
  ): void {
    this.sql.exec(
      `UPDATE items SET state = ?, last_error = COALESCE(?, last_error), due_at = ?,
       updated_at = ? WHERE key = ? AND body = ?`,
      state,
      error,
      now,
      now,
      key,
      bodyText,
    );
  }

  /** A pending item is due at `at` (another item it waited on has got far enough). */
  makeDue(key: string, at: number): void {
    this.sql.exec(
      "UPDATE items SET due_at = MIN(due_at, ?) WHERE key = ? AND state = 'pending'",
      at,
      key,
    );
  }

  /** The pending items due by `now`, oldest due first, at most `limit`. */
  due(now: number, limit: number): Item[] {
    return this.sql
      .exec(
        "SELECT * FROM items WHERE state = 'pending' AND due_at <= ? ORDER BY due_at LIMIT ?",
        now,
        limit,
      )
      .toArray()
      .map(toItem);
  }

  /** When the next pending item is due, or null when none is. */
  nextDue(): number | null {
    const row = this.sql
      .exec("SELECT MIN(due_at) AS at FROM items WHERE state = 'pending'")
      .toArray()[0];
    return typeof row?.at === 'number' ? row.at : null;
  }

  /** Deletes up to `limit` finished items last changed before `before`. */
  purgeFinished(before: number, limit: number): void {
    this.sql.exec(
      `DELETE FROM items WHERE key IN (SELECT key FROM items WHERE state != 'pending'
       AND updated_at < ? LIMIT ?)`,
      before,
      limit,
    );
  }
}
