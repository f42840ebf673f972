/** D1 queries on the audit log (worker/lib/audit.ts records a request's action). Reads filter by tenant, always. */
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { olderThan, toPage, type Cursor } from './page.ts';
import { auditLog, type AuditRow } from './schema.ts';

/** Every action the audit log records. */
export const auditActions = [
  'key.create',
  'key.rotate',
  'key.revoke',
  'member.role_change',
  'member.remove',
  'job.create',
  'job.cancel',
  'tenant.export',
  'tenant.delete',
  'project.create',
  'project.update',
  'secret.put',
  'secret.delete',
  'budget.set',
  'webhook.create',
  'webhook.delete',
  'webhook.redeliver',
  'github.installation.put',
  'github.installation.delete',
  'github.installation.suspend',
  'github.installation.unsuspend',
] as const;
export type AuditAction = (typeof auditActions)[number];

/** Appends one entry. */
export async function insertAudit(
  d1: D1Database,
  entry: AuditRow & { action: AuditAction },
): Promise<void> {
  await drizzle(d1).insert(auditLog).values(entry);
}

interface ListAuditOptions {
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
