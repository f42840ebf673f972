/**
 * Entity tags for conditional GETs (RFC 9110 §8.8.3, §13.1.2): a polling client sends back the
 * `ETag` it was given as `If-None-Match` and gets a `304` without a body while nothing changed.
 * The tag is a digest of the JSON representation itself, so it changes exactly when the answer
 * would. It is weak (`W/`): the guarantee is "the same JSON", and a proxy that compresses the
 * answer (Cloudflare does) would weaken a strong tag anyway.
 */

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

/** The weak entity tag of a JSON text: 128 bits of its SHA-256. */
export async function entityTag(json: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(json));
  return `W/"${base64url(new Uint8Array(digest).slice(0, 16))}"`;
}

/** The opaque part of a tag, for the weak comparison If-None-Match uses (§8.8.3.2). */
function opaque(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}

/**
 * Whether `ifNoneMatch` (the header's value, if sent) matches the current tag: `*` matches
 * whatever representation exists, and a list matches if one of its tags does (weak comparison).
 */
export function noneMatchHits(ifNoneMatch: string | undefined, tag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const current = opaque(tag);
  return ifNoneMatch.split(',').some((candidate) => opaque(candidate) === current);
}
