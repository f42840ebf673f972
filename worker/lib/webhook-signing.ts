/**
 * Signing of outbound webhook deliveries (docs/webhooks.md): `X-Omni-Signature:
 * t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with the UTF-8 bytes of the
 * subscription's secret. The receiver recomputes it and refuses a `t` outside its replay window.
 */

/** How old a signature a receiver should accept, as documented. */
export const REPLAY_WINDOW_SECONDS = 300;

/** A new subscription secret: `whsec_` and 32 random bytes in hex. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${toHex(bytes)}`;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The hex HMAC-SHA256 of `<timestamp>.<body>` with `secret`. */
export async function webhookSignature(
  secret: string,
  timestamp: number,
  body: string,
): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(`${timestamp}.${body}`));
  return toHex(new Uint8Array(mac));
}

/** The `X-Omni-Signature` header value for `body` sent at `timestamp` (Unix seconds). */
export async function signatureHeader(
  secret: string,
  timestamp: number,
  body: string,
): Promise<string> {
  return `t=${timestamp},v1=${await webhookSignature(secret, timestamp, body)}`;
}

/** A short, stable id derived from `parts`: the same event or delivery always gets the same id. */
export async function derivedId(prefix: string, ...parts: string[]): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(parts.join('\n')));
  return `${prefix}${toHex(new Uint8Array(digest)).slice(0, 32)}`;
}
