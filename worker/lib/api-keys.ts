/**
 * API key format and hashing. A key is `omni_`, 32 random base62 characters and a 6-character
 * base62 CRC-32 of what precedes it, so a mistyped or truncated key is refused without a
 * database read. Only the key's SHA-256 hash is stored; only its prefix is ever shown again.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const RANDOM_CHARS = 32;
const CHECKSUM_CHARS = 6;
export const API_KEY_PATTERN = /^omni_[A-Za-z0-9]{38}$/;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) {
    crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** `value` in base62, left-padded to `width` characters. */
function base62(value: number, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0) {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, ALPHABET[0]);
}

function checksum(body: string): string {
  return base62(crc32(body), CHECKSUM_CHARS);
}

/** A new random API key. */
export function generateApiKey(): string {
  const bytes = new Uint8Array(64);
  let random = '';
  while (random.length < RANDOM_CHARS) {
    crypto.getRandomValues(bytes);
    // 256 is not a multiple of 62; skipping bytes >= 248 keeps every character equally likely.
    for (const b of bytes) if (b < 248 && random.length < RANDOM_CHARS) random += ALPHABET[b % 62];
  }
  const body = `omni_${random}`;
  return body + checksum(body);
}

/** True if `key` has the shape of an API key and its checksum matches. */
export function isWellFormedApiKey(key: string): boolean {
  if (!API_KEY_PATTERN.test(key)) return false;
  const body = key.slice(0, -CHECKSUM_CHARS);
  return checksum(body) === key.slice(-CHECKSUM_CHARS);
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
