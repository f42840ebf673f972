/**
 * Per-isolate caches of the lookups that authenticate a request (keys.ts and members.ts read
 * through them), so most requests authenticate without a D1 read. Entries live 10 seconds: a key
 * revoked or rotated, or a membership changed, elsewhere takes effect within that time in every
 * isolate, and at once in the isolate that changed it (the writers in keys.ts and members.ts
 * forget the affected entries).
 *
 * A lookup that was already reading D1 when a writer forgot entries must not put what it read
 * back: it may be the row from before the change. So every forget starts a new generation, and
 * a lookup caches its answer only if the generation is still the one it started in.
 */
import type { Role } from './schema.ts';

export const AUTH_CACHE_TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

/** Bumped by every forget; see the file's comment. */
let current = 0;

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

  /** Caches `value` unless entries were forgotten since `generation`. */
  private set(key: string, value: V, generation: number, now = Date.now()): void {
    if (generation !== current) return;
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: now + AUTH_CACHE_TTL_MS });
  }

  /**
   * The cached value of `key`, or else what `load` reads, cached unless entries were forgotten
   * while it read (see the file's comment). A null answer is not cached.
   */
  async readThrough(key: string, load: () => Promise<V | null>): Promise<V | null> {
    const cached = this.get(key);
    if (cached) return cached;
    const generation = current;
    const value = await load();
    if (value !== null) this.set(key, value, generation);
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** What authentication needs to know about an API key (key-chain.ts judges its standing). */
export interface CachedKey {
  id: string;
  tenantId: string;
  /** The effective role: the key's own, capped by its makers'. */
  role: Role;
  /** Keys above this one up to the root of its chain (key-chain.ts). */
  depth: number;
  lastUsedAt: number | null;
  /** When the key, or a key above it, expires; null if none does. */
  validUntil: number | null;
}

/** Keys by hash (API requests) and by `tenant\nid` (stream tokens and open streams). */
export const keysByHash = new TtlCache<CachedKey>();
export const keysById = new TtlCache<CachedKey>();

/** Whether a tenant exists and the membership role of a subject in it, by `tenant\nsubject`. */
export const membershipsBySubject = new TtlCache<{ role: Role | null }>();

/** Called by every writer that revokes, rotates or expires keys. */
export function forgetKeys(): void {
  current += 1;
  keysByHash.clear();
  keysById.clear();
}

/**
 * Called by every writer of a tenant's memberships. Keys made by the member are capped by its
 * role, so every cached key is forgotten too.
 */
export function forgetMembership(tenantId: string, subject: string): void {
  forgetKeys();
  membershipsBySubject.delete(`${tenantId}\n${subject}`);
}
