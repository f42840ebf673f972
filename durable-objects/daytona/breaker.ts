/**
 * The circuit breaker's decisions, as pure functions of its state and the clock. When Daytona
 * keeps failing, creating more sandboxes only adds load to an outage and fails jobs one by one;
 * instead the breaker opens, new jobs wait `queued`, and after a cool-down one job is let through
 * as a probe: its success closes the breaker, its failure opens it again for longer.
 */

/** Consecutive transient create failures that open the breaker. */
export const FAILURES_TO_OPEN = 5;
/** The first cool-down; each failed probe doubles it, up to MAX_COOL_DOWN_MS. */
export const FIRST_COOL_DOWN_MS = 15_000;
const MAX_COOL_DOWN_MS = 5 * 60_000;
/** A probe that never reports back frees the half-open slot after this long. */
const PROBE_TIMEOUT_MS = 5 * 60_000;

export interface BreakerState {
  /** Transient failures in a row since the last success. */
  failures: number;
  /** While open: when the next probe may go; null when closed. */
  openUntil: number | null;
  /** The current cool-down, doubled by every failed probe. */
  coolDownMs: number;
  /** When the probe in flight was let through, or null. */
  probeSince: number | null;
}

export const closedBreaker: BreakerState = {
  failures: 0,
  openUntil: null,
  coolDownMs: FIRST_COOL_DOWN_MS,
  probeSince: null,
};

/** What a job about to create a sandbox is told. */
type Admission = { go: true } | { go: false; retryAt: number };

/** Whether a job may create a sandbox now; a half-open breaker lets one probe through. */
export function admit(
  state: BreakerState,
  now: number,
): { admission: Admission; next: BreakerState } {
  if (state.openUntil === null) return { admission: { go: true }, next: state };
  if (now < state.openUntil) {
    return { admission: { go: false, retryAt: state.openUntil }, next: state };
  }
  const probing = state.probeSince !== null && now - state.probeSince < PROBE_TIMEOUT_MS;
  if (probing) return { admission: { go: false, retryAt: now + FIRST_COOL_DOWN_MS }, next: state };
  return { admission: { go: true }, next: { ...state, probeSince: now } };
}

/** The state after a create call answered (`ok`) or failed transiently. */
export function report(state: BreakerState, ok: boolean, now: number): BreakerState {
  if (ok) return closedBreaker;
  const failures = state.failures + 1;
  if (state.openUntil !== null && state.probeSince !== null) {
    // The probe failed: open again, for longer.
    const coolDownMs = Math.min(MAX_COOL_DOWN_MS, state.coolDownMs * 2);
    return { failures, openUntil: now + coolDownMs, coolDownMs, probeSince: null };
  }
  if (state.openUntil === null && failures >= FAILURES_TO_OPEN) {
    return {
      failures,
      openUntil: now + state.coolDownMs,
      coolDownMs: state.coolDownMs,
      probeSince: null,
    };
  }
  return { ...state, failures };
}
