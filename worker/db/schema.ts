/**
 * D1 tables, described once for drizzle-orm and drizzle-kit (`npm run db:generate` writes the
 * SQL migrations in migrations/ from this file). Times are Unix milliseconds.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { isFinalStatus, jobStatuses } from '../domain/jobs.ts';

/** Roles, weakest first: each role can do everything the ones before it can. */
export const roles = ['viewer', 'member', 'admin', 'owner'] as const;
export type Role = (typeof roles)[number];

/**
 * A customer account. Every other row belongs to exactly one tenant. `deletedAt` is the tombstone
 * of a deleted tenant (docs/tenant-data.md): its row stays, as the anchor of its last audit entry,
 * and every credential of it is refused.
 */
export const tenants = sqliteTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: integer('created_at').notNull(),
  deletedAt: integer('deleted_at'),
});

/**
 * API keys, stored only as a SHA-256 hash; `prefix` is the part a person may see. A key acts
 * with its `role`. `expiresAt` is set when the key was rotated: it works until then.
 */
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
    role: text('role', { enum: roles }).notNull().default('member'),
    createdBy: text('created_by'),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at'),
    expiresAt: integer('expires_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('api_keys_tenant_idx').on(t.tenantId, t.createdAt, t.id)],
);

/**
 * People (JWT subjects) known to a tenant with a role set by the tenant's owners. For a
 * subject with a membership, its role wins over the token's role claim.
 */
export const memberships = sqliteTable(
  'memberships',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    subject: text('subject').notNull(),
    role: text('role', { enum: roles }).notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.subject] })],
);

/**
 * Idempotency keys of job creation, per tenant, kept 24 hours. `requestHash` is the SHA-256 of
 * the request body; `jobId` is a fresh id recorded with the key before the job is created, so a
 * retry reuses it and can never start a second job.
 */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    jobId: text('job_id').notNull(),
    state: text('state', { enum: ['in_flight', 'done'] }).notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.key] }),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
  ],
);

/** Who did what, when, from where: one row per security-relevant action. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    time: integer('time').notNull(),
    /** `key:<key id>` or `user:<subject>`. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    /** What the action was done to, e.g. a job or key id. */
    target: text('target'),
    requestId: text('request_id').notNull(),
    ip: text('ip'),
    /** JSON with action-specific details; never a secret. */
    details: text('details'),
  },
  (t) => [index('audit_log_tenant_time_idx').on(t.tenantId, t.time, t.id)],
);

/**
 * "The job has not ended", as literal SQL: a partial index and the queries meant to use it must
 * spell the condition the same way, without bound parameters, for SQLite to match them.
 */
export const unfinishedJob = sql.raw(
  `"status" IN (${jobStatuses
    .filter((status) => !isFinalStatus(status))
    .map((status) => `'${status}'`)
    .join(', ')})`,
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
    status: text('status', { enum: jobStatuses }).notNull(),
    repoUrl: text('repo_url').notNull(),
    repoRef: text('repo_ref'),
    command: text('command').notNull(),
    timeoutSeconds: integer('timeout_seconds').notNull(),
    exitCode: integer('exit_code'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    sandboxId: text('sandbox_id'),
    /** The actor that created the job (`key:<id>` or `user:<subject>`). */
    createdBy: text('created_by'),
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
    // Unfinished jobs only, oldest first: the scheduled reconciliation reads these (few) rows.
    index('jobs_unfinished_created_idx').on(t.createdAt, t.id).where(unfinishedJob),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
