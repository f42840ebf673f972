/**
 * Removes credentials from text that leaves the Worker in a log line or an error report: API
 * keys, JWTs (stream tokens are JWTs), bearer and basic credentials, token query parameters, and
 * the values of the Worker's own secret bindings. Used by log.ts (error messages, which may
 * quote an upstream answer) and sentry.ts (every string of an event).
 */

const REDACTED = '[redacted]';

/** Names of bindings whose values are secrets. */
const SECRET_BINDING = /key|secret|token|password|dsn/i;

/** Shorter values are not scrubbed: they would match ordinary text. */
const MIN_SECRET_LENGTH = 8;

const cache = new WeakMap<object, string[]>();

/**
 * The values of `env`'s secret bindings (and of the members of a JSON key ring such as
 * SECRETS_KEYS), longest first, so that one containing another is removed whole. Computed once
 * per bindings object.
 */
export function secretValues(env: object): string[] {
  const known = cache.get(env);
  if (known) return known;
  const values: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string' || !SECRET_BINDING.test(name)) continue;
    values.push(value);
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'object' && parsed !== null) {
        for (const member of Object.values(parsed)) {
          if (typeof member === 'string') values.push(member);
        }
      }
    } catch {
      // Not JSON: the value alone is the secret.
    }
  }
  const sorted = values
    .filter((v) => v.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  cache.set(env, sorted);
  return sorted;
}

/** `text` with credentials and the given secret values replaced by `[redacted]`. */
export function scrubText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  return out
    .replace(/omni_[A-Za-z0-9]{6,}/g, 'omni_' + REDACTED)
    .replace(/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g, REDACTED)
    .replace(/\b(Bearer|Basic)\s+[^\s"',;]+/gi, `$1 ${REDACTED}`)
    .replace(
      /([?&#](?:token|access_token|api_key|key|sig|signature|code|secret)=)[^&#\s"']*/gi,
      `$1${REDACTED}`,
    );
}
