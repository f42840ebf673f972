/**
 * When GitHubAppDO tries a stored item again: backoff after each failure, GitHub's own wait when
 * it names one, and the point where it gives up (a day, or {@link MAX_ATTEMPTS} failures).
 * Pure functions of the item's counters and the clock.
 */

/** Items one alarm run works through; the next run, at once, takes the rest. */
export const ITEMS_PER_ALARM = 10;
/** Failures of one item before it is recorded as failed. */
export const MAX_ATTEMPTS = 12;
/** How long an item is tried, from its arrival, before it is recorded as failed. */
export const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;
/** The first retry's delay; each further one doubles it, up to {@link MAX_DELAY_MS}. */
export const FIRST_DELAY_MS = 2_000;
export const MAX_DELAY_MS = 60 * 60_000;
/** How soon an item waiting on another one (a job's check run not yet created) looks again. */
export const WAIT_DELAY_MS = 1_000;
/** Finished items are kept this long (a repeated intake or update finds them), then deleted. */
export const KEEP_FINISHED_MS = 24 * 60 * 60_000;

/** What to do with an item after a failed attempt. */
export type RetryDecision = { kind: 'retry'; at: number } | { kind: 'give_up' };

/**
 * After the `attempts`-th failure (1 for the first) of an item that arrived at `firstAt`: retry
 * after a doubling delay, no sooner than GitHub asked (`retryAfterSeconds`), or give up.
 */
export function afterFailure(
  attempts: number,
  firstAt: number,
  now: number,
  retryAfterSeconds: number | null = null,
): RetryDecision {
  if (attempts >= MAX_ATTEMPTS) return { kind: 'give_up' };
  const backoff = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  const asked = retryAfterSeconds === null ? 0 : Math.min(MAX_DELAY_MS, retryAfterSeconds * 1000);
  const at = now + Math.max(backoff, asked);
  if (at > firstAt + GIVE_UP_AFTER_MS) return { kind: 'give_up' };
  return { kind: 'retry', at };
}

/** When an item that waits on another one looks again, or null once it has waited too long. */
export function afterWaiting(firstAt: number, now: number): number | null {
  const at = now + WAIT_DELAY_MS;
  return at > firstAt + GIVE_UP_AFTER_MS ? null : at;
}
