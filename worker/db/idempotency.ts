/**
 * Idempotency keys of job creation (after the IETF Idempotency-Key draft and Stripe's
 * semantics): per tenant, kept 24 hours. The first request with a key records it as in flight
 * together with the job id it will use, so a retry after a crash reuses that id and the Job DO's
 * idempotent create() makes sure no second job or sandbox appears.
 */
import { and, eq, lt } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { idempotencyKeys } from './schema.ts';

/** How long a key is remembered. */
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/** An in-flight record older than this was abandoned (its request died); a retry takes over. */
const ABANDONED_AFTER_MS = 60_000;

/** What to do with a request that carries an Idempotency-Key. */
type IdempotencyClaim =
  | { kind: 'proceed'; jobId: string }
  | { kind: 'replay'; jobId: string }
  | { kind: 'in_flight' }
  | { kind: 'mismatch' };

/**
 * Claims `key` for a request whose body hashes to `requestHash`, proposing `jobId` for a new job.
 */
export async function claimIdempotencyKey(
  d1: D1Database,
  tenantId: string,
  key: string,
  requestHash: string,
  jobId: string,
  now: number,
): Promise<IdempotencyClaim> {
  const db = drizzle(d1);
  const fresh = {
    tenantId,
    key,
    requestHash,
    jobId,
    state: 'in_flight' as const,
    createdAt: now,
    expiresAt: now + IDEMPOTENCY_TTL_MS,
  };
  const inserted = await db.insert(idempotencyKeys).values(fresh).onConflictDoNothing().returning();
  if (inserted.length > 0) return { kind: 'proceed', jobId };

  const where = and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.key, key));
  // An expired record is forgotten: the key starts a new job.
  const renewed = await db
    .update(idempotencyKeys)
    .set(fresh)
    .where(and(where, lt(idempotencyKeys.expiresAt, now)))
    .returning();
  if (renewed.length > 0) return { kind: 'proceed', jobId };

  const existing = (await db.select().from(idempotencyKeys).where(where).limit(1))[0];
  if (!existing) return { kind: 'in_flight' }; // deleted between our reads: let the client retry
  if (existing.requestHash !== requestHash) return { kind: 'mismatch' };
  if (existing.state === 'done') return { kind: 'replay', jobId: existing.jobId };
  if (existing.createdAt < now - ABANDONED_AFTER_MS) {
    // Take over an abandoned attempt, with the job id it recorded.
    const taken = await db
      .update(idempotencyKeys)
      .set({ createdAt: now })
      .where(and(where, eq(idempotencyKeys.createdAt, existing.createdAt)))
      .returning();
    if (taken.length > 0) return { kind: 'proceed', jobId: existing.jobId };
  }
  return { kind: 'in_flight' };
}

/** Marks the key's job as created: later requests with the key get it back. */
export async function completeIdempotencyKey(
  d1: D1Database,
  tenantId: string,
  key: string,
): Promise<void> {
  await drizzle(d1)
    .update(idempotencyKeys)
    .set({ state: 'done' })
    .where(and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.key, key)));
}

/** Forgets the key after its request failed without creating a job, so a retry can proceed. */
export async function releaseIdempotencyKey(
  d1: D1Database,
  tenantId: string,
  key: string,
): Promise<void> {
  await drizzle(d1)
    .delete(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.tenantId, tenantId),
        eq(idempotencyKeys.key, key),
        eq(idempotencyKeys.state, 'in_flight'),
      ),
    );
}

/** Deletes expired records (run now and then, off the request path). */
export async function purgeExpiredIdempotencyKeys(d1: D1Database, now: number): Promise<void> {
  await drizzle(d1).delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, now));
}
