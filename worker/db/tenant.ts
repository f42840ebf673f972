/**
 * D1 queries on a tenant as a whole, for its export and its deletion (docs/tenant-data.md): the
 * tenant row and its tombstone, a page of idempotency keys, and the batched deletes of the rows a
 * tenant owns. Every query filters by tenant.
 */
import { and, desc, eq, inArray, isNotNull, isNull, ne, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import type { AuditAction } from './audit.ts';
import { forgetKeys, membershipsBySubject } from './auth-cache.ts';
import { olderThan, toPage, type Cursor } from './page.ts';
import {
  apiKeys,
  auditLog,
  budgetNotices,
  githubDeliveries,
  githubInstallations,
  githubJobs,
  idempotencyKeys,
  jobs,
  memberships,
  projects,
  secrets,
  tenants,
  unfinishedJob,
  usageLedger,
  webhookDeliveries,
  webhookSubscriptions,
} from './schema.ts';

export type TenantRow = typeof tenants.$inferSelect;
export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect;

/** The tenant `id` (deleted or not), or null. */
export async function findTenant(d1: D1Database, id: string): Promise<TenantRow | null> {
  const rows = await drizzle(d1).select().from(tenants).where(eq(tenants.id, id)).limit(1);
  return rows[0] ?? null;
}

/** One page of the tenant's idempotency keys, newest first. */
export async function listIdempotencyKeys(
  d1: D1Database,
  tenantId: string,
  options: { limit: number; cursor?: Cursor | undefined },
): Promise<{ rows: IdempotencyKeyRow[]; next: Cursor | null }> {
  const rows = await drizzle(d1)
    .select()
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.tenantId, tenantId),
        olderThan(options.cursor, idempotencyKeys.createdAt, idempotencyKeys.key),
      ),
    )
    .orderBy(desc(idempotencyKeys.createdAt), desc(idempotencyKeys.key))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ createdAt: row.createdAt, id: row.key }));
}

/** Who asked for a tenant's deletion, when and from where: its `tenant.delete` audit entry. */
export interface DeletionEntry {
  actor: string;
  requestId: string;
  ip: string | null;
  /** Unix milliseconds; also the tombstone's `deleted_at` and the keys' `revoked_at`. */
  time: number;
}

/**
 * The id of the tenant's `tenant.delete` audit entry, derived from the tenant id (`aud_` and 32
 * hex digits, like every other entry id), so that however often the deletion is asked for or
 * retried the entry is written once.
 */
export async function deletionAuditId(tenantId: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(`tenant.delete\n${tenantId}`),
  );
  const hex = Array.from(new Uint8Array(digest).subarray(0, 16), (byte) =>
    byte.toString(16).padStart(2, '0'),
  );
  return `aud_${hex.join('')}`;
}

/**
 * Marks the tenant deleted, in one transaction: the tombstone (`deleted_at`, set once), every key
 * revoked, every membership and secret removed, and the `tenant.delete` audit entry (written once). From
 * then on no credential of the tenant is accepted. Safe to repeat: a second run only revokes or
 * removes what was added meanwhile.
 */
export async function tombstoneTenant(
  d1: D1Database,
  tenantId: string,
  entry: DeletionEntry,
): Promise<void> {
  const db = drizzle(d1);
  const action: AuditAction = 'tenant.delete';
  await db.batch([
    db
      .update(tenants)
      .set({ deletedAt: entry.time })
      .where(and(eq(tenants.id, tenantId), isNull(tenants.deletedAt))),
    db
      .update(apiKeys)
      .set({ revokedAt: entry.time })
      .where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt))),
    db.delete(memberships).where(eq(memberships.tenantId, tenantId)),
    // Secret values go at once too: nothing of the tenant may use them from now on.
    db.delete(secrets).where(eq(secrets.tenantId, tenantId)),
    // So do webhook subscriptions (their signing secrets): nothing more is sent for the tenant.
    db.delete(webhookSubscriptions).where(eq(webhookSubscriptions.tenantId, tenantId)),
    db
      .insert(auditLog)
      .values({
        id: await deletionAuditId(tenantId),
        tenantId,
        time: entry.time,
        actor: entry.actor,
        action,
        target: tenantId,
        requestId: entry.requestId,
        ip: entry.ip,
        details: '{}',
      })
      .onConflictDoNothing(),
  ]);
  forgetTenantCredentials();
}

/**
 * Forgets every cached credential in this isolate (worker/db/auth-cache.ts), so that a deleted
 * tenant's keys and JWTs are refused here at once; other isolates drop theirs within the cache's
 * lifetime. A deletion is rare: clearing whole caches costs a few D1 reads, nothing more.
 */
export function forgetTenantCredentials(): void {
  forgetKeys();
  membershipsBySubject.clear();
}

/**
 * One page of the ids of the tenant's jobs whose row says they have not ended, newest first. A job
 * created after the first page was read is not in later pages: the deletion's erase phase, which
 * reads every row left, cancels it then.
 */
export async function listUnfinishedJobIds(
  d1: D1Database,
  tenantId: string,
  cursor: Cursor | null,
  limit: number,
): Promise<{ ids: string[]; next: Cursor | null }> {
  const rows = await drizzle(d1)
    .select({ id: jobs.id, createdAt: jobs.createdAt })
    .from(jobs)
    .where(
      and(
        eq(jobs.tenantId, tenantId),
        unfinishedJob,
        olderThan(cursor ?? undefined, jobs.createdAt, jobs.id),
      ),
    )
    .orderBy(desc(jobs.createdAt), desc(jobs.id))
    .limit(limit + 1);
  const page = toPage(rows, limit, (row) => row);
  return { ids: page.rows.map((row) => row.id), next: page.next };
}

/** Up to `limit` ids of the tenant's jobs, whatever their status. */
export async function someJobIds(
  d1: D1Database,
  tenantId: string,
  limit: number,
): Promise<string[]> {
  const rows = await drizzle(d1)
    .select({ id: jobs.id })
    .from(jobs)
    .where(eq(jobs.tenantId, tenantId))
    .limit(limit);
  return rows.map((row) => row.id);
}

/** Deletes the tenant's job rows `ids` (their Job DOs are erased first). */
export async function deleteJobRows(
  d1: D1Database,
  tenantId: string,
  ids: string[],
): Promise<void> {
  if (ids.length === 0) return;
  await drizzle(d1)
    .delete(jobs)
    .where(and(eq(jobs.tenantId, tenantId), inArray(jobs.id, ids)));
}

/** Rows deleted per table and statement: a batch stays well within D1's limits. */
const DELETE_BATCH = 500;

/**
 * Deletes up to DELETE_BATCH of each kind of row the tenant owns, in one batch: API keys,
 * memberships, idempotency keys, audit entries but its `tenant.delete` entry, secrets, projects,
 * the cost ledger, the budget notices, webhook subscriptions and deliveries, GitHub App
 * installations, their deliveries and the jobs started from GitHub. Job rows go
 * separately, once their Job DO is erased (deleteJobRows); the tenant's row stays as the
 * tombstone. Returns how many rows it deleted: call it again until that is 0.
 */
export async function deleteTenantRows(d1: D1Database, tenantId: string): Promise<number> {
  const db = drizzle(d1);
  const keep = await deletionAuditId(tenantId);
  const results = await db.batch([
    db
      .delete(apiKeys)
      .where(
        inArray(
          apiKeys.id,
          db
            .select({ id: apiKeys.id })
            .from(apiKeys)
            .where(eq(apiKeys.tenantId, tenantId))
            .limit(DELETE_BATCH),
        ),
      )
      .returning({ id: apiKeys.id }),
    db
      .delete(memberships)
      .where(
        and(
          eq(memberships.tenantId, tenantId),
          inArray(
            memberships.subject,
            db
              .select({ subject: memberships.subject })
              .from(memberships)
              .where(eq(memberships.tenantId, tenantId))
              .limit(DELETE_BATCH),
          ),
        ),
      )
      .returning({ subject: memberships.subject }),
    db
      .delete(idempotencyKeys)
      .where(
        and(
          eq(idempotencyKeys.tenantId, tenantId),
          inArray(
            idempotencyKeys.key,
            db
              .select({ key: idempotencyKeys.key })
              .from(idempotencyKeys)
              .where(eq(idempotencyKeys.tenantId, tenantId))
              .limit(DELETE_BATCH),
          ),
        ),
      )
      .returning({ key: idempotencyKeys.key }),
    db
      .delete(auditLog)
      .where(
        inArray(
          auditLog.id,
          db
            .select({ id: auditLog.id })
            .from(auditLog)
            .where(and(eq(auditLog.tenantId, tenantId), ne(auditLog.id, keep)))
            .limit(DELETE_BATCH),
        ),
      )
      .returning({ id: auditLog.id }),
    db
      .delete(secrets)
      .where(
        and(
          eq(secrets.tenantId, tenantId),
          inArray(
            secrets.name,
            db
              .select({ name: secrets.name })
              .from(secrets)
              .where(eq(secrets.tenantId, tenantId))
              .limit(DELETE_BATCH),
          ),
        ),
      )
      .returning({ name: secrets.name }),
    db
      .delete(projects)
      .where(
        inArray(
          projects.id,
          db
            .select({ id: projects.id })
            .from(projects)
            .where(eq(projects.tenantId, tenantId))
            .limit(DELETE_BATCH),
        ),
      )
      .returning({ id: projects.id }),
    // The ledger and the notices have composite keys: a page of them is picked by rowid.
    db
      .delete(usageLedger)
      .where(
        sql`rowid IN (SELECT rowid FROM ${usageLedger} WHERE ${usageLedger.tenantId} = ${tenantId} LIMIT ${DELETE_BATCH})`,
      )
      .returning({ jobId: usageLedger.jobId }),
    db
      .delete(budgetNotices)
      .where(
        sql`rowid IN (SELECT rowid FROM ${budgetNotices} WHERE ${budgetNotices.tenantId} = ${tenantId} LIMIT ${DELETE_BATCH})`,
      )
      .returning({ month: budgetNotices.month }),
    db
      .delete(webhookSubscriptions)
      .where(
        inArray(
          webhookSubscriptions.id,
          db
            .select({ id: webhookSubscriptions.id })
            .from(webhookSubscriptions)
            .where(eq(webhookSubscriptions.tenantId, tenantId))
            .limit(DELETE_BATCH),
        ),
      )
      .returning({ id: webhookSubscriptions.id }),
    db
      .delete(webhookDeliveries)
      .where(
        inArray(
          webhookDeliveries.id,
          db
            .select({ id: webhookDeliveries.id })
            .from(webhookDeliveries)
            .where(eq(webhookDeliveries.tenantId, tenantId))
            .limit(DELETE_BATCH),
        ),
      )
      .returning({ id: webhookDeliveries.id }),
    db
      .delete(githubInstallations)
      .where(
        inArray(
          githubInstallations.installationId,
          db
            .select({ id: githubInstallations.installationId })
            .from(githubInstallations)
            .where(eq(githubInstallations.tenantId, tenantId))
            .limit(DELETE_BATCH),
        ),
      )
      .returning({ id: githubInstallations.installationId }),
    db
      .delete(githubDeliveries)
      .where(
        inArray(
          githubDeliveries.deliveryId,
          db
            .select({ id: githubDeliveries.deliveryId })
            .from(githubDeliveries)
            .where(eq(githubDeliveries.tenantId, tenantId))
            .limit(DELETE_BATCH),
        ),
      )
      .returning({ id: githubDeliveries.deliveryId }),
    db
      .delete(githubJobs)
      .where(
        inArray(
          githubJobs.jobId,
          db
            .select({ id: githubJobs.jobId })
            .from(githubJobs)
            .where(eq(githubJobs.tenantId, tenantId))
            .limit(DELETE_BATCH),
        ),
      )
      .returning({ id: githubJobs.jobId }),
  ]);
  if (results[0].length > 0 || results[1].length > 0) forgetTenantCredentials();
  return results.reduce((sum, rows) => sum + rows.length, 0);
}

/**
 * The last step of a deletion: the tombstone keeps the tenant's id and times only (its name may
 * name a person or a company, so it becomes the id).
 */
export async function scrubTenant(d1: D1Database, tenantId: string): Promise<void> {
  await drizzle(d1)
    .update(tenants)
    .set({ name: tenantId })
    .where(and(eq(tenants.id, tenantId), isNotNull(tenants.deletedAt)));
}
