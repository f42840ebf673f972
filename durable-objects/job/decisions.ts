/**
 * What the Job DO does next, as pure functions of its stored state and the clock. The DO's entry
 * points only carry these decisions out, so the lifecycle is tested here without a runtime.
 */
import { isFinalStatus } from '../../worker/domain/jobs.ts';
import type { JobState } from './state.ts';
import type { DeadlineKind } from './storage.ts';

/** The next step of the lifecycle for a job in `state`. */
export type Step = 'provision' | 'clone' | 'start_command' | 'follow' | 'none';

export function nextStep(state: JobState, now: number): Step {
  // Past the deadline nothing more is started: the timeout deadline ends the job.
  if (now >= deadlineOf(state)) return 'none';
  switch (state.status) {
    case 'queued':
      // A queued job waits until its tenant has a free running slot.
      return state.slotGranted ? 'provision' : 'none';
    case 'provisioning':
      return 'provision';
    case 'cloning':
      return 'clone';
    case 'running':
      return state.cmdId === null ? 'start_command' : 'follow';
    default:
      return 'none';
  }
}

/** When the job must have ended, in Unix milliseconds. */
function deadlineOf(state: Pick<JobState, 'createdAt' | 'timeoutSeconds'>): number {
  return state.createdAt + state.timeoutSeconds * 1000;
}

export function isTerminal(state: Pick<JobState, 'status'>): boolean {
  return isFinalStatus(state.status);
}

/** Failed attempts of one step before the job is failed. */
export const MAX_STEP_ATTEMPTS = 5;
/** Failed attempts to delete a sandbox before giving up (and logging it). */
const MAX_CLEANUP_ATTEMPTS = 12;

/**
 * Failed runs of a deadline's handler before it is given up (and logged), or null: retried with
 * capped backoff for as long as it takes. A job's final D1 row, the return of its tenant's slot
 * and the deletion of its expired output must all happen, however long their store was down.
 */
export function deadlineAttemptLimit(kind: DeadlineKind): number | null {
  return kind === 'sync' || kind === 'release' || kind === 'retention'
    ? null
    : MAX_CLEANUP_ATTEMPTS;
}

/** Exponential backoff with a cap: 1 s, 2 s, 4 s, … up to 5 minutes. */
export function retryDelayMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), 5 * 60_000);
}

/** The longest one alarm run follows a command's log before handing over to a fresh alarm. */
export const FOLLOW_SLICE_MS = 5 * 60_000;

/** When to stop following the log in this alarm run: the slice end or the job deadline. */
export function followUntil(state: JobState, now: number): number {
  return Math.min(now + FOLLOW_SLICE_MS, deadlineOf(state));
}

/** Daytona's auto-stop interval (minutes): a safety net well past the job's own deadline. */
export function autoStopMinutes(timeoutSeconds: number): number {
  return Math.ceil(timeoutSeconds / 60) + 15;
}

/** Output characters kept per job; beyond this the log says it was truncated. */
export const MAX_OUTPUT_CHARS = 16 * 1024 * 1024;
/** The largest `data` of one stdout/stderr event; bigger chunks are split. */
const MAX_EVENT_CHARS = 16 * 1024;

/**
 * The part of a chunk not stored yet. `seenBefore` is how many characters of this stream the
 * current log connection delivered before the chunk; `offset` is how many are already stored.
 * A re-attached log replays from the start, so everything below `offset` is a duplicate.
 */
export function unseenPart(chunk: string, seenBefore: number, offset: number): string {
  const skip = offset - seenBefore;
  if (skip <= 0) return chunk;
  return skip >= chunk.length ? '' : chunk.slice(skip);
}

/** Splits output into pieces of at most `max` characters. */
export function splitChunk(chunk: string, max = MAX_EVENT_CHARS): string[] {
  const parts: string[] = [];
  for (let i = 0; i < chunk.length; i += max) parts.push(chunk.slice(i, i + max));
  return parts;
}

/**
 * The longest prefix of `items` whose sizes add up to at most `budget` (at least one item, so
 * that a reader always makes progress). Items are pulled one at a time and pulling stops at the
 * first that does not fit: from a lazy source (a SQL cursor), at most one item more than
 * returned is ever read.
 */
export function fitInBudget<E>(
  items: Iterable<E>,
  budget: number,
  sizeOf: (item: E) => number,
): E[] {
  let used = 0;
  const kept: E[] = [];
  for (const item of items) {
    used += sizeOf(item);
    if (kept.length > 0 && used > budget) break;
    kept.push(item);
  }
  return kept;
}

/** How a failed command or step ends the job. */
export function commandOutcome(
  exitCode: number,
): Pick<JobState, 'status' | 'errorCode' | 'errorMessage'> {
  return exitCode === 0
    ? { status: 'succeeded', errorCode: null, errorMessage: null }
    : {
        status: 'failed',
        errorCode: 'command_failed',
        errorMessage: `The command exited with code ${exitCode}.`,
      };
}
