/**
 * How a job's end becomes `omni`'s exit code and its one-line reason (the scheme is in
 * cli/errors.ts and docs/cli.md).
 */
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TIMED_OUT } from './errors.ts';

/** How a job ended: its final status, its command's exit code, its error and its cost. */
export interface Ending {
  status: string;
  exitCode: number | null;
  error: { code: string; message: string } | null;
  costUsd: number | null;
}

/** The exit code for a job in `status` (null while it has not ended). */
export function exitCodeOf(ending: Pick<Ending, 'status' | 'exitCode'>): number | null {
  switch (ending.status) {
    case 'succeeded':
      return 0;
    case 'failed':
      // A command that exited non-zero gives its own code; every other failure (a clone, the
      // sandbox, an agent's outcome) has none of its own.
      return ending.exitCode !== null && ending.exitCode > 0 && ending.exitCode < 256
        ? ending.exitCode
        : EXIT_FAILED;
    case 'timed_out':
      return EXIT_TIMED_OUT;
    case 'canceled':
      return EXIT_INTERRUPTED;
    default:
      return null;
  }
}

/** The line printed to stderr for a job that did not succeed (null when it did). */
export function reasonOf(jobId: string, ending: Ending): string | null {
  if (ending.status === 'succeeded') return null;
  const error = ending.error ? `: ${ending.error.message} (${ending.error.code})` : '';
  if (ending.status === 'failed' && ending.error?.code === 'command_failed') {
    return `omni: job ${jobId} failed: its command exited with ${String(ending.exitCode)}`;
  }
  return `omni: job ${jobId} ${ending.status.replace('_', ' ')}${error}`;
}
