/**
 * D1 tables, described once for drizzle-orm and drizzle-kit (`npm run db:generate` writes the
 * SQL migrations in migrations/ from this file). Times are Unix milliseconds.
 */
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** A customer account. Every other row belongs to exactly one tenant. */
export const tenants = sqliteTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: integer('created_at').notNull(),
});

/** API keys, stored only as a SHA-256 hash; `prefix` is the part a person may see. */
export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('api_keys_tenant_idx').on(t.tenantId)],
);

/**
 * One row per job. The Job Durable Object is the only writer after creation: it mirrors its state
 * here on every transition, so lists and filters can be answered from D1.
 */
export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    status: text('status', {
      enum: ['queued', 'provisioning', 'cloning', 'running', 'succeeded', 'failed', 'timed_out'],
    }).notNull(),
    repoUrl: text('repo_url').notNull(),
    repoRef: text('repo_ref'),
    command: text('command').notNull(),
    timeoutSeconds: integer('timeout_seconds').notNull(),
    exitCode: integer('exit_code'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    sandboxId: text('sandbox_id'),
    createdAt: integer('created_at').notNull(),
    provisioningAt: integer('provisioning_at'),
    cloningAt: integer('cloning_at'),
    runningAt: integer('running_at'),
    finishedAt: integer('finished_at'),
    updatedAt: integer('updated_at')
      .notNull()
      .default(sql`(unixepoch() * 1000)`),
  },
  (t) => [
    index('jobs_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
    index('jobs_tenant_status_created_idx').on(t.tenantId, t.status, t.createdAt, t.id),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
export type JobStatus = JobRow['status'];
