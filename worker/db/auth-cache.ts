/**
 * Per-isolate caches of the lookups that authenticate a request (keys.ts and members.ts read
 * through them), so most requests authenticate without a D1 read. Entries live 10 seconds: a key
 * revoked or rotated, or a membership changed, elsewhere takes effect within that time in every
 * isolate, and at once in the isolate that changed it (the writers in keys.ts and members.ts
 * forget the affected entries).
 */
import type { Role } from './schema.ts';

const AUTH_CACHE_TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

/** A map whose entries expire, with a size bound (the oldest entries go first). */
class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, now = Date.now()): void {
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: now + AUTH_CACHE_TTL_MS });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** What authentication needs to know about an API key, by key hash. */
export interface CachedKey {
  id: string;
  tenantId: string;
  role: Role;
  lastUsedAt: number | null;
  expiresAt: number | null;
}

export const keysByHash = new TtlCache<CachedKey>();

/** Whether a tenant exists and the membership role of a subject in it, by `tenant\nsubject`. */
export const membershipsBySubject = new TtlCache<{ role: Role | null }>();

/** Called by every writer that revokes, rotates or expires keys. */
export function forgetKeys(): void {
  keysByHash.clear();
}

/** Called by every writer of a tenant's memberships. */
export function forgetMembership(tenantId: string, subject: string): void {
  membershipsBySubject.delete(`${tenantId}\n${subject}`);
}
