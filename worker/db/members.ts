/**
 * D1 queries on the `memberships` table: the role a tenant's owners gave each person (JWT
 * subject). Every query filters by tenant: another tenant's member is not found.
 */
import { and, desc, eq, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { forgetMembership, membershipsBySubject } from './auth-cache.ts';
import { olderThan, toPage, type Cursor } from './page.ts';
import { memberships, tenants, type Role } from './schema.ts';

export type MembershipRow = typeof memberships.$inferSelect;

/**
 * What authentication needs to know of `subject` in `tenantId`: the role its membership gives
 * (null without one), or null if the tenant does not exist. Read through this isolate's cache.
 */
export async function findSubjectStanding(
  d1: D1Database,
  tenantId: string,
  subject: string,
): Promise<{ role: Role | null } | null> {
  const cacheKey = `${tenantId}\n${subject}`;
  const cached = membershipsBySubject.get(cacheKey);
  if (cached) return cached;
  const rows = await drizzle(d1)
    .select({ role: memberships.role })
    .from(tenants)
    .leftJoin(
      memberships,
      and(eq(memberships.tenantId, tenants.id), eq(memberships.subject, subject)),
    )
    // A deleted tenant (its tombstone) is as unknown as one that never existed.
    .where(and(eq(tenants.id, tenantId), isNull(tenants.deletedAt)))
    .limit(1);
  const row = rows[0];
  if (!row) return null;
  const standing = { role: row.role };
  membershipsBySubject.set(cacheKey, standing);
  return standing;
}

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
