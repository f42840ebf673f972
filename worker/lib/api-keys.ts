/**
 * API key format and hashing. Keys look like `omni_` + 40 base62 characters; only their SHA-256
 * hash is stored, and only the first characters (the prefix) are ever shown again.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const API_KEY_PATTERN = /^omni_[A-Za-z0-9]{40}$/;

/** A new random API key. */
export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(40));
  // 256 is not a multiple of 62; rejecting values >= 248 keeps every character equally likely.
  let body = '';
  while (body.length < 40) {
    for (const b of bytes) {
      if (b < 248 && body.length < 40) body += ALPHABET[b % 62];
    }
    crypto.getRandomValues(bytes);
  }
  return `omni_${body}`;
}

/** The part of a key that may be shown (in lists, logs): never enough to use it. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 12);
}

/** Hex SHA-256 of the key, as stored in `api_keys.key_hash`. */
export async function hashApiKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
