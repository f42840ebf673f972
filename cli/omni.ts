#!/usr/bin/env node
/**
 * `omni`, the command line of the Omni API: login, run (a command or an agent, streamed live),
 * jobs, logs, cancel, usage. Run by Node 22.18+ (TypeScript types stripped as it loads), as
 * `npx omni` in this repository. Exit codes: cli/errors.ts and docs/cli.md.
 */
import { Command, CommanderError } from 'commander';
import { describeFailure, EXIT_USAGE } from './errors.ts';
import { registerJobs } from './jobs.ts';
import { registerLogin } from './login.ts';
import { registerLogs } from './logs.ts';
import { registerRun } from './run.ts';
import { registerUsage } from './usage.ts';

/** Resolves once everything written to `stream` has been handed to the system. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const exit = (value: number) => {
    code = value;
  };
  const program = new Command()
    .name('omni')
    .description('Run jobs on Omni and watch them live.')
    .version('0.1.0')
    .showHelpAfterError('(omni --help lists the commands; omni <command> --help explains one)')
    .exitOverride();
  registerLogin(program, exit);
  registerRun(program, exit);
  registerJobs(program, exit);
  registerLogs(program, exit);
  registerUsage(program, exit);
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    // Commander has printed its own message (or the help, or the version) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    if (process.env.OMNI_DEBUG) console.error(error);
    const { lines, exitCode } = describeFailure(error);
    process.stderr.write(`${lines.join('\n')}\n`);
    return exitCode;
  }
}

// A reader that went away (`omni logs … | head`) is no error to report: stop quietly, with the
// exit status of a process killed by SIGPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(141);
    throw error;
  });
}

// Whatever escapes is still one line, not a stack (OMNI_DEBUG=1 shows the stack).
const fail = (error: unknown) => {
  if (process.env.OMNI_DEBUG) console.error(error);
  const { lines, exitCode } = describeFailure(error);
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(exitCode);
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

const code = await main(process.argv);
await Promise.all([drained(process.stdout), drained(process.stderr)]);
// The event loop may hold a closing WebSocket for seconds (wrangler dev lingers after a close):
// the job has ended and everything is written, so leave now.
process.exit(code);
