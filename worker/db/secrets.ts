/**
 * D1 queries on the `secrets` table. Every query filters by tenant. Values are stored encrypted
 * (worker/lib/secrets-crypto.ts); only readSealedSecrets returns the encrypted form, for the Job
 * DO that decrypts them, and nothing here ever returns a value in the clear.
 */
import { and, desc, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { olderThan, toPage, type Cursor } from './page.ts';
import { secrets, type SecretRow } from './schema.ts';

/** What may be shown of a secret: its name and dates, never its value. */
export type SecretInfo = Pick<SecretRow, 'name' | 'createdBy' | 'createdAt' | 'updatedAt'>;

/** A value as stored: encrypted, with the id of the key it was encrypted with. */
export type StoredValue = Pick<SecretRow, 'keyId' | 'iv' | 'ciphertext'>;

const infoColumns = {
  name: secrets.name,
  createdBy: secrets.createdBy,
  createdAt: secrets.createdAt,
  updatedAt: secrets.updatedAt,
};

/**
 * Stores the secret `row` of its tenant, replacing the value of one of the same name (which keeps
 * its creation time and creator). Says whether it was created or replaced; the check and the
 * write are one transaction.
 */
export async function putSecret(
  d1: D1Database,
  row: SecretRow,
): Promise<{ outcome: 'created' | 'replaced'; info: SecretInfo }> {
  const db = drizzle(d1);
  const [before, after] = await db.batch([
    db
      .select({ name: secrets.name })
      .from(secrets)
      .where(and(eq(secrets.tenantId, row.tenantId), eq(secrets.name, row.name))),
    db
      .insert(secrets)
      .values(row)
      .onConflictDoUpdate({
        target: [secrets.tenantId, secrets.name],
        set: {
          keyId: row.keyId,
          iv: row.iv,
          ciphertext: row.ciphertext,
          updatedAt: row.updatedAt,
        },
      })
      .returning(infoColumns),
  ]);
  const info = after[0];
  if (!info) throw new Error('the secret was not stored');
  return { outcome: before.length > 0 ? 'replaced' : 'created', info };
}

/** Deletes the tenant's secret `name`; false if it had none of that name. */
export async function deleteSecret(
  d1: D1Database,
  tenantId: string,
  name: string,
): Promise<boolean> {
  const rows = await drizzle(d1)
    .delete(secrets)
    .where(and(eq(secrets.tenantId, tenantId), eq(secrets.name, name)))
    .returning({ name: secrets.name });
  return rows.length > 0;
}

/** One page of the tenant's secrets (names and dates), newest first. */
export async function listSecrets(
  d1: D1Database,
  tenantId: string,
  options: { limit: number; cursor?: Cursor | undefined },
): Promise<{ rows: SecretInfo[]; next: Cursor | null }> {
  const rows = await drizzle(d1)
    .select(infoColumns)
    .from(secrets)
    .where(
      and(
        eq(secrets.tenantId, tenantId),
        olderThan(options.cursor, secrets.createdAt, secrets.name),
      ),
    )
    .orderBy(desc(secrets.createdAt), desc(secrets.name))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ createdAt: row.createdAt, id: row.name }));
}

/** Which of `names` the tenant has secrets of. */
export async function existingSecretNames(
  d1: D1Database,
  tenantId: string,
  names: readonly string[],
): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await drizzle(d1)
    .select({ name: secrets.name })
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), inArray(secrets.name, [...names])));
  return new Set(rows.map((row) => row.name));
}

/** The encrypted values of the tenant's secrets `names` (those that exist), by name. */
export async function readSealedSecrets(
  d1: D1Database,
  tenantId: string,
  names: readonly string[],
): Promise<Map<string, StoredValue>> {
  if (names.length === 0) return new Map();
  const rows = await drizzle(d1)
    .select({
      name: secrets.name,
      keyId: secrets.keyId,
      iv: secrets.iv,
      ciphertext: secrets.ciphertext,
    })
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), inArray(secrets.name, [...names])));
  return new Map(rows.map(({ name, ...sealed }) => [name, sealed]));
}

/** A stored secret as the re-encryption reads it. */
export type SealedRow = Pick<SecretRow, 'tenantId' | 'name' | 'keyId' | 'iv' | 'ciphertext'>;

const sealedColumns = {
  tenantId: secrets.tenantId,
  name: secrets.name,
  keyId: secrets.keyId,
  iv: secrets.iv,
  ciphertext: secrets.ciphertext,
};

/** Up to `limit` secrets, of every tenant, encrypted with one of `keyIds` (older keys). */
export async function listSecretsWithKeys(
  d1: D1Database,
  keyIds: readonly string[],
  limit: number,
): Promise<SealedRow[]> {
  if (keyIds.length === 0) return [];
  return drizzle(d1)
    .select(sealedColumns)
    .from(secrets)
    .where(inArray(secrets.keyId, [...keyIds]))
    .limit(limit);
}

/** How many secrets are encrypted with a key that is none of `keyIds`. */
export async function countSecretsWithoutKeys(
  d1: D1Database,
  keyIds: readonly string[],
): Promise<number> {
  const rows = await drizzle(d1)
    .select({ n: sql<number>`count(*)` })
    .from(secrets)
    .where(notInArray(secrets.keyId, [...keyIds]));
  return rows[0]?.n ?? 0;
}

/**
 * Replaces the encrypted value of `row` by `next` (the same value under another key), unless the
 * row changed meanwhile (a new value was put: its IV differs). The value's dates stay.
 */
export async function replaceSealedSecret(
  d1: D1Database,
  row: SealedRow,
  next: StoredValue,
): Promise<boolean> {
  const updated = await drizzle(d1)
    .update(secrets)
    .set({ keyId: next.keyId, iv: next.iv, ciphertext: next.ciphertext })
    .where(
      and(eq(secrets.tenantId, row.tenantId), eq(secrets.name, row.name), eq(secrets.iv, row.iv)),
    )
    .returning({ name: secrets.name });
  return updated.length > 0;
}
