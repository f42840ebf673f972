/**
 * D1 queries on the `api_keys` table. Every query filters by tenant: another tenant's key is not
 * found. Only hashes are stored, so nothing here can return a usable key.
 */
import { and, desc, eq, getTableColumns, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { forgetKeys, keysByHash, type CachedKey } from './auth-cache.ts';
import { olderThan, toPage, type Cursor } from './page.ts';
import { apiKeys, type ApiKeyRow } from './schema.ts';

/** A key row without its hash, which never needs to leave the database. */
export type KeyRecord = Omit<ApiKeyRow, 'keyHash'>;

const { keyHash: _keyHash, ...recordColumns } = getTableColumns(apiKeys);

/**
 * The unrevoked key whose hash is `hash`, from this isolate's cache or else D1 (a key found in D1
 * is cached; an unknown one is not, so a key created meanwhile is found at once).
 */
export async function findActiveKeyByHash(d1: D1Database, hash: string): Promise<CachedKey | null> {
  const cached = keysByHash.get(hash);
  if (cached) return cached;
  const rows = await drizzle(d1)
    .select({
      id: apiKeys.id,
      tenantId: apiKeys.tenantId,
      role: apiKeys.role,
      lastUsedAt: apiKeys.lastUsedAt,
      expiresAt: apiKeys.expiresAt,
    })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)))
    .limit(1);
  const row = rows[0] ?? null;
  if (row) keysByHash.set(hash, row);
  return row;
}

/** Records that key `id` was used at `now`. */
export async function touchKey(d1: D1Database, id: string, now: number): Promise<void> {
  await drizzle(d1).update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, id));
}

/** Stores a new key. */
export async function insertKey(d1: D1Database, row: ApiKeyRow): Promise<void> {
  await drizzle(d1).insert(apiKeys).values(row);
}

/** The tenant's key `id`, or null. */
export async function findKey(
  d1: D1Database,
  tenantId: string,
  id: string,
): Promise<KeyRecord | null> {
  const rows = await drizzle(d1)
    .select(recordColumns)
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id)))
    .limit(1);
  return rows[0] ?? null;
}

/** One page of the tenant's keys, newest first, revoked and expired ones included. */
export async function listKeys(
  d1: D1Database,
  tenantId: string,
  options: { limit: number; cursor?: Cursor | undefined },
): Promise<{ rows: KeyRecord[]; next: Cursor | null }> {
  const rows = await drizzle(d1)
    .select(recordColumns)
    .from(apiKeys)
    .where(
      and(eq(apiKeys.tenantId, tenantId), olderThan(options.cursor, apiKeys.createdAt, apiKeys.id)),
    )
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ createdAt: row.createdAt, id: row.id }));
}

/**
 * Revokes the tenant's key `id` unless it already is. Returns true only for the call that
 * revoked it, so concurrent revocations are recorded once.
 */
export async function revokeKey(
  d1: D1Database,
  tenantId: string,
  id: string,
  now: number,
): Promise<boolean> {
  const rows = await drizzle(d1)
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  forgetKeys();
  return rows.length > 0;
}

/**
 * Replaces the tenant's key `oldId` by `next`: the old key expires at `expiresAt` and `next` is
 * stored, in one transaction. Only a key that is neither revoked nor already rotated (or
 * expired) can be replaced, so two concurrent rotations cannot both leave a working new key.
 * Returns false, storing nothing, if the old key was not in that state.
 */
export async function rotateKey(
  d1: D1Database,
  tenantId: string,
  oldId: string,
  next: ApiKeyRow,
  expiresAt: number,
): Promise<boolean> {
  const db = drizzle(d1);
  const [replaced] = await db.batch([
    db
      .update(apiKeys)
      .set({ expiresAt })
      .where(
        and(
          eq(apiKeys.tenantId, tenantId),
          eq(apiKeys.id, oldId),
          isNull(apiKeys.revokedAt),
          isNull(apiKeys.expiresAt),
        ),
      )
      .returning({ id: apiKeys.id }),
    db.insert(apiKeys).values(next),
  ]);
  forgetKeys();
  if (replaced.length > 0) return true;
  // Lost a race: the new key was never shown to anyone, so removing it is all there is to undo.
  await db.delete(apiKeys).where(eq(apiKeys.id, next.id));
  return false;
}
