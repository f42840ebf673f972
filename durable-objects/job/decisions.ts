/**
 * What the Job DO does next, as pure functions of its stored state and the clock. The DO's entry
 * points only carry these decisions out, so the lifecycle is tested here without a runtime.
 */
import { isFinalStatus } from '../../worker/domain/jobs.ts';
import { agentVerdict } from './agents/job-output.ts';
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
export function deadlineOf(state: Pick<JobState, 'createdAt' | 'timeoutSeconds'>): number {
  return state.createdAt + state.timeoutSeconds * 1000;
}

export function isTerminal(state: Pick<JobState, 'status'>): boolean {
  return isFinalStatus(state.status);
}

/** Failed attempts to delete a sandbox before giving up (and logging it). */
const MAX_CLEANUP_ATTEMPTS = 12;

/**
 * Failed runs of a deadline's handler before it is given up (and logged), or null: retried with
 * capped backoff for as long as it takes. A job's final D1 row, the return of its tenant's slot
 * the deletion of its expired output and its final ledger must all happen, however long their
 * store was down; watchers are checked against revocation for as long as they stay connected,
 * budgets for as long as the job runs, and GitHub told of the job's changes.
 */
export function deadlineAttemptLimit(kind: DeadlineKind): number | null {
  return kind === 'sync' ||
    kind === 'release' ||
    kind === 'retention' ||
    kind === 'standing' ||
    kind === 'budget' ||
    kind === 'ledger' ||
    kind === 'webhook' ||
    // The push bounds its own attempts, and then records its failure (runner.ts).
    kind === 'push'
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

/** Output bytes (UTF-8) kept per job; beyond this the log says it was truncated. */
export const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** The largest `data` of one stdout/stderr event, in UTF-8 bytes; bigger chunks are split. */
export const MAX_EVENT_BYTES = 16 * 1024;

/**
 * Where the not-yet-stored part of a piece of output starts. `seenBefore` is how many bytes of
 * this stream the current log connection delivered before the piece; `stored` is how many are
 * already stored. A re-attached log replays from the start, so everything below `stored` is a
 * duplicate.
 */
export function unseenFrom(seenBefore: number, stored: number): number {
  return Math.max(0, stored - seenBefore);
}

/**
 * How long to wait before retry `attempt` (1, 2, …): exponential from 1 s, capped at `capMs`,
 * with full jitter (`random` in [0, 1)) so that jobs failing together do not retry together.
 * Never less than the server's `Retry-After`.
 */
export function backoffMs(
  attempt: number,
  random: number,
  capMs = 60_000,
  retryAfterMs = 0,
): number {
  const ceiling = Math.min(capMs, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.max(retryAfterMs, Math.round(ceiling / 2 + (random * ceiling) / 2));
}

/**
 * When a step that failed with a transient error runs again, or null to give up: the retry
 * budget (counted from the first failure) or the job's deadline would be over by then.
 */
export function retryAt(
  state: JobState,
  failingSince: number,
  now: number,
  budgetMs: number,
  delayMs: number,
): number | null {
  const at = now + delayMs;
  if (at - failingSince > budgetMs || at >= deadlineOf(state)) return null;
  return at;
}

/** The time a single Daytona call may take now: its cap, cut short by the job's deadline. */
export function callBudgetMs(state: JobState, now: number, capMs: number): number {
  return Math.max(0, Math.min(capMs, deadlineOf(state) - now));
}

/**
 * Whether a job whose sandbox or command has been missing (or its sandbox stopped) since
 * `missingSince` is stalled: only once that lasted the whole stall window, so one bad answer
 * never ends a job. A job that is merely quiet is never missing.
 */
export function isStalled(missingSince: number | null, now: number, windowMs: number): boolean {
  return missingSince !== null && now - missingSince >= windowMs;
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

/**
 * How a job ends once its command exited with `exitCode`: an agent job as its adapter judges
 * the CLI's result line (even when the CLI exits with 1), a command by its exit code.
 */
export function exitOutcome(
  state: JobState,
  exitCode: number,
): Pick<JobState, 'status' | 'errorCode' | 'errorMessage'> {
  return agentVerdict(state, exitCode) ?? commandOutcome(exitCode);
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

/** How a step that could not be completed ends the job, in words the user can act on. */
export function stepFailure(
  step: Step,
  state: JobState,
  error: string,
  retriedSeconds: number | null,
): Pick<JobState, 'status' | 'errorCode' | 'errorMessage'> {
  const reason = error + (retriedSeconds === null ? '' : ` (retried for ${retriedSeconds} s)`);
  switch (step) {
    case 'provision':
      return {
        status: 'failed',
        errorCode: 'sandbox_create_failed',
        errorMessage: `Could not create the sandbox: ${reason}`,
      };
    case 'clone':
      return {
        status: 'failed',
        errorCode: 'clone_failed',
        errorMessage: `Could not clone ${state.repoUrl}${state.repoRef ? ` at ${state.repoRef}` : ''}: ${reason}`,
      };
    default:
      return {
        status: 'failed',
        errorCode: 'sandbox_error',
        errorMessage: `The sandbox failed: ${reason}`,
      };
  }
}
