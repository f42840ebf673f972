/**
 * D1 queries on `webhook_subscriptions` and `webhook_deliveries`. Every query filters by tenant.
 * Only readDue and the WebhookDO see a subscription's encrypted secret; nothing here returns it
 * in the clear.
 */
import { and, asc, desc, eq, inArray, isNull, lte, min, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { olderThan, toPage, type Cursor } from './page.ts';
import {
  webhookDeliveries,
  webhookEvents,
  webhookSubscriptions,
  type WebhookDeliveryRow,
  type WebhookEvent,
  type WebhookSubscriptionRow,
} from './schema.ts';

/** A subscription as it may be shown: everything but its secret. */
export type SubscriptionInfo = Omit<WebhookSubscriptionRow, 'keyId' | 'iv' | 'ciphertext'> & {
  eventList: WebhookEvent[];
};

/** A delivery as it may be shown. */
export type DeliveryInfo = Omit<WebhookDeliveryRow, 'history'> & { attemptLog: AttemptLogEntry[] };

/** One attempt of a delivery, as recorded in its history. */
export interface AttemptLogEntry {
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** How many attempts a delivery's history keeps (the newest). */
export const MAX_HISTORY = 30;

const eventListSchema = z.array(z.enum(webhookEvents));
const historySchema = z.array(
  z.object({
    at: z.number(),
    status_code: z.number().nullable(),
    error: z.string().nullable(),
    duration_ms: z.number(),
  }),
);

const infoColumns = {
  id: webhookSubscriptions.id,
  tenantId: webhookSubscriptions.tenantId,
  url: webhookSubscriptions.url,
  events: webhookSubscriptions.events,
  description: webhookSubscriptions.description,
  createdBy: webhookSubscriptions.createdBy,
  createdAt: webhookSubscriptions.createdAt,
  disabledAt: webhookSubscriptions.disabledAt,
};

function toInfo(row: Omit<SubscriptionInfo, 'eventList'>): SubscriptionInfo {
  return { ...row, eventList: eventListSchema.parse(JSON.parse(row.events)) };
}

function toDelivery(row: WebhookDeliveryRow): DeliveryInfo {
  const { history, ...rest } = row;
  return { ...rest, attemptLog: historySchema.parse(JSON.parse(history)) };
}

/**
 * Stores a new subscription unless the tenant already has `max`; the count and the insert are
 * one statement, so two concurrent creates cannot both pass the limit. False if at the limit.
 */
export async function createSubscription(
  d1: D1Database,
  row: WebhookSubscriptionRow,
  max: number,
): Promise<boolean> {
  const result = await d1
    .prepare(
      `INSERT INTO webhook_subscriptions
         (id, tenant_id, url, events, description, key_id, iv, ciphertext, created_by, created_at, disabled_at)
       SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL
       WHERE (SELECT COUNT(*) FROM webhook_subscriptions WHERE tenant_id = ?) < ?`,
    )
    .bind(
      row.id,
      row.tenantId,
      row.url,
      row.events,
      row.description,
      row.keyId,
      row.iv,
      row.ciphertext,
      row.createdBy,
      row.createdAt,
      row.tenantId,
      max,
    )
    .run();
  return result.meta.changes > 0;
}

/** The tenant's subscription `id`, or null. */
export async function getSubscription(
  d1: D1Database,
  tenantId: string,
  id: string,
): Promise<SubscriptionInfo | null> {
  const rows = await drizzle(d1)
    .select(infoColumns)
    .from(webhookSubscriptions)
    .where(and(eq(webhookSubscriptions.tenantId, tenantId), eq(webhookSubscriptions.id, id)));
  const row = rows[0];
  return row ? toInfo(row) : null;
}

/** One page of the tenant's subscriptions, newest first. */
export async function listSubscriptions(
  d1: D1Database,
  tenantId: string,
  options: { limit: number; cursor?: Cursor | undefined },
): Promise<{ rows: SubscriptionInfo[]; next: Cursor | null }> {
  const rows = await drizzle(d1)
    .select(infoColumns)
    .from(webhookSubscriptions)
    .where(
      and(
        eq(webhookSubscriptions.tenantId, tenantId),
        olderThan(options.cursor, webhookSubscriptions.createdAt, webhookSubscriptions.id),
      ),
    )
    .orderBy(desc(webhookSubscriptions.createdAt), desc(webhookSubscriptions.id))
    .limit(options.limit + 1);
  const page = toPage(rows, options.limit, (row) => ({ createdAt: row.createdAt, id: row.id }));
  return { rows: page.rows.map(toInfo), next: page.next };
}

/** Deletes the subscription and its deliveries; false if the tenant has none of that id. */
export async function deleteSubscription(
  d1: D1Database,
  tenantId: string,
  id: string,
): Promise<boolean> {
  const db = drizzle(d1);
  const [deleted] = await db.batch([
    db
      .delete(webhookSubscriptions)
      .where(and(eq(webhookSubscriptions.tenantId, tenantId), eq(webhookSubscriptions.id, id)))
      .returning({ id: webhookSubscriptions.id }),
    db
      .delete(webhookDeliveries)
      .where(
        and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.subscriptionId, id)),
      ),
  ]);
  return deleted.length > 0;
}

/**
 * The ids of the tenant's enabled subscriptions to `event` that existed at `occurredAt`: a
 * subscription made later does not receive what happened before it.
 */
export async function subscribersOf(
  d1: D1Database,
  tenantId: string,
  event: WebhookEvent,
  occurredAt: number,
): Promise<string[]> {
  const rows = await drizzle(d1)
    .select({ id: webhookSubscriptions.id })
    .from(webhookSubscriptions)
    .where(
      and(
        eq(webhookSubscriptions.tenantId, tenantId),
        isNull(webhookSubscriptions.disabledAt),
        lte(webhookSubscriptions.createdAt, occurredAt),
        sql`EXISTS (SELECT 1 FROM json_each(${webhookSubscriptions.events}) WHERE value = ${event})`,
      ),
    );
  return rows.map((row) => row.id);
}

/** Queues deliveries; one already queued (same id) is left as it is. */
export async function insertDeliveries(
  d1: D1Database,
  rows: readonly WebhookDeliveryRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await drizzle(d1)
    .insert(webhookDeliveries)
    .values([...rows])
    .onConflictDoNothing();
}

/** A due delivery with what sending it needs: its subscription's URL and encrypted secret. */
export interface DueDelivery {
  delivery: DeliveryInfo;
  url: string | null;
  sealed: { keyId: string; iv: string; ciphertext: string } | null;
  disabled: boolean;
}

/** Up to `limit` of the tenant's pending deliveries due at `now`, oldest due first. */
export async function readDue(
  d1: D1Database,
  tenantId: string,
  now: number,
  limit: number,
): Promise<DueDelivery[]> {
  const rows = await drizzle(d1)
    .select({
      delivery: webhookDeliveries,
      url: webhookSubscriptions.url,
      keyId: webhookSubscriptions.keyId,
      iv: webhookSubscriptions.iv,
      ciphertext: webhookSubscriptions.ciphertext,
      disabledAt: webhookSubscriptions.disabledAt,
    })
    .from(webhookDeliveries)
    .leftJoin(webhookSubscriptions, eq(webhookSubscriptions.id, webhookDeliveries.subscriptionId))
    .where(
      and(
        eq(webhookDeliveries.tenantId, tenantId),
        eq(webhookDeliveries.status, 'pending'),
        lte(webhookDeliveries.nextAttemptAt, now),
      ),
    )
    .orderBy(asc(webhookDeliveries.nextAttemptAt))
    .limit(limit);
  return rows.map((row) => ({
    delivery: toDelivery(row.delivery),
    url: row.url,
    sealed:
      row.keyId !== null && row.iv !== null && row.ciphertext !== null
        ? { keyId: row.keyId, iv: row.iv, ciphertext: row.ciphertext }
        : null,
    disabled: row.disabledAt !== null,
  }));
}

/** When the tenant's next pending delivery is due, or null if none is pending. */
export async function nextDueAt(d1: D1Database, tenantId: string): Promise<number | null> {
  const rows = await drizzle(d1)
    .select({ at: min(webhookDeliveries.nextAttemptAt) })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.status, 'pending')));
  return rows[0]?.at ?? null;
}

/** What one attempt changed on its delivery. */
export interface AttemptRecord {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: number | null;
  entry: AttemptLogEntry;
}

/** Records an attempt of `delivery`: its outcome, counter, next time and history entry. */
export async function recordAttempt(
  d1: D1Database,
  delivery: DeliveryInfo,
  record: AttemptRecord,
): Promise<void> {
  const history = [...delivery.attemptLog, record.entry].slice(-MAX_HISTORY);
  await drizzle(d1)
    .update(webhookDeliveries)
    .set({
      status: record.status,
      attempts: record.attempts,
      nextAttemptAt: record.nextAttemptAt,
      lastStatusCode: record.entry.status_code,
      lastError: record.entry.error,
      lastAttemptAt: record.entry.at,
      history: JSON.stringify(history),
      updatedAt: record.entry.at,
    })
    .where(
      and(eq(webhookDeliveries.tenantId, delivery.tenantId), eq(webhookDeliveries.id, delivery.id)),
    );
}

/** Disables a subscription (its receiver answered 410) and fails its pending deliveries. */
export async function disableSubscription(
  d1: D1Database,
  tenantId: string,
  id: string,
  now: number,
): Promise<void> {
  const db = drizzle(d1);
  await db.batch([
    db
      .update(webhookSubscriptions)
      .set({ disabledAt: now })
      .where(and(eq(webhookSubscriptions.tenantId, tenantId), eq(webhookSubscriptions.id, id))),
    db
      .update(webhookDeliveries)
      .set({ status: 'failed', nextAttemptAt: null, updatedAt: now })
      .where(
        and(
          eq(webhookDeliveries.tenantId, tenantId),
          eq(webhookDeliveries.subscriptionId, id),
          eq(webhookDeliveries.status, 'pending'),
        ),
      ),
  ]);
}

/** One page of a subscription's deliveries, newest first. */
export async function listDeliveries(
  d1: D1Database,
  tenantId: string,
  subscriptionId: string,
  options: { limit: number; cursor?: Cursor | undefined },
): Promise<{ rows: DeliveryInfo[]; next: Cursor | null }> {
  const rows = await drizzle(d1)
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.tenantId, tenantId),
        eq(webhookDeliveries.subscriptionId, subscriptionId),
        olderThan(options.cursor, webhookDeliveries.createdAt, webhookDeliveries.id),
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(options.limit + 1);
  const page = toPage(rows, options.limit, (row) => ({ createdAt: row.createdAt, id: row.id }));
  return { rows: page.rows.map(toDelivery), next: page.next };
}

/**
 * Queues a delivery again, due now, with a fresh retry budget (its history stays). Null if the
 * subscription has no such delivery.
 */
export async function requeueDelivery(
  d1: D1Database,
  tenantId: string,
  subscriptionId: string,
  id: string,
  now: number,
): Promise<DeliveryInfo | null> {
  const rows = await drizzle(d1)
    .update(webhookDeliveries)
    .set({ status: 'pending', attempts: 0, nextAttemptAt: now, updatedAt: now })
    .where(
      and(
        eq(webhookDeliveries.tenantId, tenantId),
        eq(webhookDeliveries.subscriptionId, subscriptionId),
        eq(webhookDeliveries.id, id),
      ),
    )
    .returning();
  const row = rows[0];
  return row ? toDelivery(row) : null;
}

/** One page of all the tenant's deliveries, newest first (the tenant export). */
export async function listTenantDeliveries(
  d1: D1Database,
  tenantId: string,
  options: { limit: number; cursor?: Cursor | undefined },
): Promise<{ rows: WebhookDeliveryRow[]; next: Cursor | null }> {
  const rows = await drizzle(d1)
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.tenantId, tenantId),
        olderThan(options.cursor, webhookDeliveries.createdAt, webhookDeliveries.id),
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ createdAt: row.createdAt, id: row.id }));
}

/** A subscription's encrypted secret, as the re-encryption reads it. */
export type SealedSubscription = Pick<
  WebhookSubscriptionRow,
  'id' | 'tenantId' | 'keyId' | 'iv' | 'ciphertext'
>;

/** Up to `limit` subscriptions, of every tenant, whose secret is under one of `keyIds`. */
export async function listSubscriptionsWithKeys(
  d1: D1Database,
  keyIds: readonly string[],
  limit: number,
): Promise<SealedSubscription[]> {
  if (keyIds.length === 0) return [];
  return drizzle(d1)
    .select({
      id: webhookSubscriptions.id,
      tenantId: webhookSubscriptions.tenantId,
      keyId: webhookSubscriptions.keyId,
      iv: webhookSubscriptions.iv,
      ciphertext: webhookSubscriptions.ciphertext,
    })
    .from(webhookSubscriptions)
    .where(inArray(webhookSubscriptions.keyId, [...keyIds]))
    .limit(limit);
}

/** Replaces the encrypted secret of `row` by `next` (the same secret under another key). */
export async function replaceSubscriptionSecret(
  d1: D1Database,
  row: SealedSubscription,
  next: Pick<WebhookSubscriptionRow, 'keyId' | 'iv' | 'ciphertext'>,
): Promise<boolean> {
  const updated = await drizzle(d1)
    .update(webhookSubscriptions)
    .set({ keyId: next.keyId, iv: next.iv, ciphertext: next.ciphertext })
    .where(and(eq(webhookSubscriptions.id, row.id), eq(webhookSubscriptions.iv, row.iv)))
    .returning({ id: webhookSubscriptions.id });
  return updated.length > 0;
}
