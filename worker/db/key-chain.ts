/**
 * What an API key may do depends on who made it. Each key records its maker (`created_by`):
 * another key (`key:<id>`), a member (`user:<subject>`), or nobody Omni can check (NULL or
 * `cli:<user>` for keys made by `npm run key:create`: they stand alone). A key's effective role
 * is the weakest of its own role, the effective role of the key that made it (recursively) and
 * the membership role of the member at the root. So revoking, expiring or demoting a maker caps
 * (or ends) every key it made, at the next authentication, and promoting it back restores them:
 * nothing is written to the children, so there is no mass update to be left half done.
 *
 * This file is pure: keys.ts reads the chain from D1 and hands it here.
 */
import { roles, type Role } from './schema.ts';

/** How many makers above a key are followed; a key cannot be made deeper than this. */
export const MAX_KEY_DEPTH = 8;

/** One key of a chain, the key itself first, then its maker, its maker's maker, … */
export interface ChainLink {
  id: string;
  tenantId: string;
  role: Role;
  createdBy: string | null;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
  /** The membership role of the `user:` maker of this link, if it has one. */
  memberRole: Role | null;
}

/** What a key may do now: its effective role, until when, and how many makers are above it. */
export interface KeyStanding {
  role: Role;
  /** The earliest expiry along the chain (a maker's rotation grace ends it too), or null. */
  validUntil: number | null;
  /** Keys above this one up to the root: 0 for a key made by a member or standing alone. */
  depth: number;
}

/** The weaker of two roles. */
export function weakerRole(a: Role, b: Role): Role {
  return roles.indexOf(a) <= roles.indexOf(b) ? a : b;
}

/** The maker a `created_by` names: a key, a member, or nobody Omni checks. */
export function makerOf(
  createdBy: string | null,
): { kind: 'key'; id: string } | { kind: 'user'; subject: string } | { kind: 'none' } {
  if (createdBy?.startsWith('key:')) return { kind: 'key', id: createdBy.slice(4) };
  if (createdBy?.startsWith('user:')) return { kind: 'user', subject: createdBy.slice(5) };
  return { kind: 'none' };
}

/**
 * The standing of `chain[0]` at `now`, or null if it has none: it or a maker is revoked or
 * expired, a maker key is missing or too far up, or the member at the root has no membership.
 */
export function standingOf(chain: readonly ChainLink[], now: number): KeyStanding | null {
  let role: Role | null = null;
  let validUntil: number | null = null;
  for (const [depth, link] of chain.entries()) {
    if (link.revokedAt !== null) return null;
    if (link.expiresAt !== null && link.expiresAt <= now) return null;
    if (link.expiresAt !== null) validUntil = Math.min(validUntil ?? Infinity, link.expiresAt);
    role = role === null ? link.role : weakerRole(role, link.role);
    const maker = makerOf(link.createdBy);
    if (maker.kind === 'key') {
      // The next link must be that key; the query stops at MAX_KEY_DEPTH.
      const next = chain[depth + 1];
      if (next?.id !== maker.id) return null;
      continue;
    }
    if (maker.kind === 'user') {
      if (link.memberRole === null) return null;
      role = weakerRole(role, link.memberRole);
    }
    return { role, validUntil, depth };
  }
  return null;
}
