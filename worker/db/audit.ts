/** D1 queries that read the audit log (lib/audit.ts writes it). Filtered by tenant, always. */
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import type { AuditAction } from '../lib/audit.ts';
import { olderThan, toPage, type Cursor } from '../lib/cursor.ts';
import { auditLog, type AuditRow } from './schema.ts';

export interface ListAuditOptions {
  limit: number;
  cursor?: Cursor | undefined;
  action?: AuditAction | undefined;
}

/** One page of the tenant's audit entries, newest first. */
export async function listAudit(
  d1: D1Database,
  tenantId: string,
  options: ListAuditOptions,
): Promise<{ rows: AuditRow[]; next: Cursor | null }> {
  const filters: Array<SQL | undefined> = [
    eq(auditLog.tenantId, tenantId),
    olderThan(options.cursor, auditLog.time, auditLog.id),
  ];
  if (options.action) filters.push(eq(auditLog.action, options.action));
  const rows = await drizzle(d1)
    .select()
    .from(auditLog)
    .where(and(...filters))
    .orderBy(desc(auditLog.time), desc(auditLog.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ createdAt: row.time, id: row.id }));
}
