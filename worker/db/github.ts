/**
 * D1 queries on the GitHub App's tables (docs/github.md): installations mapped to a tenant and
 * project, the deliveries the intake received, and (for the tenant export) the jobs started from
 * GitHub. Every read or change made for an API caller filters by tenant; only the intake looks an
 * installation up by its id alone, since the installation is what names the tenant.
 */
import { and, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { olderThan, toPage, type Cursor } from './page.ts';
import {
  githubDeliveries,
  githubInstallations,
  githubJobs,
  type GitHubDeliveryOutcome,
  type GitHubDeliveryRow,
  type GitHubInstallationRow,
  type GitHubJobRow,
} from './schema.ts';

type Page<T> = { rows: T[]; next: Cursor | null };
interface PageOptions {
  limit: number;
  cursor?: Cursor | undefined;
}

/** The mapping of installation `id`, whichever tenant has it (the intake), or null. */
export async function findInstallation(
  d1: D1Database,
  id: number,
): Promise<GitHubInstallationRow | null> {
  const rows = await drizzle(d1)
    .select()
    .from(githubInstallations)
    .where(eq(githubInstallations.installationId, id))
    .limit(1);
  return rows[0] ?? null;
}

/** The tenant's mapping of installation `id`, or null (another tenant's is not found). */
export async function getInstallation(
  d1: D1Database,
  tenantId: string,
  id: number,
): Promise<GitHubInstallationRow | null> {
  const rows = await drizzle(d1)
    .select()
    .from(githubInstallations)
    .where(
      and(eq(githubInstallations.tenantId, tenantId), eq(githubInstallations.installationId, id)),
    )
    .limit(1);
  return rows[0] ?? null;
}

/** What putInstallation did. */
export type PutOutcome =
  | { kind: 'created' | 'updated'; row: GitHubInstallationRow }
  /** Another tenant has mapped the installation. */
  | { kind: 'taken' };

/**
 * Maps installation `row.installationId` to `row.tenantId`: a new mapping is inserted, the
 * tenant's own is replaced (its creation time and author stay), another tenant's is left alone.
 */
export async function putInstallation(
  d1: D1Database,
  row: GitHubInstallationRow,
): Promise<PutOutcome> {
  const db = drizzle(d1);
  const inserted = await db
    .insert(githubInstallations)
    .values(row)
    .onConflictDoNothing()
    .returning();
  const created = inserted[0];
  if (created) return { kind: 'created', row: created };
  const updated = await db
    .update(githubInstallations)
    .set({
      projectId: row.projectId,
      accountLogin: row.accountLogin,
      settings: row.settings,
      updatedAt: row.updatedAt,
    })
    .where(
      and(
        eq(githubInstallations.installationId, row.installationId),
        eq(githubInstallations.tenantId, row.tenantId),
      ),
    )
    .returning();
  const changed = updated[0];
  return changed ? { kind: 'updated', row: changed } : { kind: 'taken' };
}

/** Removes the tenant's mapping of installation `id`; false if it had none. */
export async function deleteInstallation(
  d1: D1Database,
  tenantId: string,
  id: number,
): Promise<boolean> {
  const deleted = await drizzle(d1)
    .delete(githubInstallations)
    .where(
      and(eq(githubInstallations.tenantId, tenantId), eq(githubInstallations.installationId, id)),
    )
    .returning({ id: githubInstallations.installationId });
  return deleted.length > 0;
}

/** Sets the account login of installation `id`'s mapping, as GitHub last named it. */
export async function setInstallationAccount(
  d1: D1Database,
  id: number,
  accountLogin: string,
): Promise<void> {
  await drizzle(d1)
    .update(githubInstallations)
    .set({ accountLogin, updatedAt: Date.now() })
    .where(eq(githubInstallations.installationId, id));
}

/**
 * "Older than `cursor`" on (created_at, installation_id). The cursor's id is the installation id
 * in decimal (the route refuses another one).
 */
function installationsBefore(cursor: Cursor | undefined): SQL | undefined {
  if (!cursor) return undefined;
  const t = githubInstallations.createdAt;
  return or(
    lt(t, cursor.createdAt),
    and(eq(t, cursor.createdAt), lt(githubInstallations.installationId, Number(cursor.id))),
  );
}

/** One page of the tenant's installations, newest first. */
export async function listInstallations(
  d1: D1Database,
  tenantId: string,
  options: PageOptions,
): Promise<Page<GitHubInstallationRow>> {
  const rows = await drizzle(d1)
    .select()
    .from(githubInstallations)
    .where(and(eq(githubInstallations.tenantId, tenantId), installationsBefore(options.cursor)))
    .orderBy(desc(githubInstallations.createdAt), desc(githubInstallations.installationId))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({
    createdAt: row.createdAt,
    id: String(row.installationId),
  }));
}

/** Outcomes a redelivery may be handled again after: nothing was started for them. */
const RETRYABLE: GitHubDeliveryOutcome[] = ['failed', 'invalid'];

/** What claimDelivery found. */
export type Claim =
  | { kind: 'claimed' }
  /** The delivery was handled before (or is being handled): nothing more is done. */
  | { kind: 'duplicate'; outcome: GitHubDeliveryOutcome | null };

/**
 * Records delivery `row` unless it was recorded before; this is what makes a redelivery start
 * nothing. A delivery recorded as `failed` or `invalid` started nothing, so its redelivery takes
 * the row over (one redelivery only, whichever comes first) and is handled again.
 */
export async function claimDelivery(d1: D1Database, row: GitHubDeliveryRow): Promise<Claim> {
  const db = drizzle(d1);
  const inserted = await db
    .insert(githubDeliveries)
    .values(row)
    .onConflictDoNothing()
    .returning({ id: githubDeliveries.deliveryId });
  if (inserted.length > 0) return { kind: 'claimed' };
  const { deliveryId, receivedAt: _, ...rest } = row;
  const retaken = await db
    .update(githubDeliveries)
    .set(rest)
    .where(
      and(
        eq(githubDeliveries.deliveryId, deliveryId),
        inArray(githubDeliveries.outcome, RETRYABLE),
      ),
    )
    .returning({ id: githubDeliveries.deliveryId });
  if (retaken.length > 0) return { kind: 'claimed' };
  const existing = await db
    .select({ outcome: githubDeliveries.outcome })
    .from(githubDeliveries)
    .where(eq(githubDeliveries.deliveryId, deliveryId))
    .limit(1);
  return { kind: 'duplicate', outcome: existing[0]?.outcome ?? null };
}

/** Sets the outcome of delivery `deliveryId` (e.g. `failed`, when handing it over failed). */
export async function setDeliveryOutcome(
  d1: D1Database,
  deliveryId: string,
  outcome: GitHubDeliveryOutcome,
  reason: string | null,
  now = Date.now(),
): Promise<void> {
  await drizzle(d1)
    .update(githubDeliveries)
    .set({ outcome, reason, updatedAt: now })
    .where(eq(githubDeliveries.deliveryId, deliveryId));
}

/** The delivery `deliveryId`, whichever tenant it belongs to (tests, GitHubAppDO), or null. */
export async function findDelivery(
  d1: D1Database,
  deliveryId: string,
): Promise<GitHubDeliveryRow | null> {
  const rows = await drizzle(d1)
    .select()
    .from(githubDeliveries)
    .where(eq(githubDeliveries.deliveryId, deliveryId))
    .limit(1);
  return rows[0] ?? null;
}

/** One page of the tenant's deliveries, newest first, of one outcome if `outcome` is set. */
export async function listDeliveries(
  d1: D1Database,
  tenantId: string,
  options: PageOptions & { outcome?: GitHubDeliveryOutcome | undefined },
): Promise<Page<GitHubDeliveryRow>> {
  const rows = await drizzle(d1)
    .select()
    .from(githubDeliveries)
    .where(
      and(
        eq(githubDeliveries.tenantId, tenantId),
        options.outcome ? eq(githubDeliveries.outcome, options.outcome) : undefined,
        olderThan(options.cursor, githubDeliveries.receivedAt, githubDeliveries.deliveryId),
      ),
    )
    .orderBy(desc(githubDeliveries.receivedAt), desc(githubDeliveries.deliveryId))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ createdAt: row.receivedAt, id: row.deliveryId }));
}

/** One page of the tenant's jobs started from GitHub, newest first (the tenant export). */
export async function listGitHubJobRows(
  d1: D1Database,
  tenantId: string,
  options: PageOptions,
): Promise<Page<GitHubJobRow>> {
  const rows = await drizzle(d1)
    .select()
    .from(githubJobs)
    .where(
      and(
        eq(githubJobs.tenantId, tenantId),
        olderThan(options.cursor, githubJobs.createdAt, githubJobs.jobId),
      ),
    )
    .orderBy(desc(githubJobs.createdAt), desc(githubJobs.jobId))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ createdAt: row.createdAt, id: row.jobId }));
}
