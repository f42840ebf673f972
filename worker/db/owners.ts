/**
 * "A tenant never loses its last owner", as SQL that the statements revoking keys or demoting
 * and removing members carry in their WHERE clause: each such change is one statement, D1 runs
 * one statement at a time, so the check and the change are atomic, also when two owners act at
 * once (the second statement sees the first's change and changes nothing).
 *
 * A lasting owner is a member with the owner role, or an owner key that is not revoked, not
 * expiring (a rotated key's successor is the lasting one) and whose makers are lasting owners
 * too (key-chain.ts: a key is capped by its maker), up to a key that stands alone or a member
 * with the owner role. A change is refused only if the tenant has a lasting owner before it and
 * none after it; a tenant that had none (say, one made with an admin key only) is not locked.
 *
 * Parameters of every guarded statement: ?1 the tenant, ?2 the key the change takes away ('' if
 * none), ?3 the member whose owner role it takes away ('' if none); the statement's own start at
 * ?4.
 */

/** Lasting owner keys, leaving out key `excludedKey` and keys rooted at member `excludedSubject`. */
function ownerKeys(name: string, excludedKey: string, excludedSubject: string): string {
  const lasting = (k: string) =>
    `${k}.tenant_id = ?1 AND ${k}.role = 'owner' AND ${k}.revoked_at IS NULL AND ${k}.expires_at IS NULL AND ${k}.id <> ${excludedKey}`;
  return `${name}(id) AS (
      SELECT k.id FROM api_keys k
       WHERE ${lasting('k')}
         AND (k.created_by IS NULL
              OR (substr(k.created_by, 1, 4) <> 'key:' AND substr(k.created_by, 1, 5) <> 'user:')
              OR EXISTS (SELECT 1 FROM memberships m
                          WHERE m.tenant_id = ?1 AND m.role = 'owner'
                            AND 'user:' || m.subject = k.created_by AND m.subject <> ${excludedSubject}))
      UNION
      SELECT k.id FROM ${name} o JOIN api_keys k ON k.created_by = 'key:' || o.id
       WHERE ${lasting('k')}
    )`;
}

function hasOwner(keys: string, excludedSubject: string): string {
  return `(EXISTS (SELECT 1 FROM ${keys}) OR EXISTS (SELECT 1 FROM memberships
            WHERE tenant_id = ?1 AND role = 'owner' AND subject <> ${excludedSubject}))`;
}

/** The WITH clause a guarded statement starts with. */
export const ownerGuardWith = `WITH RECURSIVE ${ownerKeys('owners_before', "''", "''")}, ${ownerKeys('owners_after', '?2', '?3')}`;

/** True unless the change would take the tenant's last lasting owner away. */
export const ownerGuard = `(NOT ${hasOwner('owners_before', "''")} OR ${hasOwner('owners_after', '?3')})`;

/** The problem a refused change reports, in one wording. */
export class LastOwnerError extends Error {
  constructor() {
    super('This would leave the tenant without an owner.');
    this.name = 'LastOwnerError';
  }
}
