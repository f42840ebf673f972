/**
 * The job vocabulary, shared by the Worker (D1 schema, API schemas, routes) and the Durable
 * Objects: the statuses a job goes through, the kinds of event in its log, and the codes a job can
 * end with. It imports nothing, so every layer can depend on it and it depends on none.
 */

/** Every status a job can be in, in lifecycle order; the last four are final. */
export const jobStatuses = [
  'queued',
  'provisioning',
  'cloning',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'canceled',
] as const;
export type JobStatus = (typeof jobStatuses)[number];

/** Statuses after which a job never changes again. */
const finalStatuses: ReadonlySet<JobStatus> = new Set([
  'succeeded',
  'failed',
  'timed_out',
  'canceled',
]);

/** True once a job has ended: nothing about it changes any more. */
export function isFinalStatus(status: JobStatus): boolean {
  return finalStatuses.has(status);
}

/**
 * The kinds of entry in a job's event log: `status` changes, `stdout`/`stderr` output, the
 * command's `exit`, `truncated` once the output cap was reached, and `agent`: one typed event of
 * an agent job's CLI (its session, text, tool calls and results, retries, result), parsed from
 * its stdout next to the raw output (durable-objects/job/agents/).
 */
export const jobEventTypes = ['status', 'stdout', 'stderr', 'exit', 'truncated', 'agent'] as const;
export type JobEventType = (typeof jobEventTypes)[number];

/** Why a job did not succeed: its `error.code`. */
export const jobErrorCodes = [
  /** The command exited with a non-zero code. */
  'command_failed',
  /** Daytona could not create (or hand back) the sandbox. */
  'sandbox_create_failed',
  /** The repository could not be cloned. */
  'clone_failed',
  /** The sandbox failed while the command was being started or followed. */
  'sandbox_error',
  /** Someone canceled the job. */
  'canceled',
  /** The job ran past its time limit. */
  'timeout',
  /** The sandbox or the command vanished (or the sandbox stopped) without an exit code. */
  'stalled',
  /** A secret the job's `env` refers to was deleted before the command started. */
  'secret_missing',
  /** The agent's API calls failed: a rejected key, or errors that outlasted the CLI's retries. */
  'agent_api_error',
  /** The agent used up its `max_turns`. */
  'agent_max_turns',
  /** The agent reached its `max_budget_usd`. */
  'agent_max_budget',
  /** The agent CLI reported another error (during execution, or a reason Omni does not know). */
  'agent_error',
  /** The agent CLI exited without reporting a result. */
  'agent_no_result',
  /** A budget was reached while the job ran: its own cap, its project's or its tenant's. */
  'budget_exceeded',
] as const;
export type JobErrorCode = (typeof jobErrorCodes)[number];

/** What a job runs: a shell command, or a coding agent CLI (durable-objects/job/agents/). */
export const jobKinds = ['command', 'agent'] as const;
export type JobKind = (typeof jobKinds)[number];
