/**
 * What happens after a webhook delivery attempt: a pure function of the attempt's outcome, the
 * attempts made and the clock (docs/webhooks.md, "Retries").
 */

/** Attempts a delivery gets before it is marked failed. */
export const MAX_DELIVERY_ATTEMPTS = 10;

/** The longest one attempt may take before it counts as failed. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** How an attempt ended: the receiver's status code, or null if no answer came. */
export type AttemptOutcome = { statusCode: number | null };

/** What to record after an attempt. */
export type NextStep =
  | { status: 'delivered' }
  | { status: 'failed'; disable: boolean }
  | { status: 'pending'; nextAttemptAt: number };

/**
 * 2xx: delivered. 410 Gone: the receiver asks to stop; the delivery fails and its subscription is
 * disabled. Everything else (other codes, redirects, timeouts, network errors) is retried after
 * base × 2^(attempts − 1) — 1, 2, 4, … 256 minutes with the default base of 60 s, about 8.5 hours
 * between the first and the tenth attempt, 17 hours in all — until MAX_DELIVERY_ATTEMPTS.
 */
export function nextStep(
  outcome: AttemptOutcome,
  attempts: number,
  now: number,
  baseMs: number,
): NextStep {
  const code = outcome.statusCode;
  if (code !== null && code >= 200 && code < 300) return { status: 'delivered' };
  if (code === 410) return { status: 'failed', disable: true };
  if (attempts >= MAX_DELIVERY_ATTEMPTS) return { status: 'failed', disable: false };
  return { status: 'pending', nextAttemptAt: now + baseMs * 2 ** Math.max(0, attempts - 1) };
}
