/**
 * D1 queries on the `memberships` table: the role a tenant's owners gave each person (JWT
 * subject). Every query filters by tenant: another tenant's member is not found.
 */
import { and, desc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { olderThan, toPage, type Cursor } from '../lib/cursor.ts';
import { memberships, type Role } from './schema.ts';
import { forgetMembership } from '../lib/auth-cache.ts';

export type MembershipRow = typeof memberships.$inferSelect;

/** The tenant's membership of `subject`, or null. */
export async function findMember(
  d1: D1Database,
  tenantId: string,
  subject: string,
): Promise<MembershipRow | null> {
  const rows = await drizzle(d1)
    .select()
    .from(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.subject, subject)))
    .limit(1);
  return rows[0] ?? null;
}

/** One page of the tenant's members, newest first (by when they were added). */
export async function listMembers(
  d1: D1Database,
  tenantId: string,
  options: { limit: number; cursor?: Cursor | undefined },
): Promise<{ rows: MembershipRow[]; next: Cursor | null }> {
  const rows = await drizzle(d1)
    .select()
    .from(memberships)
    .where(
      and(
        eq(memberships.tenantId, tenantId),
        olderThan(options.cursor, memberships.createdAt, memberships.subject),
      ),
    )
    .orderBy(desc(memberships.createdAt), desc(memberships.subject))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ createdAt: row.createdAt, id: row.subject }));
}

/** Gives `subject` the role `role` in the tenant, adding the membership if there is none. */
export async function upsertMember(
  d1: D1Database,
  tenantId: string,
  subject: string,
  role: Role,
  now: number,
): Promise<MembershipRow> {
  const rows = await drizzle(d1)
    .insert(memberships)
    .values({ tenantId, subject, role, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [memberships.tenantId, memberships.subject],
      set: { role, updatedAt: now },
    })
    .returning();
  forgetMembership(tenantId, subject);
  const row = rows[0];
  if (!row) throw new Error('upsert of a membership returned no row');
  return row;
}

/** Removes the membership of `subject`; returns the removed row, or null if there was none. */
export async function deleteMember(
  d1: D1Database,
  tenantId: string,
  subject: string,
): Promise<MembershipRow | null> {
  const rows = await drizzle(d1)
    .delete(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.subject, subject)))
    .returning();
  forgetMembership(tenantId, subject);
  return rows[0] ?? null;
}
