/**
 * What each role may do, spelled as scopes. Authorisation itself compares roles (`requireRole`);
 * scopes are how the API shows a key's powers to people and tools, so they are derived from the
 * role here, in one place, and never stored.
 */
import { roles, type Role } from '../db/schema.ts';

export const scopes = [
  'jobs:read',
  'jobs:write',
  'keys:manage',
  'audit:read',
  'members:read',
  'members:manage',
] as const;
type Scope = (typeof scopes)[number];

/** The scopes a role adds to those of the roles below it. */
const added: Record<Role, readonly Scope[]> = {
  viewer: ['jobs:read'],
  member: ['jobs:write'],
  admin: ['keys:manage', 'audit:read', 'members:read'],
  owner: ['members:manage'],
};

/** Every scope of `role`, including those of the weaker roles. */
export function scopesOf(role: Role): Scope[] {
  return roles.slice(0, roles.indexOf(role) + 1).flatMap((r) => added[r]);
}

/** One line per role, for API descriptions and docs: `admin: jobs:read, jobs:write, …`. */
export function describeScopes(): string {
  return roles.map((role) => `${role}: ${scopesOf(role).join(', ')}`).join('; ');
}
