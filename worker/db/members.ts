/**
 * D1 queries on the `memberships` table: the role a tenant's owners gave each person (JWT
 * subject). Every query filters by tenant: another tenant's member is not found.
 */
import { and, desc, eq, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { forgetMembership, membershipsBySubject } from './auth-cache.ts';
import { LastOwnerError, ownerGuard, ownerGuardWith } from './owners.ts';
import { olderThan, toPage, type Cursor } from './page.ts';
import { memberships, roles, tenants, type Role } from './schema.ts';

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
  return membershipsBySubject.readThrough(`${tenantId}\n${subject}`, async () => {
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
    return row ? { role: row.role } : null;
  });
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

const membershipRowSchema = z.object({
  tenant_id: z.string(),
  subject: z.string(),
  role: z.enum(roles),
  created_at: z.number(),
  updated_at: z.number(),
});

function toMembership(raw: unknown): MembershipRow {
  const row = membershipRowSchema.parse(raw);
  return {
    tenantId: row.tenant_id,
    subject: row.subject,
    role: row.role,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Gives `subject` the role `role` in the tenant, adding the membership if there is none. A
 * demotion that would leave the tenant without an owner changes nothing (owners.ts; the check
 * is part of the one upsert).
 * @throws LastOwnerError in that case.
 */
export async function upsertMember(
  d1: D1Database,
  tenantId: string,
  subject: string,
  role: Role,
  now: number,
): Promise<MembershipRow> {
  const { results } = await d1
    .prepare(
      `${ownerGuardWith}
       INSERT INTO memberships (tenant_id, subject, role, created_at, updated_at)
       VALUES (?1, ?3, ?4, ?5, ?5)
       ON CONFLICT (tenant_id, subject) DO UPDATE
          SET role = excluded.role, updated_at = excluded.updated_at
        WHERE excluded.role = 'owner' OR ${ownerGuard}
       RETURNING *`,
    )
    .bind(tenantId, '', subject, role, now)
    .all();
  forgetMembership(tenantId, subject);
  const row = results[0];
  if (row === undefined) throw new LastOwnerError();
  return toMembership(row);
}

/**
 * Removes the membership of `subject`; returns the removed row, or null if there was none.
 * @throws LastOwnerError if the member is the tenant's last lasting owner (owners.ts).
 */
export async function deleteMember(
  d1: D1Database,
  tenantId: string,
  subject: string,
): Promise<MembershipRow | null> {
  const { results } = await d1
    .prepare(
      `${ownerGuardWith}
       DELETE FROM memberships WHERE tenant_id = ?1 AND subject = ?3 AND ${ownerGuard}
       RETURNING *`,
    )
    .bind(tenantId, '', subject)
    .all();
  forgetMembership(tenantId, subject);
  const row = results[0];
  if (row !== undefined) return toMembership(row);
  if (await findMember(d1, tenantId, subject)) throw new LastOwnerError();
  return null;
}
