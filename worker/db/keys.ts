/**
 * D1 queries on the `api_keys` table. Every query filters by tenant: another tenant's key is not
 * found. Only hashes are stored, so nothing here can return a usable key.
 */
import { and, desc, eq, getTableColumns } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { forgetKeys, keysByHash, keysById, type CachedKey } from './auth-cache.ts';
import { MAX_KEY_DEPTH, standingOf, type ChainLink } from './key-chain.ts';
import { LastOwnerError, ownerGuard, ownerGuardWith } from './owners.ts';
import { olderThan, toPage, type Cursor } from './page.ts';
import { apiKeys, roles, type ApiKeyRow, type Role } from './schema.ts';

/** A key row without its hash, which never needs to leave the database. */
export type KeyRecord = Omit<ApiKeyRow, 'keyHash'>;

const { keyHash: _keyHash, ...recordColumns } = getTableColumns(apiKeys);

/**
 * The key (found by `start`) and the keys that made it, nearest first, each with the membership
 * role of its `user:` maker: everything key-chain.ts needs to judge the key, in one read.
 */
export function chainQuery(start: string): string {
  return `WITH RECURSIVE chain(depth, id, tenant_id, role, created_by, expires_at, revoked_at, last_used_at) AS (
      SELECT 0, id, tenant_id, role, created_by, expires_at, revoked_at, last_used_at
        FROM api_keys WHERE ${start}
      UNION ALL
      SELECT chain.depth + 1, k.id, k.tenant_id, k.role, k.created_by, k.expires_at, k.revoked_at, k.last_used_at
        FROM chain JOIN api_keys k
          ON substr(chain.created_by, 1, 4) = 'key:' AND k.id = substr(chain.created_by, 5)
         AND k.tenant_id = chain.tenant_id
       WHERE chain.depth < ${MAX_KEY_DEPTH}
    )
    SELECT chain.*, m.role AS member_role FROM chain
      LEFT JOIN memberships m
        ON substr(chain.created_by, 1, 5) = 'user:' AND m.tenant_id = chain.tenant_id
       AND m.subject = substr(chain.created_by, 6)
     ORDER BY chain.depth`;
}

const roleSchema = z.enum(roles);
const chainRowSchema = z.object({
  id: z.string(),
  tenant_id: z.string(),
  role: roleSchema,
  created_by: z.string().nullable(),
  expires_at: z.number().nullable(),
  revoked_at: z.number().nullable(),
  last_used_at: z.number().nullable(),
  member_role: roleSchema.nullable(),
});

/** The rows of a chainQuery, as links. */
export function toChain(results: readonly unknown[]): ChainLink[] {
  return results.map((raw) => {
    const row = chainRowSchema.parse(raw);
    return {
      id: row.id,
      tenantId: row.tenant_id,
      role: row.role,
      createdBy: row.created_by,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      lastUsedAt: row.last_used_at,
      memberRole: row.member_role,
    };
  });
}

async function readChain(statement: D1PreparedStatement): Promise<ChainLink[]> {
  return toChain((await statement.all()).results);
}

/** What authentication keeps of a key whose chain gives it a standing. */
export function toCachedKey(chain: ChainLink[], now: number): CachedKey | null {
  const key = chain[0];
  const standing = standingOf(chain, now);
  if (!key || !standing) return null;
  return {
    id: key.id,
    tenantId: key.tenantId,
    role: standing.role,
    depth: standing.depth,
    lastUsedAt: key.lastUsedAt,
    validUntil: standing.validUntil,
  };
}

/**
 * The key whose hash is `hash`, with its effective role (key-chain.ts), if it has a standing:
 * from this isolate's cache or else D1. A key found standing is cached; one that is not is not
 * cached, so a key created meanwhile is found at once.
 */
export async function findActiveKeyByHash(d1: D1Database, hash: string): Promise<CachedKey | null> {
  return keysByHash.readThrough(hash, async () =>
    toCachedKey(await readChain(d1.prepare(chainQuery('key_hash = ?1')).bind(hash)), Date.now()),
  );
}

/**
 * The standing of the tenant's key `id` (as findActiveKeyByHash judges it), for callers that
 * hold a key's id rather than the key: stream tokens and open streams. Cached like keys.
 */
export async function findKeyStanding(
  d1: D1Database,
  tenantId: string,
  id: string,
): Promise<CachedKey | null> {
  const statement = d1.prepare(chainQuery('id = ?1 AND tenant_id = ?2')).bind(id, tenantId);
  return keysById.readThrough(`${tenantId}\n${id}`, async () =>
    toCachedKey(await readChain(statement), Date.now()),
  );
}

/**
 * The effective role of each of the tenant's keys `ids` now (null: no standing), read from D1
 * in one batch, for key lists.
 */
export async function effectiveRoles(
  d1: D1Database,
  tenantId: string,
  ids: readonly string[],
): Promise<Map<string, Role | null>> {
  const roles = new Map<string, Role | null>();
  if (ids.length === 0) return roles;
  const statement = d1.prepare(chainQuery('id = ?1 AND tenant_id = ?2'));
  const answers = await d1.batch(ids.map((id) => statement.bind(id, tenantId)));
  const now = Date.now();
  ids.forEach((id, i) => {
    roles.set(id, standingOf(toChain(answers[i]?.results ?? []), now)?.role ?? null);
  });
  return roles;
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
 * Revokes the tenant's key `id` unless it already is, and unless that would leave the tenant
 * without an owner (owners.ts; the check is part of the one UPDATE). `revoked` only for the
 * call that revoked it, so concurrent revocations are recorded once; `unchanged` if it was
 * already revoked or is not there.
 * @throws LastOwnerError if the key is the tenant's last lasting owner.
 */
export async function revokeKey(
  d1: D1Database,
  tenantId: string,
  id: string,
  now: number,
): Promise<'revoked' | 'unchanged'> {
  const { results } = await d1
    .prepare(
      `${ownerGuardWith}
       UPDATE api_keys SET revoked_at = ?4
        WHERE tenant_id = ?1 AND id = ?2 AND revoked_at IS NULL AND ${ownerGuard}
       RETURNING id`,
    )
    .bind(tenantId, id, '', now)
    .all();
  forgetKeys();
  if (results.length > 0) return 'revoked';
  const row = await findKey(d1, tenantId, id);
  if (row && row.revokedAt === null) throw new LastOwnerError();
  return 'unchanged';
}

/**
 * Replaces the tenant's key `oldId` by `next`: the old key expires at `expiresAt`, `next` is
 * stored, and the keys the old one made are handed to `next` (their maker), in one
 * transaction. `next` keeps the old key's role and maker, so a rotation never changes who
 * owns the tenant. Only a key that is neither revoked nor already rotated (or expired) can be
 * replaced, so two concurrent rotations cannot both leave a working new key: the insert and
 * the hand-over run only if the expiry changed a row (`changes()` of the statement before).
 * Returns false, storing nothing, if the old key was not in that state.
 */
export async function rotateKey(
  d1: D1Database,
  tenantId: string,
  oldId: string,
  next: ApiKeyRow,
  expiresAt: number,
): Promise<boolean> {
  const [expired] = await d1.batch([
    d1
      .prepare(
        `UPDATE api_keys SET expires_at = ?3
          WHERE tenant_id = ?1 AND id = ?2 AND revoked_at IS NULL AND expires_at IS NULL`,
      )
      .bind(tenantId, oldId, expiresAt),
    d1
      .prepare(
        `INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, role, created_by, created_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE changes() = 1`,
      )
      .bind(
        next.id,
        next.tenantId,
        next.name,
        next.prefix,
        next.keyHash,
        next.role,
        next.createdBy,
        next.createdAt,
      ),
    d1
      .prepare(
        `UPDATE api_keys SET created_by = 'key:' || ?3
          WHERE tenant_id = ?1 AND created_by = 'key:' || ?2
            AND EXISTS (SELECT 1 FROM api_keys WHERE id = ?3)`,
      )
      .bind(tenantId, oldId, next.id),
  ]);
  forgetKeys();
  return (expired?.meta.changes ?? 0) > 0;
}
