/**
 * The CLI's failures and its exit codes. A failure prints one short message (for an API error:
 * the problem's `detail` and its request id), never a stack.
 *
 * Exit codes: 0 the job succeeded; the job's own exit code when its command exited non-zero;
 * 1 a usage error (bad arguments, not logged in); 2 the API refused or could not be reached;
 * 124 the job timed out; 125 it failed without an exit code of its command (a clone, the
 * sandbox, the agent); 130 it was canceled, or omni was interrupted and detached from it.
 */

export const EXIT_USAGE = 1;
export const EXIT_API = 2;
export const EXIT_TIMED_OUT = 124;
export const EXIT_FAILED = 125;
export const EXIT_INTERRUPTED = 130;

/** A failure the CLI reports as one message and an exit code. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** The command cannot run as asked: bad arguments, or no credentials. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** The API answered with a problem, or could not be reached. */
export class ApiFailure extends CliError {
  readonly status: number | null;
  readonly requestId: string | null;

  constructor(message: string, status: number | null, requestId: string | null) {
    super(message, EXIT_API);
    this.name = 'ApiFailure';
    this.status = status;
    this.requestId = requestId;
  }
}

/** The lines `omni` prints to stderr for `error`. */
export function describeFailure(error: unknown): { lines: string[]; exitCode: number } {
  if (error instanceof ApiFailure) {
    const lines = [`omni: ${error.message}`];
    if (error.requestId) lines.push(`omni: request id ${error.requestId}`);
    return { lines, exitCode: error.exitCode };
  }
  if (error instanceof CliError)
    return { lines: [`omni: ${error.message}`], exitCode: error.exitCode };
  const message = error instanceof Error ? error.message : String(error);
  return { lines: [`omni: ${message}`], exitCode: EXIT_API };
}
