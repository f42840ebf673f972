/**
 * D1 tables, described once for drizzle-orm and drizzle-kit (`npm run db:generate` writes the
 * SQL migrations in migrations/ from this file). Times are Unix milliseconds.
 */
import { sql } from 'drizzle-orm';
import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';
import { isFinalStatus, jobKinds, jobStatuses } from '../domain/jobs.ts';

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
    /** The project the job belongs to (its budget and sandbox shape); null before projects. */
    projectId: text('project_id'),
    /** `command` (a shell command) or `agent` (a coding agent CLI, see durable-objects/job/agents/). */
    kind: text('kind', { enum: jobKinds }).notNull().default('command'),
    /** What the job cost so far, in millionths of a US dollar (usage_ledger has the lines). */
    costMicroUsd: integer('cost_micro_usd').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    provisioningAt: integer('provisioning_at'),
    cloningAt: integer('cloning_at'),
    runningAt: integer('running_at'),
    /** When the job's command first printed something (stdout or stderr), for metrics. */
    firstOutputAt: integer('first_output_at'),
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

/**
 * A tenant's secrets, encrypted with AES-GCM (worker/lib/secrets-crypto.ts): `keyId` names the
 * encryption key in SECRETS_KEYS so keys can be rotated, `iv` and `ciphertext` are base64. The
 * value is never returned by the API and never logged.
 */
export const secrets = sqliteTable(
  'secrets',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    keyId: text('key_id').notNull(),
    iv: text('iv').notNull(),
    ciphertext: text('ciphertext').notNull(),
    createdBy: text('created_by'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.name] }),
    index('secrets_tenant_created_idx').on(t.tenantId, t.createdAt, t.name),
  ],
);

/**
 * A tenant's projects: a monthly budget, the repositories its jobs may clone, and the shape of
 * their sandboxes (JSON, validated by the API; null: the operator's defaults). Every tenant has
 * one default project, used by jobs that name none.
 */
export const projects = sqliteTable(
  'projects',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    isDefault: integer('is_default', { mode: 'boolean' }).notNull().default(false),
    /** Monthly budget in millionths of a US dollar; null: no project budget. */
    monthlyBudgetMicroUsd: integer('monthly_budget_micro_usd'),
    /** JSON array of repository URL prefixes jobs may clone; empty: the service's rules only. */
    repoAllowList: text('repo_allow_list').notNull().default('[]'),
    /** JSON sandbox shape (cpu, memory, disk, auto-stop/delete, network); null: defaults. */
    sandbox: text('sandbox'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('projects_tenant_name_idx').on(t.tenantId, t.name),
    index('projects_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
  ],
);

/**
 * The cost ledger: what each job used, one line per job and item — `llm` per model (tokens, and
 * the CLI's own reported cost beside ours) or `sandbox` (model ''; seconds from create to delete
 * and the vCPU- and GiB-seconds of its size). Costs in millionths of a US dollar, priced with
 * the price table named in `priceTable`. Lines are upserted while the job runs, so a report
 * includes running jobs.
 */
export const usageLedger = sqliteTable(
  'usage_ledger',
  {
    jobId: text('job_id').notNull(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    projectId: text('project_id'),
    /** Who started the job (`key:<id>` or `user:<subject>`). */
    actor: text('actor'),
    /** UTC day the job was created, YYYY-MM-DD (reports group by it). */
    day: text('day').notNull(),
    item: text('item', { enum: ['llm', 'sandbox'] }).notNull(),
    model: text('model').notNull().default(''),
    inputTokens: integer('input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    cacheWriteTokens: integer('cache_write_tokens').notNull().default(0),
    cacheReadTokens: integer('cache_read_tokens').notNull().default(0),
    sandboxSeconds: integer('sandbox_seconds').notNull().default(0),
    vcpuSeconds: integer('vcpu_seconds').notNull().default(0),
    gibSeconds: integer('gib_seconds').notNull().default(0),
    costMicroUsd: integer('cost_micro_usd').notNull().default(0),
    /** What the agent CLI itself reported (list prices), for comparison; null for sandboxes. */
    reportedCostMicroUsd: integer('reported_cost_micro_usd'),
    priceTable: text('price_table').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.item, t.model] }),
    index('usage_ledger_tenant_day_idx').on(t.tenantId, t.day),
    index('usage_ledger_project_day_idx').on(t.tenantId, t.projectId, t.day),
  ],
);

/**
 * Budget notices: one row the first time a budget's spend crosses 80, 90 or 95 % (or 100 %) in
 * a month. `scope` is `tenant` (scopeId: the tenant id) or `project` (scopeId: the project id).
 */
export const budgetNotices = sqliteTable(
  'budget_notices',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    scope: text('scope', { enum: ['tenant', 'project'] }).notNull(),
    scopeId: text('scope_id').notNull(),
    /** YYYY-MM, UTC. */
    month: text('month').notNull(),
    /** Percent of the budget: 80, 90, 95 or 100. */
    threshold: integer('threshold').notNull(),
    spendMicroUsd: integer('spend_micro_usd').notNull(),
    limitMicroUsd: integer('limit_micro_usd').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.scope, t.scopeId, t.month, t.threshold] }),
    index('budget_notices_tenant_created_idx').on(t.tenantId, t.createdAt),
  ],
);

/** What a webhook subscription may listen to (docs/webhooks.md). */
export const webhookEvents = [
  'job.started',
  'job.succeeded',
  'job.failed',
  'job.canceled',
  'job.timed_out',
  'budget.threshold',
] as const;
export type WebhookEvent = (typeof webhookEvents)[number];

/**
 * A tenant's webhook subscriptions: a URL and the events it wants. The signing secret is stored
 * encrypted like tenant secrets (worker/lib/secrets-crypto.ts, name `webhook:<id>`) and shown
 * only once, at creation. `disabledAt` is set when the receiver answered 410 Gone.
 */
export const webhookSubscriptions = sqliteTable(
  'webhook_subscriptions',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    url: text('url').notNull(),
    /** JSON array of WebhookEvent. */
    events: text('events').notNull(),
    description: text('description'),
    keyId: text('key_id').notNull(),
    iv: text('iv').notNull(),
    ciphertext: text('ciphertext').notNull(),
    createdBy: text('created_by'),
    createdAt: integer('created_at').notNull(),
    disabledAt: integer('disabled_at'),
  },
  (t) => [index('webhook_subscriptions_tenant_created_idx').on(t.tenantId, t.createdAt, t.id)],
);

/**
 * The durable queue of webhook deliveries: one row per subscription and event (the id is derived
 * from both, so an event queued twice is one delivery). `payload` is the exact body sent; it holds
 * no secrets, prompts or environment values. `history` is a JSON array of the latest attempts.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    subscriptionId: text('subscription_id').notNull(),
    eventId: text('event_id').notNull(),
    event: text('event', { enum: webhookEvents }).notNull(),
    payload: text('payload').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    lastAttemptAt: integer('last_attempt_at'),
    nextAttemptAt: integer('next_attempt_at'),
    history: text('history').notNull().default('[]'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('webhook_deliveries_subscription_idx').on(
      t.tenantId,
      t.subscriptionId,
      t.createdAt,
      t.id,
    ),
    index('webhook_deliveries_due_idx').on(t.tenantId, t.status, t.nextAttemptAt),
  ],
);

/** What makes a GitHub App installation start a job (docs/github.md). */
export const githubTriggers = ['command', 'mention', 'label', 'pull_request', 'rerequest'] as const;
export type GitHubTrigger = (typeof githubTriggers)[number];

/**
 * GitHub App installations mapped to a tenant and the project their jobs belong to
 * (`PUT /v1/github/installations/{id}`). `settings` is JSON, validated by the API: which
 * triggers are on (the `/omni` command, mentions of the App, labels, pull request review) and
 * the agent options of the jobs they start. One installation belongs to one tenant.
 */
export const githubInstallations = sqliteTable(
  'github_installations',
  {
    installationId: integer('installation_id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    projectId: text('project_id').notNull(),
    /** The account (user or organisation) the App is installed on, as GitHub last named it. */
    accountLogin: text('account_login'),
    settings: text('settings').notNull(),
    createdBy: text('created_by'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('github_installations_tenant_idx').on(t.tenantId, t.createdAt, t.installationId)],
);

/** What Omni did with one inbound GitHub delivery. */
export const githubDeliveryOutcomes = [
  'accepted',
  'job_created',
  'ignored',
  'invalid',
  'failed',
] as const;
export type GitHubDeliveryOutcome = (typeof githubDeliveryOutcomes)[number];

/**
 * Inbound GitHub webhook deliveries, one row per `X-GitHub-Delivery` (the primary key is what
 * makes a redelivery start nothing). `tenantId` is null while the installation is not mapped.
 * No payload is kept: only what an admin needs to see what happened and why.
 */
export const githubDeliveries = sqliteTable(
  'github_deliveries',
  {
    deliveryId: text('delivery_id').primaryKey(),
    event: text('event').notNull(),
    action: text('action'),
    installationId: integer('installation_id'),
    tenantId: text('tenant_id'),
    /** `owner/name` of the repository the event is about (null: none). */
    repository: text('repository'),
    /** The login of whoever caused the event. */
    sender: text('sender'),
    outcome: text('outcome', { enum: githubDeliveryOutcomes }).notNull(),
    /** Why it was ignored or failed, in words an admin can act on. */
    reason: text('reason'),
    jobId: text('job_id'),
    receivedAt: integer('received_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('github_deliveries_tenant_idx').on(t.tenantId, t.receivedAt, t.deliveryId),
    index('github_deliveries_received_idx').on(t.receivedAt),
  ],
);

/**
 * A job started from GitHub and what Omni has told GitHub about it: the check run on `headSha`,
 * the comment that answers the trigger, the pull request of the agent's changes. `spec` is the
 * job body it was created with, so `check_run.rerequested` can start it again. `answered` is
 * JSON of the answers already sent (durable-objects/github/), so a retry sends none twice.
 */
export const githubJobs = sqliteTable(
  'github_jobs',
  {
    jobId: text('job_id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    installationId: integer('installation_id').notNull(),
    /** `owner/name`. */
    repository: text('repository').notNull(),
    trigger: text('trigger', { enum: githubTriggers }).notNull(),
    deliveryId: text('delivery_id').notNull(),
    /** The issue or pull request the job answers (null: none). */
    issueNumber: integer('issue_number'),
    /** The comment that asked for the job (it gets the reaction); null: none. */
    commentId: integer('comment_id'),
    /** The commit the check run is on, and the branch the job ran on. */
    headSha: text('head_sha').notNull(),
    headRef: text('head_ref'),
    checkRunId: integer('check_run_id'),
    spec: text('spec').notNull(),
    answered: text('answered').notNull().default('{}'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('github_jobs_check_run_idx').on(t.installationId, t.checkRunId),
    index('github_jobs_tenant_created_idx').on(t.tenantId, t.createdAt, t.jobId),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
export type SecretRow = typeof secrets.$inferSelect;
export type ProjectRow = typeof projects.$inferSelect;
export type UsageLedgerRow = typeof usageLedger.$inferSelect;
export type WebhookSubscriptionRow = typeof webhookSubscriptions.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
export type BudgetNoticeRow = typeof budgetNotices.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
export type GitHubInstallationRow = typeof githubInstallations.$inferSelect;
export type GitHubDeliveryRow = typeof githubDeliveries.$inferSelect;
export type GitHubJobRow = typeof githubJobs.$inferSelect;
