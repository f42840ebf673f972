/**
 * Whether a caller that authenticated earlier still stands: what stream tokens and open streams
 * are checked against, since both outlive the request that authenticated them. A key stands
 * while it (and its makers, key-chain.ts) has a standing; a member while the membership exists;
 * a role from a JWT's claim cannot be revoked here (only its identity provider can), so it
 * always stands.
 */
import { findKeyStanding, chainQuery, toCachedKey, toChain } from './keys.ts';
import { findSubjectStanding } from './members.ts';

/** Who a stream or stream token was given to: the audit log's actor, and where its role came from. */
export interface Viewer {
  actor: string;
  grant: 'key' | 'member' | 'claim';
}

function keyIdOf(viewer: Viewer): string | null {
  return viewer.grant === 'key' && viewer.actor.startsWith('key:') ? viewer.actor.slice(4) : null;
}

function subjectOf(viewer: Viewer): string | null {
  return viewer.grant === 'member' && viewer.actor.startsWith('user:')
    ? viewer.actor.slice(5)
    : null;
}

/** Whether `viewer` stands in the tenant, read through this isolate's auth cache. */
export async function viewerStands(
  d1: D1Database,
  tenantId: string,
  viewer: Viewer,
): Promise<boolean> {
  if (viewer.grant === 'claim') return true;
  const keyId = keyIdOf(viewer);
  if (keyId !== null) return (await findKeyStanding(d1, tenantId, keyId)) !== null;
  const subject = subjectOf(viewer);
  if (subject === null) return false;
  return (await findSubjectStanding(d1, tenantId, subject))?.role != null;
}

/** Statements per D1 batch when many viewers are checked at once. */
const BATCH = 50;

/**
 * The actors among `viewers` that stand in the tenant now, read from D1 itself (not the cache:
 * an open stream must end within the cache's lifetime of a revocation), in batches.
 */
export async function standingActors(
  d1: D1Database,
  tenantId: string,
  viewers: readonly Viewer[],
): Promise<Set<string>> {
  const standing = new Set<string>();
  const checks: { actor: string; statement: D1PreparedStatement; kind: 'key' | 'member' }[] = [];
  for (const viewer of new Map(viewers.map((v) => [`${v.grant}\n${v.actor}`, v])).values()) {
    if (viewer.grant === 'claim') {
      standing.add(viewer.actor);
      continue;
    }
    const keyId = keyIdOf(viewer);
    const subject = subjectOf(viewer);
    if (keyId !== null) {
      const statement = d1.prepare(chainQuery('id = ?1 AND tenant_id = ?2')).bind(keyId, tenantId);
      checks.push({ actor: viewer.actor, statement, kind: 'key' });
    } else if (subject !== null) {
      const statement = d1
        .prepare('SELECT role FROM memberships WHERE tenant_id = ?1 AND subject = ?2')
        .bind(tenantId, subject);
      checks.push({ actor: viewer.actor, statement, kind: 'member' });
    }
  }
  const now = Date.now();
  for (let i = 0; i < checks.length; i += BATCH) {
    const slice = checks.slice(i, i + BATCH);
    const answers = await d1.batch(slice.map((check) => check.statement));
    slice.forEach((check, j) => {
      const results = answers[j]?.results ?? [];
      const stands =
        check.kind === 'key' ? toCachedKey(toChain(results), now) !== null : results.length > 0;
      if (stands) standing.add(check.actor);
    });
  }
  return standing;
}
